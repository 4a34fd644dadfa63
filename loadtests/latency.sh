#!/usr/bin/env bash
# Latency at a fixed rate: the same paced load (`soak paced`, as in the
# soak) against the bare-hyper baseline and Kruimel, one after another,
# each on a fresh instance, for ROUNDS rounds. On a shared machine the
# tail moves with everything else running, so the baseline's figure in
# the same minutes is the one to compare with.
#
#   RATE=12800 loadtests/latency.sh                        # half of a measured maximum
#   RATE=12800 WORKERS="1 2" ROUNDS=2 loadtests/latency.sh  # also two request workers
#
# Environment:
#   RATE          beacons/s (required; soak.sh and run.sh measure the maximum)
#   RUN_SECONDS   seconds of load per server (default 60)
#   ROUNDS        rounds of all servers (default 1)
#   WORKERS       Kruimel's server.worker_threads values to run (default "0",
#                 its default: one per core)
#   CONNECTIONS   keep-alive connections (default 64)
#
# Writes loadtests/results/latency-<UTC time>.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RATE=${RATE:?set RATE, the beacons per second to send}
RUN_SECONDS=${RUN_SECONDS:-60}
ROUNDS=${ROUNDS:-1}
WORKERS=${WORKERS:-0}
CONNECTIONS=${CONNECTIONS:-64}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=load.example
WARMUP_SITE=warmup.example
TOKEN=latency-token

# shellcheck source=loadtests/lib/servers.sh
source loadtests/lib/servers.sh
# shellcheck source=loadtests/lib/measure.sh
source loadtests/lib/measure.sh
# shellcheck source=loadtests/lib/samples.sh
source loadtests/lib/samples.sh

use_work_dir latency

note_run_context
cargo build --release --locked --bin kruimel --example soak --example baseline

rows=()

# measure NAME: the paced load against the one instance started, then a
# table row with its p50, p99 and max.
measure() {
  local name=$1 admin=${instance_admin_ports[0]:-} out="$work_dir/$1.out"
  if [[ -z $admin ]]; then
    # The baseline has no admin listener; the load's samples then show "-".
    free_port admin
  fi
  echo "== $name: ${RUN_SECONDS} s at ${RATE} beacons/s" >&2
  "$TARGET_DIR/release/examples/soak" paced --target "127.0.0.1:${instance_ports[0]}" \
    --admin "127.0.0.1:$admin" --pid "${instance_pids[0]}" --rate "$RATE" \
    --seconds "$RUN_SECONDS" --day-visitors 1000000 --connections "$CONNECTIONS" \
    --sample-seconds 10 >"$out"
  forget_instances
  rows+=("| $round | $name | $(value RESULT sent "$out") | $(value RESULT failed "$out") | $(value RESULT p50_us "$out") | $(value RESULT p99_us "$out") | $(value RESULT max_us "$out") |")
  echo "${rows[-1]}" >&2
}

for ((round = 1; round <= ROUNDS; round++)); do
  start_baseline
  measure baseline
  for workers in $WORKERS; do
    KRUIMEL_SERVER__WORKER_THREADS=$workers start_kruimel "kruimel-$round-$workers" embedded
    measure "kruimel, server.worker_threads = $workers"
  done
done

report() {
  echo "# Kruimel latency at a fixed rate, $started_at"
  echo
  echo "Command: \`RATE=$RATE RUN_SECONDS=$RUN_SECONDS ROUNDS=$ROUNDS WORKERS=\"$WORKERS\" loadtests/latency.sh\` ($CONNECTIONS connections, each on its own schedule, one request in flight)."
  echo
  machine "$load_before" "$commit"
  echo
  echo "| round | server | sent | unanswered | p50 (µs) | p99 (µs) | max (µs) |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "\`server.worker_threads = 0\` is Kruimel's default: one request worker per core."
}

write_report latency
cat "$report_file"
