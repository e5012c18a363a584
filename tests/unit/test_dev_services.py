"""The dev and test services' configuration (scripts/kafka.sh, scripts/postgres.sh, the private
broker of tests/integration/ingest/test_outages.py): what made the test command flaky."""

from __future__ import annotations

import re
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
# Linux's default ephemeral range; the kernel picks outgoing connections' local ports here.
EPHEMERAL_LOW = 32768


def test_the_log_cleaner_fits_a_small_test_heap() -> None:
    # The private test broker runs with -Xmx256m: the cleaner's default 128 MiB dedupe buffer
    # sometimes did not fit (OutOfMemoryError starting LogManager).
    text = (SCRIPTS / "kafka.sh").read_text()
    disabled = re.search(r"^log\.cleaner\.enable=false$", text, re.M)
    size = re.search(r"^log\.cleaner\.dedupe\.buffer\.size=(\d+)$", text, re.M)
    assert disabled or (size and int(size.group(1)) <= 32 * 2**20)


def test_dev_and_test_ports_lie_below_the_ephemeral_range() -> None:
    from tests.integration.ingest.test_outages import private_broker_port

    default = r"port=\$\{FAILSAFE_DEV_%s_PORT:-(\d+)\}"
    kafka = re.search(default % "KAFKA", (SCRIPTS / "kafka.sh").read_text())
    pg = re.search(default % "PG", (SCRIPTS / "postgres.sh").read_text())
    assert kafka and pg
    ports = [int(kafka.group(1)), int(pg.group(1))]
    ports += [private_broker_port(pid) + 1 for pid in range(0, 4_194_304, 997)]  # +1: controller
    assert max(ports) < EPHEMERAL_LOW, max(ports)
