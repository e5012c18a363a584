"""The match threshold is a setting (FAILSAFE_MATCHING__THRESHOLD) that screening in `serve`
uses, and POST /v1/screen may ask for another per request (`?threshold=`, validated 0..1)."""

from __future__ import annotations

import pytest

from failsafe.settings import DatabaseSettings, MatchingSettings, Settings
from tests.fixtures.app import in_process
from tests.fixtures.factories import entry_doc, event, put_entry

pytestmark = pytest.mark.integration


async def test_the_threshold_setting_and_the_per_request_threshold(fresh_pg_url: str) -> None:
    # A near match (a letter off in the surname, the year of birth only): it scores below 1.
    settings = Settings(
        database=DatabaseSettings(url=fresh_pg_url), matching=MatchingSettings(threshold=0.999)
    )
    async with in_process(settings) as api:
        client = api.client
        await api.ready()
        analyst = await api.headers("analyst", "FRA")
        entry = await put_entry(api.sessions, entry_doc("PETROV", "IVAN", dob="1970", owner="FRA"))
        await api.follows(entry["id"])
        query = event("PETROFF", "IVAN", dob="1970-03-14")

        async def screen(params: dict[str, str] | None = None) -> list[float]:
            r = await client.post("/v1/screen", json=query, headers=analyst, params=params)
            assert r.status_code == 200, r.text
            return [m["score"] for m in r.json()[0]["matches"]]

        assert await screen() == []  # the setting: nothing reaches 0.999
        (score,) = await screen({"threshold": "0.5"})
        assert 0.5 <= score < 0.999
        assert await screen({"threshold": str(min(1.0, score + 0.001))}) == []
        for bad in ("-0.1", "1.5", "nan", "high"):
            r = await client.post(
                "/v1/screen", json=query, headers=analyst, params={"threshold": bad}
            )
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["error"]["details"][0]["loc"] == ["query", "threshold"]
