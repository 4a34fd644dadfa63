#!/usr/bin/env bash
# Flatness at full rate: one Kruimel (release build, embedded store, its
# defaults) under the ingest load of run.sh for SEGMENTS back-to-back wrk
# runs of SEGMENT seconds each, on one instance whose database grows all
# along. Reports each segment's rate and latency, and the last segment's
# rate against the first's; passes when it is within 5% and the stats API
# holds exactly the beacons answered as counted.
#
#   loadtests/flat.sh                       # 4 segments of 300 s: 20 minutes
#   SEGMENTS=3 SEGMENT=60 loadtests/flat.sh # a short try
#
# Environment: SEGMENTS (default 4), SEGMENT seconds (default 300),
# WRK_CONNECTIONS (default 64), FLUSH_WAIT (default 30).
# Writes loadtests/results/flat-<UTC time>.md.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

SEGMENTS=${SEGMENTS:-4}
SEGMENT=${SEGMENT:-300}
WRK_THREADS=1
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
FLUSH_WAIT=${FLUSH_WAIT:-30}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=load.example
WARMUP_SITE=warmup.example
TOKEN=load-test-token

for number in SEGMENTS SEGMENT WRK_CONNECTIONS FLUSH_WAIT; do
  if ! [[ ${!number} =~ ^[1-9][0-9]*$ ]]; then
    echo "$number must be a positive whole number, not '${!number}'" >&2
    exit 2
  fi
done
for tool in wrk curl cargo; do
  command -v "$tool" >/dev/null || {
    echo "$tool is needed (Debian: apt-get install wrk curl)" >&2
    exit 2
  }
done

# shellcheck source=loadtests/lib/servers.sh
source loadtests/lib/servers.sh
# shellcheck source=loadtests/lib/measure.sh
source loadtests/lib/measure.sh
# shellcheck source=loadtests/lib/samples.sh
source loadtests/lib/samples.sh

use_work_dir flat
note_run_context

cargo build --release --bin kruimel >&2
start_kruimel flat embedded
port=${instance_ports[0]}
pid=${instance_pids[0]}

rows=()
rates=()
for ((segment = 1; segment <= SEGMENTS; segment++)); do
  echo "== segment $segment of $SEGMENTS: ${SEGMENT}s at full rate" >&2
  run_load "segment$segment" "$SEGMENT" "$SITE" "$port"
  out="$work_dir/segment$segment.1.out"
  rate=$(field rps "$out")
  rates+=("$rate")
  rows+=("| $segment | $rate | $(field p50_us "$out") | $(field p99_us "$out") | $(mib "$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")") |")
done

# Every beacon answered as counted, in every segment, must be in the stats.
outs=("$work_dir"/segment*.1.out)
counted=$(field_sum counted "${outs[@]}")
unanswered=$(field_sum unanswered "${outs[@]}")
deadline=$((SECONDS + FLUSH_WAIT))
while true; do
  events=$(events_in_stats "$port" "$SITE") || events=""
  if [[ -n $events ]] && ((events >= counted)); then
    break
  fi
  ((SECONDS >= deadline)) && break
  sleep 0.5
done
count_status=PASS
if [[ -z $events ]] || ((events < counted || events > counted + unanswered)); then
  count_status=FAIL
fi

last_to_first=$(awk -v a="${rates[0]}" -v b="${rates[-1]}" 'BEGIN { printf "%.3f", b / a }')
flat_status=$(awk -v r="$last_to_first" 'BEGIN { print (r >= 0.95 && r <= 1.05) ? "PASS" : "FAIL" }')

report() {
  cat <<EOF
# Kruimel at full rate for $((SEGMENTS * SEGMENT)) s, $started_at

Command: \`SEGMENTS=$SEGMENTS SEGMENT=$SEGMENT loadtests/flat.sh\`: one instance, embedded store, defaults;
each segment a fresh \`${wrk_commands[0]//segment1/segmentN}\` against the same server.

$(machine "$load_before" "$commit")

| segment | beacons/s | p50 (µs) | p99 (µs) | RSS at its end (MiB) |
| ---: | ---: | ---: | ---: | ---: |
$(printf '%s\n' "${rows[@]}")

- Last segment against the first: **$last_to_first** ($flat_status: within 5%)
- Count check: **$count_status**: stats events=${events:-none}, wrk counted=$counted (+ at most $unanswered unanswered at stop)
EOF
}
write_report flat
cat "$report_file"
[[ $flat_status == PASS && $count_status == PASS ]]
