"""The README's settings table and the Settings model agree: every setting an operator can set is
in the table, and every variable in the table is a setting (a typo there would be silently
ignored: the settings ignore unknown variables)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from failsafe.matching import DEFAULT_THRESHOLD
from failsafe.settings import MatchingSettings, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _variables(model: type[BaseModel], prefix: str) -> set[str]:
    out: set[str] = set()
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            out |= _variables(kind, f"{prefix}{name.upper()}__")
        else:
            out.add(f"{prefix}{name.upper()}")
    return out


def _table() -> set[str]:
    """The first cells of the settings table: `FAILSAFE_A__B` / `__C` means both A__B and A__C;
    `FAILSAFE_X`, `FAILSAFE_Y` both."""
    text = README.read_text()
    start = text.index("| variable | default | meaning |")
    rows = text[start:].split("\n\n", 1)[0].splitlines()[2:]
    out: set[str] = set()
    for row in rows:
        cell = row.split("|")[1]
        full = ""
        for token in re.findall(r"`([^`]+)`", cell):
            if token.startswith("FAILSAFE_"):
                full = token
            else:
                assert token.startswith("__") and full, (row, token)
                token = full.rsplit("__", 1)[0] + token
            out.add(token)
    return out


def test_the_readme_table_lists_every_setting_and_nothing_else() -> None:
    model = _variables(Settings, "FAILSAFE_")
    table = _table()
    assert sorted(model - table) == [], "settings missing from the README table"
    assert sorted(table - model) == [], "README rows that are no setting"


def test_the_threshold_setting_defaults_to_the_engine_default() -> None:
    assert MatchingSettings().threshold == DEFAULT_THRESHOLD


def test_the_hub_settings_are_the_hubs_own_limits() -> None:
    # create_app builds the Hub and its ConnectionLimits from HubSettings by name: every setting
    # must be a parameter of one or the other, with the same default (so that a Hub built
    # without settings, in tests, behaves as served).
    import dataclasses
    import inspect

    from failsafe.hub.protocol import ConnectionLimits
    from failsafe.hub.service import Hub
    from failsafe.settings import HubSettings

    params = {
        name: p.default
        for name, p in inspect.signature(Hub.__init__).parameters.items()
        if name != "limits"
    }
    limits = {f.name: f.default for f in dataclasses.fields(ConnectionLimits)}
    assert not set(params) & set(limits)
    own = {**params, **limits}
    for name, value in HubSettings().model_dump().items():
        assert name in own, name
        assert own[name] == value, name
