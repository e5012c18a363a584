"""The simulator's stream: every message passes the contracts, alarms fall on lanes that just had
a vehicle (so they link), and the mix of causes is the issue's."""

from __future__ import annotations

from collections import Counter

import orjson

from failsafe.alarms.schemas import validate_alarm
from failsafe.alarms.simulate import CARGO_LANES, Stream
from failsafe.ingest.events import parse_event


def test_stream_messages_pass_the_contracts_and_alarms_sit_on_recent_vehicles() -> None:
    stream = Stream(points=["DEU-SIM-00", "DEU-SIM-01"], seed=3, alarms_per_lane_day=50)
    events, alarms = stream.advance(3600.0)
    assert 2400 < len(events) < 3400  # 12 lanes x 120 vehicles an hour x 2 people on average
    for event in events:
        parse_event(orjson.dumps(event))
    assert 10 < len(alarms) < 50  # 12 lanes x 50/day x 1 h = 25
    seen = {(e["crossing"]["point"], e["crossing"]["lane"], e["occurred_at"]) for e in events}
    for alarm in alarms:
        validate_alarm(alarm)
        start = alarm["occupancy"]["start"]
        assert any(
            p == alarm["point"] and lane == alarm["lane"] and start < t < alarm["occupancy"]["end"]
            for p, lane, t in seen
        )


def test_alarm_mix() -> None:
    stream = Stream(points=["DEU-SIM-00"], seed=5, snm_every=50)
    stream.advance(600.0)  # some recent vehicles to put alarms on
    alarms = [stream.alarm() for _ in range(5000)]
    snm = [a for a in alarms if any(n["category"] == "snm" for n in a["nuclides"])]
    assert len(snm) == 100 and all("neutron" in a["categories"] for a in snm)
    neutron = sum("neutron" in a["categories"] for a in alarms)
    assert neutron * 10 <= len(alarms)  # at least ten times rarer than gamma
    cargo = Counter(
        (a["nuclides"][0]["category"] if a["nuclides"] else "statistical")
        for a in alarms
        if a["lane"] in CARGO_LANES and a not in snm
    )
    total = sum(cargo.values())
    assert 0.75 < cargo["norm"] / total < 0.85
    assert 0.06 < cargo["medical"] / total < 0.14
    passenger = Counter(
        (a["nuclides"][0]["category"] if a["nuclides"] else "statistical")
        for a in alarms
        if a["lane"] not in CARGO_LANES and a not in snm
    )
    assert passenger.most_common(1)[0][0] == "medical"
