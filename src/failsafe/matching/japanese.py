"""Passport readings of Japanese names written in kanji and kana (山田太郎: YAMADA TARO).

A Japanese passport spells the holder's name in Hepburn romaji as the Ministry of Foreign
Affairs prescribes it: long vowels unmarked (大野 ONO, 佐藤 SATO, 太郎 TARO; EI kept: KEIKO),
N written M before B, M and P (本間 HOMMA), a doubled consonant for the small tsu (TCH before
CHI). A list that records only the original script (a notice's `name_original`) is matched
against that spelling through this reading.

Kana are read as they are written (a foreign name in katakana too, word by word: バラク・オバマ,
BARAKU OBAMA, close enough to BARACK OBAMA to pair). Kanji are read from a table of Japanese
surnames and given names with their readings and how common each is (`kanji_names.txt`,
generated from the IPA dictionary's person names by
benchmarks/matching/make_kanji_names_table.py): a name written without a space is split where
the surname and the given name together are most common.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from failsafe.matching.normalize import is_han

JAPANESE_NATIONALITIES = frozenset({"JPN"})

# Katakana -> romaji (hiragana is read as katakana). Small kana and the marks are below.
_KANA = dict(zip(
    "アイウエオカキクケコガギグゲゴサシスセソザジズゼゾタチツテトダヂヅデドナニヌネノ"
    "ハヒフヘホバビブベボパピプペポマミムメモヤユヨラリルレロワヰヱヲンヴ",
    ("A", "I", "U", "E", "O", "KA", "KI", "KU", "KE", "KO", "GA", "GI", "GU", "GE", "GO",
     "SA", "SHI", "SU", "SE", "SO", "ZA", "JI", "ZU", "ZE", "ZO", "TA", "CHI", "TSU", "TE",
     "TO", "DA", "JI", "ZU", "DE", "DO", "NA", "NI", "NU", "NE", "NO", "HA", "HI", "FU", "HE",
     "HO", "BA", "BI", "BU", "BE", "BO", "PA", "PI", "PU", "PE", "PO", "MA", "MI", "MU", "ME",
     "MO", "YA", "YU", "YO", "RA", "RI", "RU", "RE", "RO", "WA", "I", "E", "O", "N", "BU"),
    strict=True,
))
_SMALL_Y = {"ャ": "A", "ュ": "U", "ョ": "O"}  # after an I-row kana: KYA, SHA, CHA, JA
_SMALL_VOWEL = {"ァ": "A", "ィ": "I", "ゥ": "U", "ェ": "E", "ォ": "O"}  # FA, TI, WE
_SOKUON = "ッ"
_CHOON = "ー"
_ITERATION = "々"  # 佐々木: the previous kanji again (part of the table's spellings)
# A foreign name in katakana parts its words with a middle dot (バラク・オバマ) or a double
# hyphen (ジャン＝クロード): read as spaces.
WORD_SEPARATORS = "・＝="
_WORD_BREAKS = str.maketrans(WORD_SEPARATORS, " " * len(WORD_SEPARATORS))


def _katakana(ch: str) -> str:
    code = ord(ch)
    return chr(code + 0x60) if 0x3041 <= code <= 0x3096 else ch


def is_kana(ch: str) -> bool:
    code = ord(ch)
    return 0x3041 <= code <= 0x3096 or 0x30A1 <= code <= 0x30FA or ch == _CHOON


def _is_kanji(ch: str) -> bool:
    return is_han(ch) or ch == _ITERATION


def kana_romaji(kana: str, long_vowels: bool = True) -> str | None:
    """Passport romaji of a name in kana; None when a character is not kana. With
    `long_vowels`, OU, OO and UU are written as one vowel (MOFA's rule; the table's readings
    were shortened by their pronunciation when it was made, `long_vowels=False`)."""
    out: list[str] = []
    double = False
    for raw in kana:
        ch = _katakana(raw)
        if ch == _CHOON:
            continue
        if ch == _SOKUON:
            double = True
            continue
        if ch in _SMALL_Y and out and out[-1].endswith("I") and len(out[-1]) > 1:
            prev = out[-1]
            out[-1] = prev[:-1] + _SMALL_Y[ch] if prev in ("SHI", "CHI", "JI") else \
                prev[:-1] + "Y" + _SMALL_Y[ch]
            continue
        if ch in _SMALL_VOWEL:
            vowel = _SMALL_VOWEL[ch]
            if out and len(out[-1]) > 1:
                out[-1] = out[-1][:-1] + vowel
            else:
                out.append(vowel)
            continue
        syl = _KANA.get(ch)
        if syl is None:
            if ch in _SMALL_Y:
                out.append("Y" + _SMALL_Y[ch])
                continue
            return None
        if long_vowels and out and (
            (syl == "U" and out[-1][-1] in "OU") or (syl == "O" and out[-1][-1] == "O")
        ):
            continue
        if double:
            out.append("T" if syl.startswith("CH") else syl[0])
            double = False
        out.append(syl)
    text = "".join(out)
    # N before B, M or P is written M (HOMMA, SAMPEI).
    for c in "BMP":
        text = text.replace("N" + c, "M" + c)
    return text or None


Readings = dict[str, tuple[tuple[str, int], ...]]
_TABLES: tuple[Readings, Readings] | None = None


def _tables() -> tuple[Readings, Readings]:
    """(surnames, given names): spelling -> ((romaji, cost), ...), most common first. Read
    from `kanji_names.txt` on the first Japanese name seen (~50 ms)."""
    global _TABLES
    if _TABLES is None:
        text = (files("failsafe.matching") / "kanji_names.txt").read_text(encoding="utf-8")
        tables: dict[str, Readings] = {}
        table: Readings = {}
        for line in text.splitlines():
            if line.startswith("["):
                table = tables[line.strip("[]")] = {}
            elif line and not line.startswith("#"):
                spelling, *rest = line.split(" ")
                table[spelling] = tuple(
                    (rest[k], int(rest[k + 1])) for k in range(0, len(rest), 2))
        _TABLES = (tables["surnames"], tables["given names"])
    return _TABLES


# A reading whose name is this much less common (the table's cost, ~ -log frequency) than the
# best one is not offered: 山田 is YAMADA, rarely YAMATA.
_COST_MARGIN = 20
_MAX_READINGS = 2
# Longer is not a person's name (a surname or given name in the table has at most 5): not
# split, not read.
_MAX_CHARS = 16


def _part(text: str, table: Readings) -> tuple[tuple[str, int], ...]:
    if all(is_kana(ch) for ch in text):
        romaji = kana_romaji(text)
        return ((romaji, 0),) if romaji else ()
    return table.get(text, ())


@lru_cache(maxsize=4096)
def japanese_readings(value: str) -> tuple[str, ...]:
    """The passport readings of a name written in kanji and kana ("SURNAME GIVEN", the most
    likely first, at most two; a foreign name in katakana, its words as written), or () when
    it is not such a name or a part has no reading."""
    if value.isascii():
        return ()
    parts = value.translate(_WORD_BREAKS).split()
    if not parts or sum(map(len, parts)) > _MAX_CHARS:
        return ()
    if not all(_is_kanji(ch) or is_kana(ch) for p in parts for ch in p):
        return ()
    if len(parts) > 2:
        # Only a name in kana has more parts (a foreign one): each is read as written.
        if not all(map(is_kana, "".join(parts))):
            return ()
        words = [w for w in map(kana_romaji, parts) if w]
        return (" ".join(words),) if len(words) == len(parts) else ()
    surnames, given = _tables()
    options: list[tuple[int, str]] = []
    if len(parts) == 2:
        # The surname first, as Japanese is written; a list written the Western way has
        # the given name first (the reading is the same name either way: tokens are compared
        # in any order).
        for first, second, extra in ((0, 1, 0), (1, 0, _COST_MARGIN)):
            options.extend((cs + cg + extra, f"{rs} {rg}")
                           for rs, cs in _part(parts[first], surnames)
                           for rg, cg in _part(parts[second], given))
    else:
        word = parts[0]
        # (Kana alone do not show where the names part: they are read as one name.)
        splits = range(1, len(word)) if not all(map(is_kana, word)) else range(0)
        for i in splits:
            options.extend((cs + cg, f"{rs} {rg}") for rs, cs in _part(word[:i], surnames)
                           for rg, cg in _part(word[i:], given))
        if not options:
            # One name alone (a surname or a given name).
            options = [(c, r) for r, c in (*_part(word, surnames), *_part(word, given))]
    if not options:
        return ()
    options.sort()
    best = options[0][0]
    out: dict[tuple[str, ...], str] = {}
    for cost, reading in options:
        if cost > best + _COST_MARGIN or len(out) == _MAX_READINGS:
            break
        # (The same words in the other order are the same name to the matcher.)
        out.setdefault(tuple(sorted(reading.split())), reading)
    return tuple(out.values())
