"""Hostile event messages for the poison and fuzz tests: the seen poison cases, and hypothesis
strategies for messages of the event's shape with hostile values, and for garbage bytes.

Messages are bytes as a sender would put them on the topic. Python's `json` writes them (not
orjson), because it can write what orjson refuses: integers past 64 bits, infinite floats (as
`1e400`), `NaN`, lone surrogates as `\\ud800` escapes; `surrogatepass` even puts them raw into
the bytes.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st


def nested(levels: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


_INF = "\u0001inf\u0001"  # stands for an infinite float while json writes the text


def _mark_infinite(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return _INF if value > 0 else "-" + _INF
    if isinstance(value, dict):
        return {k: _mark_infinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_infinite(v) for v in value]
    return value


def encode(value: Any, *, ascii_only: bool = True) -> bytes:
    """JSON bytes of `value` however hostile (see the module docstring)."""
    # json escapes control characters even when not ASCII-only: the marker is always spelled so.
    text = json.dumps(_mark_infinite(value), ensure_ascii=ascii_only, allow_nan=True)
    text = text.replace('"-\\u0001inf\\u0001"', "-1e400").replace('"\\u0001inf\\u0001"', "1e400")
    return text.encode("utf-8", "surrogatepass")


def base_event(
    surname: str = "SMITH",
    given_names: str = "JOHN",
    dob: str | None = None,
    country: str = "DEU",
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "schema": "failsafe.event/v1",
        "event_id": event_id or f"ev-{uuid.uuid4().hex}",
        "kind": "border_crossing",
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": "TEST",
        "country": country,
        "crossing": {"point": f"{country}-X", "mode": "air", "direction": "entry"},
        "traveller": {"surname": surname, "given_names": given_names, "date_of_birth": dob},
    }


# The poison cases seen (issue 9), as changes to an otherwise good event: (name, where, value),
# `where` a dotted path into the event. Each is also a hit when applied to a hit's event, so that
# it reaches every later step (screening, recording) without the edge checks.
SEEN_POISON: list[tuple[str, str, Any]] = [
    ("occurred_at year 9999 -14:00", "occurred_at", "9999-12-31T23:59:59-14:00"),
    ("occurred_at year 1 +14:00", "occurred_at", "0001-01-01T00:00:00+14:00"),
    ("300 levels in an unknown field", "vendor", nested(300)),
    ("NUL in an unknown field", "vendor", {"note": "a\u0000b"}),
    ("NUL in a known field", "source", "DEU\u0000BPOL"),
    ("NUL in a key", "vendor", {"k\u0000": 1}),
    ("1e400", "vendor", float("inf")),
    ("10^400", "vendor", 10**400),
    # orjson reads 2**63 as an integer (it fits 64 bits unsigned), larger ones as floats.
    ("huge int", "vendor", 2**63),
    ("lone surrogate", "vendor", "\ud800"),
]


def apply(event: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
    """A copy of `event` with `value` at the dotted path `where` (objects made as needed)."""
    out = json.loads(json.dumps(event))
    node = out
    *parents, last = where.split(".")
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[last] = value
    return out


# --- hypothesis strategies -------------------------------------------------------------------

_ODD_TEXT = [
    "\u0000", "a\u0000b", "\ud800", "\udfff", "x\udbff", "\ufeff", "\u202e", "\u200b", "\uffff",
    "\U0010ffff", "\U0001f600", "ÄÖÜß", "Иван", "ⅨⅩ", "e\u0301", "\r\n", "\t", "\\", '"',
    "' OR 1=1 --", "%s%n", "${jndi:x}", "<script>", "", " ", "0", "null", "NaN", "-0",
]

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(_ODD_TEXT),
    st.builds(lambda s, n: s * n, st.sampled_from(["A", "Ä", "\u0000", "𝕏"]),
              st.integers(0, 3000)),
    st.lists(st.sampled_from(_ODD_TEXT), max_size=4).map("".join),
)

hostile_number = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**400, -(10**400)]),
    st.floats(),  # with inf and nan, written as Infinity/NaN (not JSON)
    st.sampled_from([1e308, -1e308, 5e-324, -0.0, float("inf"), float("nan")]),
)


def _timestamp(year: int, month: int, day: int, hour: int, offset_min: int) -> str:
    sign = "+" if offset_min >= 0 else "-"
    off = abs(offset_min)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:59:59{sign}{off // 60:02d}:{off % 60:02d}"


hostile_timestamp = st.one_of(
    st.builds(_timestamp, st.integers(1, 9999), st.integers(1, 12), st.integers(1, 28),
              st.integers(0, 23), st.integers(-14 * 60, 14 * 60)),
    st.builds(_timestamp, st.sampled_from([1, 1899, 1900, 2200, 2201, 9999]),
              st.sampled_from([1, 12]), st.sampled_from([1, 28]), st.sampled_from([0, 23]),
              st.sampled_from([-14 * 60, 0, 14 * 60])),
    st.sampled_from(["2026-11-27T10:22:05", "yesterday", "", "2026-13-01T00:00:00Z",
                     "2026-02-30T00:00:00Z", "9999-12-31T23:59:59.999999+00:00"]),
    st.integers(-(2**40), 2**40),  # pydantic reads numbers as Unix time
)

scalar = st.one_of(st.none(), st.booleans(), hostile_number, hostile_text)

hostile_value = st.one_of(
    scalar,
    st.recursive(scalar, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)),
        max_leaves=12),
    st.builds(nested, st.integers(1, 400), scalar),
)

# Where a hostile value goes: known fields of every type (wrong types included) and unknown ones.
_PATHS = [
    "event_id", "kind", "occurred_at", "source", "country", "schema", "traveller",
    "traveller.surname", "traveller.given_names", "traveller.full_name",
    "traveller.name_original", "traveller.sex", "traveller.nationality", "crossing",
    "crossing.point", "crossing.direction", "crossing.lane", "document", "document.number",
    "document.issuing_state", "flight", "flight.transit", "flight.scheduled_departure", "mrz",
    "vendor", "vendor.deep.er", "x\u0000y", "\ud800",
]
# Unknown fields take most of the values: events that pass validation with odd values there
# must get through screening and recording too.
_VENDOR_PATHS = ["vendor", "vendor.a", "vendor.a.b", "extra", "notes"]

survivable_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
              st.floats(allow_nan=False, allow_infinity=False),
              st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8).filter(lambda k: "\x00" not in k),
                                            inner, max_size=4)),
    max_leaves=10,
)


@st.composite
def hostile_event(draw: st.DrawFn, hit: dict[str, Any] | None = None) -> bytes:
    """An event of the contract's shape (a copy of `hit` when given and drawn) with one to three
    hostile values, as bytes."""
    event = dict(hit) if hit is not None and draw(st.booleans()) else base_event()
    event["event_id"] = f"fz-{uuid.uuid4().hex}"  # never collides with a planted hit
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 2)) == 0:
            where, value = draw(st.sampled_from(_VENDOR_PATHS)), draw(survivable_value)
        else:
            where = draw(st.sampled_from(_PATHS))
            value = draw(hostile_timestamp if "occurred" in where or "departure" in where
                         else hostile_value)
        try:
            event = apply(event, where, value)
        except (ValueError, OverflowError):  # json cannot copy what it just got (NaN keys, ...)
            continue
    return encode(event, ascii_only=draw(st.booleans()))


garbage = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda b, n: encode(base_event())[:n] + b, st.binary(max_size=8),
              st.integers(0, 200)),  # truncated JSON
    st.sampled_from([b"", b"null", b"[]", b"{}", b"1", b'"x"', b"\xff\xfe", b"{" * 2000,
                     b"[" * 5000, b'{"event_id": NaN}', b"\x00" * 10]),
)


def draw_many(strategy: st.SearchStrategy[bytes], n: int) -> list[bytes]:
    """`n` examples of `strategy`, the same on every run (derandomized, no example database)."""
    out: list[bytes] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(message: bytes) -> None:
        out.append(message)

    collect()
    return out
