"""An entry's stored document and the table columns derived from it; merge patches; audit diffs.

The `document` column holds the entry as the API answers it, less the effective status (an active
notice past `expires_at` reads `expired`, computed when read). Every other column of
`watchlist_entry` (but created_*) is derived from the document by `row_values`, so the two never
disagree. Validation errors are reported without the submitted values (they may be personal data).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from failsafe.db.base import utcnow
from failsafe.db.models import WatchlistEntry, WatchlistEntryVersion
from failsafe.watchlist.schemas import CONTRACT_KEYS
from failsafe.watchlist.search import search_text


def new_entry_id() -> str:
    """32 hex characters, time-ordered (ms) then random: lists ordered by id follow creation."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def _codes_text(codes: Sequence[str]) -> str:
    return f" {' '.join(codes)} " if codes else ""



def effective_status(status: str, expires_at: datetime | None, now: datetime) -> str:
    if status == "active" and expires_at is not None and expires_at <= now:
        return "expired"
    return status


def entry_json(row: WatchlistEntry, now: datetime | None = None) -> dict[str, Any]:
    """The entry as the API answers it: the stored document, with the status as of now."""
    doc = dict(row.document)
    doc["status"] = effective_status(row.status, row.expires_at, now or utcnow())
    return doc


def as_now(doc: dict[str, Any]) -> dict[str, Any]:
    """A freshly written document as the API answers it (an expired notice reads `expired`)."""
    expires_at = _parse_ts(doc["notice"].get("expires_at"))
    return {**doc, "status": effective_status(doc["status"], expires_at, utcnow())}


def _parse_ts(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def build_document(
    entry_id: str,
    contract: dict[str, Any],
    *,
    status: str,
    version: int,
    revision: int,
    created_at: datetime,
    created_by: str | None,
    updated_at: datetime,
    updated_by: str | None,
    cancellation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": entry_id, **contract}
    doc.update(
        status=status,
        version=version,
        revision=revision,
        created_at=created_at.isoformat(),
        updated_at=updated_at.isoformat(),
        created_by=created_by,
        updated_by=updated_by,
    )
    if cancellation is not None:
        doc["cancellation"] = cancellation
    return doc


def row_values(doc: dict[str, Any]) -> dict[str, Any]:
    """The entry table's columns derived from a document (everything but created_*)."""
    distribution = doc.get("distribution") or {}
    notice = doc["notice"]
    return {
        "notice_type": notice["type"],
        "notice_reference": notice["reference"],
        "owner_bureau": doc["owner_bureau"],
        "status": doc["status"],
        "distribution_mode": distribution.get("mode", "all"),
        "distribution_allow": _codes_text(distribution.get("allow", ())),
        "distribution_deny": _codes_text(distribution.get("deny", ())),
        "version": doc["version"],
        "revision": doc["revision"],
        "search_text": search_text(doc["subject"]),
        "document": doc,
        "expires_at": _parse_ts(notice.get("expires_at")),
        "updated_at": datetime.fromisoformat(doc["updated_at"]),
        "updated_by": doc["updated_by"],
    }


def contract_of(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in CONTRACT_KEYS if k in doc}


def changed_fields(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths (two levels deep) whose values differ: what an audit row may say."""
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if not prefix and isinstance(a, dict) and isinstance(b, dict):
            out.extend(changed_fields(a, b, f"{path}."))
        else:
            out.append(path)
    return out


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def patch_dates_of_birth(
    current: dict[str, Any], patch: dict[str, Any], merged: dict[str, Any]
) -> None:
    """Make a merge patch of one of the two date-of-birth fields mean what its sender meant.

    `date_of_birth` is the shorthand for the first item of `dates_of_birth`, and validation puts
    it first in the list. Merged naively, a patch of one field would keep the other's stale
    value: a new `date_of_birth` would be added beside the old one instead of replacing it, and
    a new list would get the old shorthand back in front. So: a patch that changes only
    `date_of_birth` replaces (or, with null, removes) the old shorthand's item in the list; one
    that changes only `dates_of_birth` drops the shorthand, which is then read off the new list.
    A field sent back unchanged (read-modify-write) counts as not changed; changing both takes
    both, the shorthand first."""
    subject_patch = patch.get("subject")
    old = current.get("subject")
    new = merged.get("subject")
    if not (isinstance(subject_patch, dict) and isinstance(old, dict) and isinstance(new, dict)):
        return
    old_first = old.get("date_of_birth")
    old_list = old.get("dates_of_birth")
    if not isinstance(old_list, list):
        old_list = [old_first] if old_first is not None else []
    first_changed = (
        "date_of_birth" in subject_patch and subject_patch["date_of_birth"] != old_first
    )
    list_changed = (
        "dates_of_birth" in subject_patch and subject_patch["dates_of_birth"] != old_list
    )
    if first_changed and not list_changed:
        replacement = subject_patch["date_of_birth"]
        items = [item for item in old_list if item != old_first]
        new["dates_of_birth"] = items if replacement is None else [replacement, *items]
    elif list_changed and not first_changed:
        new.pop("date_of_birth", None)



def version_row(
    entry_id: str, doc: dict[str, Any], change: str, at: datetime, by: str | None
) -> WatchlistEntryVersion:
    return WatchlistEntryVersion(
        entry_id=entry_id,
        version=doc["version"],
        revision=doc["revision"],
        change=change,
        status=doc["status"],
        document=doc,
        changed_at=at,
        changed_by=by,
    )
