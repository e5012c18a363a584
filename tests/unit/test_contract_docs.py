"""The recorder's typed inputs (`failsafe.contract.EventDoc`, `EntryDoc`) name only fields of
the contract models they are the JSON of, with the same required fields, so the types cannot
drift from what the API validates (issue 11, item 5)."""

from __future__ import annotations

from typing import get_type_hints

from failsafe.contract import EntryDoc, EventDoc
from failsafe.ingest.events import Event
from failsafe.watchlist.schemas import Entry


def _json_names(model: type[Event] | type[Entry]) -> dict[str, bool]:
    """Field name as it appears in the JSON -> required."""
    return {(f.alias or name): f.is_required() for name, f in model.model_fields.items()}


def test_event_doc_names_fields_of_the_event() -> None:
    fields = _json_names(Event)
    assert set(get_type_hints(EventDoc)) <= set(fields)
    assert EventDoc.__required_keys__ == {k for k, required in fields.items() if required}


def test_entry_doc_names_fields_of_the_entry() -> None:
    fields = _json_names(Entry)
    assert set(get_type_hints(EntryDoc)) <= set(fields)
    # The matcher's entry always carries these (failsafe.ingest.follower.entry_document).
    assert EntryDoc.__required_keys__ == {"id", "owner_bureau"}
    assert {"id", "owner_bureau"} <= {k for k, required in fields.items() if required}
