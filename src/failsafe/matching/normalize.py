"""Name, date and document-number normalisation shared by the index and the scorer.

Every name, whatever its script, becomes a tuple of comparison tokens: upper-case ASCII
letters, ICAO Doc 9303 folds applied (so MÜLLER, MUELLER and MULLER compare equal),
honorifics dropped. Tokens that came from a script written without vowels (Arabic, Hebrew,
Thai, Khmer...) are kept in lower case: the scorer compares those on consonant skeletons.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

# Letters that OCR, keyboards and leetspeak put into names.
_DIGIT_FOLD = str.maketrans("0123456789", "OIZEASGTBG")
_NON_LETTER = re.compile(r"[^A-Za-z]+")
_APOSTROPHES = re.compile(r"['`\u2018\u2019\u02bb\u02bc\u02be\u02bf\u00b4]")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

# Scripts whose romanisation loses the vowels: compare those tokens on consonant skeletons.
_ABJAD_RANGES = (
    (0x0590, 0x05FF),  # Hebrew
    (0x0600, 0x06FF),  # Arabic
    (0x0700, 0x074F),  # Syriac
    (0x0750, 0x077F),  # Arabic supplement
    (0x0780, 0x07BF),  # Thaana
    (0x08A0, 0x08FF),  # Arabic extended-A
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1780, 0x17FF),  # Khmer
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms
    (0xFE70, 0xFEFF),  # Arabic presentation forms B
)
# Scripts where anyascii emits one capitalised syllable per character (no spaces).
_SYLLABIC_RANGES = (
    (0x1100, 0x11FF),  # Hangul jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified
    (0xAC00, 0xD7AF),  # Hangul syllables
)

# Revised Romanisation of the commonest Korean surnames → the customary spellings.
_HANGUL_SURNAMES = {
    "Gim": "Kim", "I": "Lee", "Bag": "Park", "Bak": "Park", "Jeong": "Jung", "Choe": "Choi",
    "Jo": "Cho", "Gang": "Kang", "Yun": "Yoon", "Im": "Lim", "O": "Oh", "Sin": "Shin",
    "Gwon": "Kwon", "An": "Ahn", "Ryu": "Yoo", "Go": "Ko", "No": "Noh", "Gu": "Koo",
}

def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


HONORIFICS = _wordset(
    """MR MRS MS MISS MX DR PROF SIR DAME LORD LADY REV FR MONSIEUR MADAME MME MLLE HERR FRAU
    SENOR SENORA SRA SRTA SIG SIGNOR SIGNORA DON DONA SHEIKH SHAIKH SHEIK SHAYKH MULLAH MAULANA
    MAULVI MAWLAWI MAWLAVI MAULAWI MOULVI HAJJI HAJI HADJI HAJ HADJ ALHAJI ALHAJ ALHADJI
    ALHAJJI QARI PRESIDENT PRASIDENT PRESIDENTE GENERAL GEN COL CAPT MAJ LT SGT JR SNR JNR
    ESQ PHD MD"""
)
# Particles carry little identity; the scorer gives them a small weight and no evidence.
# Not LE, LA, DO, DU: they are also among the commonest surnames (Lê, Đỗ, 杜 Du, La). Not BEN
# nor E: an English given name and a middle initial more often than Hebrew "son of" and
# Portuguese "and" (as particles, BEN MCADAMS and E SCOTT RIGELL had no evidence left).
PARTICLES = _wordset(
    """AL EL BIN BINT IBN ABU UMM OULD DE DA DI DEL DELLA DER DEN DOS DAS
    VAN VON Y ST"""
)
# Clan and status words that follow a name (Khan, Beg, Pasha...): real surnames too, so they
# are kept and count when they pair, but a list or a sender that leaves one out costs nothing.
WEAK_TOKENS = _wordset("KHAN BEG BAIG BEGUM BEY PASHA AGHA KHANUM KHANOM")
_PARTICLE_FOLD = {"IBN": "BIN", "EL": "AL", "UL": "AL", "UD": "AL", "UR": "AL"}


def clean_text(value: str) -> str:
    """NFKC-normalise and drop control and format characters (they never belong in a name)."""
    value = unicodedata.normalize("NFKC", value)
    if value.isprintable():
        # No character of category C (or a separator other than the space) to drop or map.
        return value
    return "".join(
        ch if unicodedata.category(ch)[0] != "C" else (" " if ch in "\t\r\n" else "")
        for ch in value
    )


def _in_ranges(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in ranges)


@lru_cache(maxsize=65536)
def _char_latin(ch: str, word_start: bool) -> tuple[str, bool, bool]:
    """(Latin rendering, is a syllable of its own, is from a vowel-less script) of a
    non-ASCII character; cached: a list holds a few thousand distinct characters."""
    if _in_ranges(ch, _SYLLABIC_RANGES):
        syllable = anyascii(ch)
        if word_start and 0xAC00 <= ord(ch) <= 0xD7AF:
            # A Hangul word starts with the surname: use its customary spelling
            # (Kim, Lee, Park), which is what passports and lists carry, not RR's.
            syllable = _HANGUL_SURNAMES.get(syllable, syllable)
        # Revised Romanisation writes eo/eu where McCune-Reischauer (and most
        # passports before 2000, and North Korea) write o/u.
        syllable = (
            syllable.replace("eo", "o").replace("eu", "u").replace("Eo", "O").replace("Eu", "U")
        )
        return syllable, True, False
    return anyascii(ch), False, _in_ranges(ch, _ABJAD_RANGES)


def _romanise(value: str) -> tuple[str, bool]:
    """Latin rendering of `value`, and whether it came from a vowel-less script."""
    if value.isascii():
        return value, False
    abjad = False
    parts: list[str] = []
    prev = " "
    for ch in value:
        word_start = not prev.isalpha()
        prev = ch
        if ch.isascii():
            parts.append(ch)
            continue
        latin, syllable, from_abjad = _char_latin(ch, word_start)
        parts.append(latin)
        if syllable:
            parts.append(" ")
        elif from_abjad:
            abjad = True
    return "".join(parts), abjad


def fold_token(token: str, digraphs: bool = True) -> str:
    """ICAO Doc 9303 folds on an upper-case token: Ä→AE and Ä→A must compare equal, so every
    AE/OE/UE/AA becomes the single vowel on both sides of a comparison (unless `digraphs` is
    false: see `unfolded_tokens`)."""
    if digraphs and len(token) > 3 and ("E" in token or "AA" in token):
        token = token.replace("AE", "A").replace("OE", "O").replace("UE", "U")
        token = token.replace("AA", "A")
    if "Y" in token[1:]:
        # Й, Ы and friends come out as Y, I, J or IY depending on the transliteration table.
        token = token[0] + token[1:].replace("IY", "I").replace("Y", "I")
    return _PARTICLE_FOLD.get(token, token)


@lru_cache(maxsize=262144)
def skeleton(token: str) -> str:
    """Consonant skeleton: what an abjad spelling of the token keeps."""
    out: list[str] = []
    # Arabic script has no P and no V: its spellings of them are B and F.
    for ch in token.upper().replace("P", "B").replace("V", "F"):
        if ch in "AEIOUYW":
            continue
        if out and out[-1] == ch:
            continue
        out.append(ch)
    return "".join(out)


# Spelling alternations of romanisation (one sound, several Latin spellings across
# transliteration systems and languages): Ф → F/PH, В → V/W, Х → KH/H/CH, Ц → TS/C, Ю → YU/IU,
# У → U/OU, Ж/Й → J/Y/I, К → K/C, КС → X/KS, Ш → SH/SCH. Applied in order, on upper-case tokens.
_VARIANT_FOLDS = (
    ("SCH", "SH"), ("PH", "F"), ("TS", "C"), ("TZ", "C"), ("CK", "K"), ("X", "KS"),
    ("C", "K"), ("Q", "K"), ("KH", "H"), ("W", "V"), ("J", "Y"), ("OU", "U"), ("IE", "I"),
)


@lru_cache(maxsize=262144)
def variant_key(token: str) -> str:
    """The token with romanisation alternations folded and doubled letters collapsed:
    two spellings of one name (FEHER/PHEHER, MUN/MOUN, GWON/GVON, YUN/IUN) share it."""
    if not token or token.islower():
        return token
    t = token
    if len(t) > 1 and t[0] == "I" and t[1] in "AEOU":
        t = "Y" + t[1:]  # Iurii / Yurii
    for a, b in _VARIANT_FOLDS:
        if a in t:
            t = t.replace(a, b)
    out: list[str] = []
    for ch in t:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


_GROUPS: dict[str, int] | None = None


def given_name_group(token: str) -> int:
    """Which cross-language given name the token is a form of (`_given_names`), or -1."""
    global _GROUPS
    if _GROUPS is None:
        from failsafe.matching._given_names import GROUPS

        table: dict[str, int] = {}
        for gid, line in enumerate(GROUPS):
            for word in line.split():
                for tok in name_tokens(word):
                    table.setdefault(tok, gid)
        _GROUPS = table
    return _GROUPS.get(token, -1)


def vowel_variant(a: str, b: str) -> bool:
    """Two spellings of one name that differ only in their vowels, as transliterations of
    Arabic and Persian do (BARKAT/BARAKAT, MOWAFI/MAWAFI, KZEMABAD/KAZEMABAD): the same
    consonants in order, the same first and last letter, five letters or more. The last letter
    must agree so that MARIA/MARIO, DANIEL/DANIELA stay different names."""
    return (
        a[0] == b[0] and a[-1] == b[-1] and min(len(a), len(b)) >= 5
        and a != b and skeleton(a) == skeleton(b)
    )


# Korean names are also written in Han characters (hanja): 金正恩 is 김정은, Kim Jong Un,
# while anyascii reads it as Chinese (Jin Zheng En). Nationalities whose Han names are read
# the Korean way:
KOREAN_NATIONALITIES = frozenset({"KOR", "PRK"})
_HANJA: dict[str, str] | None = None
_I_VOWELS = frozenset({2, 3, 6, 7, 12, 17, 20})  # ㅑ ㅒ ㅕ ㅖ ㅛ ㅠ ㅣ


def is_han(ch: str) -> bool:
    """A Han character (CJK ideographs, their extensions and compatibility forms)."""
    code = ord(ch)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF
            or 0x20000 <= code <= 0x2FA1F)


def _initial_sound(syllable: str) -> str:
    """South Korea's initial-sound rule at the start of a word: 리 → 이, 류 → 유, 라 → 나,
    녀 → 여 (李 is Lee, not Ri)."""
    code = ord(syllable) - 0xAC00
    lead, vowel, tail = code // 588, (code % 588) // 28, code % 28
    if lead == 5:  # ㄹ
        lead = 11 if vowel in _I_VOWELS else 2
    elif lead == 2 and vowel in _I_VOWELS:  # ㄴ
        lead = 11
    return chr(0xAC00 + lead * 588 + vowel * 28 + tail)


def korean_reading(value: str) -> str | None:
    """Hangul for a name written only in Han characters (a Korean name in hanja), else None.
    The reading table (Unihan's kHangul) is loaded on the first Han name seen."""
    global _HANJA
    if not value or value.isascii():
        return None
    for ch in value:  # the usual answer, from the first letter (a Cyrillic or Arabic name)
        if not ch.isspace():
            if not is_han(ch):
                return None
            break
    han = [ch for ch in value if not ch.isspace()]
    if not han or not all(is_han(ch) for ch in han):
        return None
    if _HANJA is None:
        from failsafe.matching._hanja import PAIRS

        _HANJA = dict(zip(PAIRS[::2], PAIRS[1::2], strict=True))
    out: list[str] = []
    start = True
    for ch in value:
        if ch.isspace():
            out.append(" ")
            start = True
            continue
        hangul = _HANJA.get(ch)
        if hangul is None:
            return None
        out.append(_initial_sound(hangul) if start else hangul)
        start = False
    return "".join(out)


def _split_last_first(value: str) -> str:
    # "PUTIN, Vladimir" → "Vladimir PUTIN": one comma separates surname from given names.
    if value.count(",") == 1:
        last, first = value.split(",")
        if last.strip() and first.strip():
            return f"{first} {last}"
    return value


def name_tokens(value: str) -> tuple[str, ...]:
    """Comparison tokens of a raw name (any script, any case, MRZ '<' fillers allowed)."""
    # A repeated token adds no identity ("SERGEY SERGEY SHOIGU"). One normalisation serves
    # both forms: the index asks for the repeats of the same display right after.
    return _name_forms(value)[0]


@lru_cache(maxsize=65536)
def unfolded_tokens(value: str) -> tuple[str, ...] | None:
    """The name's tokens without the AE/OE/UE/AA folds, or None when they are the same as
    `name_tokens`. A typo can create a digraph that the fold then removes, two edits from the
    name meant (PATEL typed PTAEL folds to PTAL); the letters as typed are one edit away, so a
    query is compared in both forms."""
    tokens = _name_tokens(value, False)
    return None if tokens == name_tokens(value) else tokens


def name_tokens_with_repeats(value: str) -> tuple[str, ...]:
    """`name_tokens` with repeated tokens kept ("LASZLO LASZLO" stays two tokens). The index
    scores with these: a listed name of a repeated token is a two-token name, so one token of
    a longer traveller name must not match it alone (LASZLO DEAK ~ LASZLO LASZLO)."""
    return _name_forms(value)[1]


@lru_cache(maxsize=262144)
def _name_forms(value: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(`name_tokens`, `name_tokens_with_repeats`) of a name: one cache entry per distinct
    name (a 100k-entry list has over 200,000), and the same tuple twice when no token repeats
    (most names), so the two forms cost one normalisation and one tuple."""
    full = _name_tokens(value, True, False)
    if len(full) < 2 or len(set(full)) == len(full):
        return full, full
    return tuple(dict.fromkeys(full)), full


def _name_tokens(value: str, digraphs: bool, dedup: bool = True) -> tuple[str, ...]:
    if not value:
        return ()
    # Printable ASCII (most names) is what `clean_text` returns unchanged.
    text = value if value.isascii() and value.isprintable() else clean_text(value)
    if "<" in text:
        text = text.replace("<", " ")
    if "," in text:
        text = _split_last_first(text)
    # Word by word (`_word_tokens`, cached): a 100k-entry list has a few hundred thousand
    # distinct names but far fewer distinct words. Every step below the split is local to a
    # word: a space is kept as it is by `_romanise` (and starts a word there as here), no
    # pattern matches across it, and it is a non-letter, so the tokens of the whole are the
    # tokens of the words in order. The steps that look at the whole name (the comma swap
    # above, the honorific drop and the abjad lower case below) stay on the whole.
    word_tokens = _word_tokens if digraphs else _word_tokens_unfolded
    tokens: list[str] = []
    abjad = False
    for word in text.split(" "):
        if word:
            got, word_abjad = word_tokens(word)
            tokens.extend(got)
            if word_abjad:
                abjad = True
    if not HONORIFICS.isdisjoint(tokens):
        kept = [t for t in tokens if t not in HONORIFICS]
        if kept:
            tokens = kept
    if abjad:
        tokens = [t if t in PARTICLES else t.lower() for t in tokens]
    return tuple(dict.fromkeys(tokens)) if dedup else tuple(tokens)


@lru_cache(maxsize=262144)
def _word_tokens(word: str) -> tuple[tuple[str, ...], bool]:
    """The folded upper-case tokens of one space-free piece of a cleaned name, and whether it
    came from a vowel-less script (the caller lower-cases the whole name's tokens then)."""
    return _word_tokens_of(word, True)


@lru_cache(maxsize=65536)
def _word_tokens_unfolded(word: str) -> tuple[tuple[str, ...], bool]:
    """`_word_tokens` without the AE/OE/UE/AA folds (`unfolded_tokens`)."""
    return _word_tokens_of(word, False)


def _word_tokens_of(word: str, digraphs: bool) -> tuple[tuple[str, ...], bool]:
    text, abjad = _romanise(word)
    text = _APOSTROPHES.sub("", text)
    text = _CAMEL.sub(" ", text)
    text = text.translate(_DIGIT_FOLD)
    raw = _NON_LETTER.sub(" ", text).upper().split()
    return tuple(fold_token(t, digraphs) for t in raw), abjad


def display_name(surname: str | None, given_names: str | None, full_name: str | None) -> str:
    """Human-readable name as given (used in explanations only)."""
    if surname or given_names:
        return " ".join(p.strip() for p in (given_names, surname) if p and p.strip())
    return (full_name or "").strip()


_DOC_DROP = re.compile(r"[\s\-./<_]+")


def normalize_document_number(number: str | None) -> str:
    """Document number as compared: upper case, no separators, O→0 and I→1 (and Q→0)."""
    if not number:
        return ""
    number = str(number)
    if not (number.isascii() and number.isalnum()):  # (usually it is: nothing to drop)
        number = _DOC_DROP.sub("", clean_text(number))
    # O->0, I->1, Q->0 (three replaces: 5x faster than `translate` on a short ASCII string).
    return number.upper().replace("O", "0").replace("I", "1").replace("Q", "0")


def normalize_country(code: str | None) -> str:
    if not code:
        return ""
    return _country(code if isinstance(code, str) else str(code))


@lru_cache(maxsize=4096)
def _country(code: str) -> str:
    return code.strip().upper().replace("<", "")


def normalize_sex(value: str | None) -> str:
    if not value:
        return ""
    v = str(value).strip().upper()[:1]
    return v if v in ("M", "F") else ""


_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")

DateParts = tuple[int, int | None, int | None]


def parse_partial_date(value: object) -> DateParts | None:
    """`1974`, `1974-08`, `1974-08-12` (a time part is ignored) → (year, month, day)."""
    if not isinstance(value, str) or not value:
        return None
    return _parse_date(value)


@lru_cache(maxsize=65536)
def _parse_date(value: str) -> DateParts | None:
    m = _DATE.match(value)
    if not m:
        return None
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) and month else None
    if month is not None and not 1 <= month <= 12:
        month, day = None, None
    if day is not None and not 1 <= day <= 31:
        day = None
    return (year, month, day)


def format_partial_date(parts: DateParts | None) -> str | None:
    if parts is None:
        return None
    year, month, day = parts
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"
