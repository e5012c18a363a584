"""Name normalisation word by word (`normalize._word_tokens`, cached per word) gives exactly
the tokens of the whole-name pipeline it replaced, for any text: the reference below is that
pipeline as it was, and hypothesis feeds both every kind of character a name may carry."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from failsafe.matching import normalize as nz
from failsafe.matching.normalize import name_tokens, name_tokens_with_repeats, unfolded_tokens


def _reference(value: str, digraphs: bool, dedup: bool = True) -> tuple[str, ...]:
    # The whole-name pipeline before the word-by-word cache (normalize.py at e08ff99).
    if not value:
        return ()
    text = nz.clean_text(value).replace("<", " ")
    text = nz._split_last_first(text)
    text, abjad = nz._romanise(text)
    text = nz._APOSTROPHES.sub("", text)
    text = nz._CAMEL.sub(" ", text)
    text = text.translate(nz._DIGIT_FOLD)
    raw = nz._NON_LETTER.sub(" ", text).upper().split()
    tokens = [nz.fold_token(t, digraphs) for t in raw]
    kept = [t for t in tokens if t not in nz.HONORIFICS]
    if kept:
        tokens = kept
    if abjad:
        tokens = [t if t in nz.PARTICLES else t.lower() for t in tokens]
    return tuple(dict.fromkeys(tokens)) if dedup else tuple(tokens)


# Pieces that exercise every step: Latin in both cases (camel case), honorifics, particles,
# separators the pipeline treats specially (comma, "<", apostrophes, digits), other scripts
# (Cyrillic, Arabic and Hebrew: abjad; Han, Hangul, kana: syllabic), combining marks, Unicode
# spaces and line separators, control and format characters, full-width forms.
_PIECES = st.sampled_from([
    "IVAN", "Petrov", "McDonald", "dArtagnan", "MR", "Dr.", "SHEIKH", "AL", "bin", "EL",
    "MUELLER", "Müller", "SCHAEFER", "AAGE", "YURIY", "O'Brien", "d’Arc", "J0HN", "5MITH",
    "Владимир", "Путин", "Юлия", "محمد", "علي", "ﷺ", "משה", "金正恩", "김정은", "이", "リ",
    "ราชา", "Νικόλαος", "Ａｂｃ", "Văn", "a\u0301", ",", "<", "<<", "-", " ", "  ", "\u3000",
    "\u00a0", "\u2028", "\t", "\n", "\u200b", "\x00", "\u00ad", "'", "`", ".", "1", "2020",
])
_NAMES = st.lists(_PIECES, max_size=8).map("".join) | st.text(max_size=20)


@settings(max_examples=400, deadline=None)
@given(_NAMES)
def test_word_by_word_tokens_equal_the_whole_name_pipeline(value: str) -> None:
    assert name_tokens(value) == _reference(value, True)
    assert name_tokens_with_repeats(value) == _reference(value, True, False)
    unfolded = _reference(value, False)
    assert unfolded_tokens(value) == (None if unfolded == _reference(value, True) else unfolded)


def test_the_cases_that_look_at_the_whole_name() -> None:
    # Comma swap, honorific drop (never to nothing) and abjad lower case span the words.
    assert name_tokens("PUTIN, Vladimir") == ("VLADIMIR", "PUTIN")
    assert name_tokens("Mr Ivan Petrov") == ("IVAN", "PETROV")
    assert name_tokens("Mr Dr") == ("MR", "DR")
    assert name_tokens("AL محمد") == ("AL", "mhmd")
    assert name_tokens_with_repeats("SERGEY SERGEY SHOIGU") == ("SERGEI", "SERGEI", "SHOIGU")


def test_one_cache_entry_serves_both_forms() -> None:
    # `_name_forms`: without a repeat the two forms are one tuple (one object per name in a
    # 100k list, not two); with one, each form is what its definition says.
    assert name_tokens("IVAN PETROV") is name_tokens_with_repeats("IVAN PETROV")
    assert name_tokens("LASZLO LASZLO") == ("LASZLO",)
    assert name_tokens_with_repeats("LASZLO LASZLO") == ("LASZLO", "LASZLO")
    assert name_tokens("") == () == name_tokens_with_repeats("")
