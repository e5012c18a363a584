"""Japanese names in kanji and kana read as a Japanese passport spells them (Hepburn, MOFA's
rules), and matched through that reading."""

from __future__ import annotations

from typing import Any

import pytest

from failsafe.matching import DEFAULT_THRESHOLD, WatchlistIndex, compare_names
from failsafe.matching.japanese import japanese_readings, kana_romaji


@pytest.mark.parametrize(("kana", "romaji"), [
    ("ヤマダ", "YAMADA"),
    ("しゃしん", "SHASHIN"),  # hiragana is read as katakana; SHA
    ("キョウコ", "KYOKO"),  # KYO, and OU is one O
    ("オオノ", "ONO"),  # OO is one O
    ("ユウキ", "YUKI"),  # UU is one U
    ("ケイコ", "KEIKO"),  # EI stays
    ("タロー", "TARO"),  # the long-vowel mark is dropped
    ("ホンマ", "HOMMA"),  # N before M, B, P is M
    ("サンペイ", "SAMPEI"),
    ("ジュンイチ", "JUNICHI"),
    ("ホッカイドウ", "HOKKAIDO"),  # the small tsu doubles the consonant
    ("マッチャ", "MATCHA"),  # ... TCH before CH
    ("ファ", "FA"),  # a small vowel replaces the vowel before it
    ("チヂミ", "CHIJIMI"),
])
def test_kana_is_read_the_passport_way(kana: str, romaji: str) -> None:
    assert kana_romaji(kana) == romaji


def test_not_kana_has_no_reading() -> None:
    assert kana_romaji("山田") is None
    assert kana_romaji("YAMADA") is None


@pytest.mark.parametrize(("name", "readings"), [
    ("山田太郎", ("YAMADA TARO",)),  # no space: split where the two names are most common
    ("田中 花子", ("TANAKA HANAKO",)),
    ("花子 田中", ("TANAKA HANAKO",)),  # the given name first, the Western way
    ("大野翔太", ("ONO SHOTA",)),
    ("本間恵子", ("HOMMA KEIKO",)),
    ("佐々木慶太郎", ("SASAKI KEITARO",)),  # the iteration mark
    ("佐藤健", ("SATO KEN", "SATO TAKESHI")),  # two common readings, the commoner first
    ("山田たろう", ("YAMADA TARO",)),  # kana in a name
    ("しんいち", ("SHINICHI",)),  # kana alone: one name, not split
    ("山田", ("YAMADA",)),
    ("バラク・オバマ", ("BARAKU OBAMA",)),  # a foreign name in katakana, words as written
    ("ジャン＝クロード・ユンケル", ("JAN KURODO YUNKERU",)),
])
def test_japanese_names_are_read(name: str, readings: tuple[str, ...]) -> None:
    assert japanese_readings(name) == readings


@pytest.mark.parametrize("name", [
    "YAMADA TARO", "Иван Петров", "محمد علي",
    "王伟",  # simplified Chinese: 伟 is not in the Japanese table
    "山田 太郎 花子",  # three parts, not all kana
    "山田X", "",
    "山" * 100_000,  # not a person's name: not split (that would take minutes)
])
def test_other_names_have_no_japanese_reading(name: str) -> None:
    assert japanese_readings(name) == ()


def test_cross_script_pairs_match() -> None:
    assert compare_names("山田太郎", "Yamada Taro") >= DEFAULT_THRESHOLD
    assert compare_names("Tanaka Hanako", "田中花子") >= DEFAULT_THRESHOLD
    assert compare_names("山田太郎", "Tanaka Hanako") < DEFAULT_THRESHOLD
    assert compare_names("Barack Obama", "バラク・オバマ") >= DEFAULT_THRESHOLD


def _entry(eid: str, original: str, **subject: Any) -> dict[str, Any]:
    return {"id": eid, "subject": {"name_original": original, "date_of_birth": "1970-03-14",
                                   **subject}}


def _found(ix: WatchlistIndex, **traveller: Any) -> set[str]:
    return {m.entry_id for m in ix.screen({"event_id": "ev", "traveller": {
        "date_of_birth": "1970-03-14", **traveller}})}


def test_a_listed_kanji_name_is_found_by_its_passport_spelling() -> None:
    ix = WatchlistIndex()
    ix.add_many([
        _entry("jp", "山田太郎", nationalities=["JPN"]),
        _entry("any", "田中花子"),  # no nationality: read every way
        _entry("cn", "山田太郎", nationalities=["CHN"]),  # a Chinese name is not read so
    ])
    assert _found(ix, surname="YAMADA", given_names="TARO") == {"jp"}
    assert _found(ix, full_name="TANAKA HANAKO") == {"any"}
    assert _found(ix, surname="YAMADA", given_names="HANAKO") == set()


def test_a_travellers_kanji_name_is_read_for_a_japanese_traveller() -> None:
    ix = WatchlistIndex()
    ix.add_many([{"id": "e1", "subject": {"surname": "TANAKA", "given_names": "HANAKO",
                                          "date_of_birth": "1970-03-14"}}])
    assert _found(ix, name_original="田中花子", nationality="JPN") == {"e1"}
    assert _found(ix, name_original="田中花子", nationality="CHN") == set()
