"""A private Kafka broker with a TLS listener and a SASL_SSL (SCRAM-SHA-512) listener, for
tests/integration/kafka/test_security.py.

Certificates are made with openssl for each run: a CA, and a broker certificate for 127.0.0.1 and
localhost in a PKCS12 keystore. The SCRAM user is created by the broker's own storage tool
(`kafka-storage.sh format --add-scram`). Same jars and mechanics as scripts/kafka.sh (its cache
directory, KRaft combined mode, static quorum), fixed ports 29400-29403 (below the ephemeral
range, away from the dev broker and from test_outages.py's 29092+), topics never auto-created.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BASE_PORT = 29400  # PLAINTEXT (setup only), SSL, SASL_SSL, CONTROLLER: 29400-29403
USER = "failsafe-ingest"
STORE_PASSWORD = "keystore-pass-for-tests"


@dataclass(frozen=True)
class SecureBroker:
    plaintext: str
    ssl: str
    sasl_ssl: str
    ca_file: Path
    user: str
    password: str
    log: Path


def _libs() -> Path:
    base = Path(os.environ.get("FAILSAFE_DEV_KAFKA_DIR", str(ROOT / ".cache" / "kafka")))
    libs = base / "libs"
    if not (libs / ".complete").exists():
        raise RuntimeError(
            f"no Kafka jars in {libs}: scripts/test.sh (scripts/kafka.sh start) fetches them"
        )
    return libs


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(folder: Path) -> tuple[Path, Path]:
    """(the CA's PEM, the broker's PKCS12 keystore): a CA and a broker certificate signed by it,
    valid for 127.0.0.1 and localhost."""
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=failsafe test CA", "-keyout", "ca.key", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "broker.key", "-out", "broker.csr", cwd=folder,
    )
    (folder / "san.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
    )
    _openssl(
        "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "broker.pem", cwd=folder,
    )
    _openssl(
        "pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key", "-certfile", "ca.pem",
        "-name", "broker", "-out", "broker.p12", "-passout", f"pass:{STORE_PASSWORD}",
        cwd=folder,
    )
    return folder / "ca.pem", folder / "broker.p12"


def _properties(run: Path, keystore: Path) -> str:
    p = BASE_PORT
    names = ("PLAINTEXT", "SSL", "SASL_SSL", "CONTROLLER")
    listeners = ",".join(f"{name}://127.0.0.1:{p + i}" for i, name in enumerate(names))
    advertised = ",".join(f"{name}://127.0.0.1:{p + i}" for i, name in enumerate(names[:3]))
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    return f"""
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{p + 3}
listeners={listeners}
advertised.listeners={advertised}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
ssl.keystore.type=PKCS12
ssl.keystore.location={keystore}
ssl.keystore.password={STORE_PASSWORD}
ssl.key.password={STORE_PASSWORD}
ssl.client.auth=none
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={scram}
log.dirs={run / "data"}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=2
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608
"""


def _ready(libs: Path, bootstrap: str) -> bool:
    host, port = bootstrap.split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False  # not listening yet: cheap to ask again, unlike a JVM per attempt
    done = subprocess.run(
        ["java", "-cp", f"{libs}/*", "org.apache.kafka.tools.TopicCommand",
         "--bootstrap-server", bootstrap, "--list"],
        capture_output=True, timeout=60, check=False,
    )
    return done.returncode == 0


@contextlib.contextmanager
def secure_broker(folder: Path, password: str) -> Iterator[SecureBroker]:
    """Start the broker in `folder` (certificates, data, log), with the SCRAM user `USER` /
    `password`; stop it (SIGTERM, then SIGKILL) on exit."""
    libs = _libs()
    ca, keystore = make_certificates(folder)
    shutil.rmtree(folder / "data", ignore_errors=True)
    props = folder / "server.properties"
    props.write_text(_properties(folder, keystore))
    cluster = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    cluster = "A" + cluster[1:] if cluster.startswith("-") else cluster
    subprocess.run(
        ["java", "-cp", f"{libs}/*", "kafka.tools.StorageTool", "format", "-t", cluster,
         "-c", str(props), "--ignore-formatted",
         "--add-scram", f"SCRAM-SHA-512=[name={USER},password={password}]"],
        check=True, capture_output=True, timeout=120,
    )
    log = folder / "kafka.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            ["java", "-Xmx256m", "-Xms128m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
             "-cp", f"{libs}/*", "kafka.Kafka", str(props)],
            stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        plaintext = f"127.0.0.1:{BASE_PORT}"
        deadline = time.monotonic() + 60
        while not _ready(libs, plaintext):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the secure test broker did not start:\n{tail}")
            time.sleep(0.5)  # a separate JVM's readiness: nothing to await
        yield SecureBroker(
            plaintext=plaintext,
            ssl=f"127.0.0.1:{BASE_PORT + 1}",
            sasl_ssl=f"127.0.0.1:{BASE_PORT + 2}",
            ca_file=ca,
            user=USER,
            password=password,
            log=log,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
