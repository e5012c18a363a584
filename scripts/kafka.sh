#!/usr/bin/env bash
# Runs a real single-node Apache Kafka broker (KRaft, combined mode) on loopback for tests and
# development. Jars come from Maven Central once (deploy/kafka/pom.xml) and are cached in
# .cache/kafka/libs; a second start takes seconds.
#
#   scripts/kafka.sh start    # idempotent: does nothing if our broker already answers
#   scripts/kafka.sh stop     # SIGTERM, waits for a clean shutdown
#   scripts/kafka.sh status
#
# Environment: FAILSAFE_DEV_KAFKA_PORT (default 19092; the broker also takes PORT+1), FAILSAFE_DEV_KAFKA_DIR
# (default .cache/kafka), KAFKA_HEAP_OPTS (default -Xmx512m -Xms256m). Keep ports below 32768: the
# ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 on Linux) is where the
# kernel picks the local port of outgoing connections, and one of them can take the broker's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${FAILSAFE_DEV_KAFKA_PORT:-19092}
ctl_port=$((port + 1))
dir=${FAILSAFE_DEV_KAFKA_DIR:-$root/.cache/kafka}
libs=$dir/libs
run=$dir/run-$port
pidfile=$run/kafka.pid
log=$run/kafka.log

what=broker
pom=$root/deploy/kafka/pom.xml
stop_wait=30
say() { printf 'kafka: %s\n' "$*" >&2; }
# shellcheck source=scripts/java-service.sh
. "$root/scripts/java-service.sh"

ready() {
  # Ready means an admin metadata call succeeds, not merely that the port accepts.
  java -cp "$libs/*" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "127.0.0.1:$port" --list >/dev/null 2>&1
}

start() {
  fetch_jars
  if alive && ready; then say "already running on 127.0.0.1:$port"; return; fi
  if alive; then kill "$(cat "$pidfile")" 2>/dev/null || true; sleep 1; fi
  mkdir -p "$run/data"
  cat > "$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctl_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctl_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$run/data
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
log.segment.bytes=67108864
# The cleaner's default 128 MiB dedupe buffer does not always fit a small test heap (-Xmx256m:
# OutOfMemoryError starting LogManager); compacted topics here are tiny.
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608
PROPS
  if [ ! -f "$run/cluster.id" ]; then
    # URL-safe base64 of 16 random bytes, no padding, not starting with '-'.
    python3 -c 'import base64,os
while True:
    s=base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"): print(s); break' > "$run/cluster.id"
  fi
  java -cp "$libs/*" kafka.tools.StorageTool format -t "$(cat "$run/cluster.id")" \
      -c "$run/server.properties" --ignore-formatted >"$run/format.log" 2>&1 \
      || { say "storage format failed:"; cat "$run/format.log" >&2; exit 1; }
  KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
  # shellcheck disable=SC2086
  nohup java $KAFKA_HEAP_OPTS -XX:+UseG1GC -Djava.awt.headless=true \
      -cp "$libs/*" kafka.Kafka "$run/server.properties" >"$log" 2>&1 &
  echo $! > "$pidfile"
  wait_ready "127.0.0.1:$port"
}

dispatch "$@"
