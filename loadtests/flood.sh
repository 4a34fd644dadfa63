#!/usr/bin/env bash
# Visitor flood: ten million distinct visitors, one pageview each, as fast
# as the machine goes, into Kruimel (release build, embedded store, its
# defaults: a hot state capped at a million visitors). Passes when the hot
# state stays under its cap, every visitor over it is counted as evicted,
# resident memory levels off once the cap is reached, a normal client is
# answered throughout and /readyz stays ready, and the stats count exactly
# the beacons answered 202 as counted.
#
#   loadtests/flood.sh                                # 10,000,000 visitors
#   VISITORS=2000000 HOT_CAP=200000 loadtests/flood.sh  # a shorter trial
#
# Environment (all optional):
#   VISITORS        distinct visitors to send (default 10000000)
#   HOT_CAP         Kruimel's sessions.max_visitors (default 1000000, its own default)
#   CONNECTIONS     keep-alive connections of the flood (default 64)
#   PROBE_RATE      beacons/s of the normal client (default 50)
#   SAMPLE_SECONDS  seconds between samples (default 5)
#   FLUSH_WAIT      seconds to wait for the counts to settle (default 60)
#
# Needs curl. Writes the report to loadtests/results/flood-<UTC time>.md and
# exits non-zero if a check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VISITORS=${VISITORS:-10000000}
HOT_CAP=${HOT_CAP:-1000000}
CONNECTIONS=${CONNECTIONS:-64}
PROBE_RATE=${PROBE_RATE:-50}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-5}
FLUSH_WAIT=${FLUSH_WAIT:-60}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=load.example
WARMUP_SITE=warmup.example
TOKEN=flood-token
PROBE_VISITORS=20 # the probe's own visitors (loadtests/soak/load.rs)
RSS_TOLERANCE=10  # per cent

if ! command -v curl >/dev/null; then
  echo "curl is required; on Debian or Ubuntu: sudo apt-get install curl" >&2
  exit 1
fi
if [[ $HOT_CAP != 1000000 ]]; then
  export KRUIMEL_SESSIONS__MAX_VISITORS=$HOT_CAP
fi

# shellcheck source=loadtests/lib/servers.sh
source loadtests/lib/servers.sh
# shellcheck source=loadtests/lib/measure.sh
source loadtests/lib/measure.sh
# shellcheck source=loadtests/lib/samples.sh
source loadtests/lib/samples.sh

use_work_dir flood

note_run_context
cargo build --release --locked --bin kruimel --example soak

start_kruimel flood embedded
pid=${instance_pids[0]}
admin=${instance_admin_ports[0]}
fds_before=$(fd_count "$pid")
samples="$work_dir/flood.out"
echo "== flood: $VISITORS distinct visitors, hot state capped at $HOT_CAP, a probe at $PROBE_RATE/s" >&2
flood_started=$SECONDS
"$TARGET_DIR/release/examples/soak" flood --target "127.0.0.1:${instance_ports[0]}" \
  --admin "127.0.0.1:$admin" --pid "$pid" --visitors "$VISITORS" --connections "$CONNECTIONS" \
  --probe-rate "$PROBE_RATE" --sample-seconds "$SAMPLE_SECONDS" | tee "$samples" >&2
flood_seconds=$((SECONDS - flood_started))

counted=$(($(value RESULT counted "$samples") + $(value PROBE counted "$samples")))
counted_pageviews=$(($(value RESULT counted_pageviews "$samples") + $(value PROBE counted_pageviews "$samples")))
unanswered=$(($(value RESULT failed "$samples") + $(value PROBE failed "$samples")))
echo "== waiting up to ${FLUSH_WAIT} s for the counts to settle" >&2
read -r stored_pageviews stored_events < <(settled_totals "${instance_ports[0]}" "$SITE" "$counted" "$FLUSH_WAIT")
hot_end=$(metric "$admin" kruimel_hot_visitors)
evicted_end=$(metric "$admin" kruimel_hot_visitors_evicted_total)
fds_after=$(fd_count "$pid")
rss_end=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")

# --- checks --------------------------------------------------------------------

# The first sample with the hot state at its cap (99%: bots aside, the
# gauge trails the queue by a few thousand).
cap_reached=$(awk -v full="$((HOT_CAP * 99 / 100))" '$1 == "SAMPLE" {
    delete f; for (i = 2; i <= NF; i++) { split($i, pair, "="); f[pair[1]] = pair[2] }
    if (f["hot"] + 0 >= full) { print f["t"]; exit } }' "$samples")

check_cap() {
  local hot_high over=0
  hot_high=$(values SAMPLE hot "$samples" | maximum)
  ((hot_high > HOT_CAP || hot_end > HOT_CAP)) && over=1
  check "the hot state stays under its cap" "$over" \
    "at most $hot_high hot visitors in any sample, $hot_end at the end; cap $HOT_CAP"
}

# Every visitor that arrived to a full hot state pushed one out: evicted
# = distinct visitors − those still held. The probe's visitors come back,
# so each of them may have been evicted and let in again.
check_evictions() {
  local distinct=$((VISITORS + PROBE_VISITORS)) expected off=1
  expected=$((distinct - hot_end))
  ((evicted_end >= expected && evicted_end <= expected + PROBE_VISITORS)) && off=0
  check "every visitor over the cap is counted as evicted" "$off" \
    "kruimel_hot_visitors_evicted_total = $evicted_end; distinct visitors $distinct − $hot_end still held = $expected"
}

check_memory() {
  if [[ -z $cap_reached ]]; then
    check "resident memory levels off at the cap" 1 "the hot state never reached its cap"
    return
  fi
  rss_at_cap=$(after "$cap_reached" rss_kib "$samples" | head -n 1)
  rss_high=$( (after "$cap_reached" rss_kib "$samples"; echo "$rss_end") | maximum)
  local grew
  grew=$(awk -v s="$rss_at_cap" -v hi="$rss_high" -v tol="$RSS_TOLERANCE" \
    'BEGIN { print (hi <= s * (1 + tol / 100)) ? 0 : 1 }')
  check "resident memory levels off at the cap (at most +${RSS_TOLERANCE}%)" "$grew" \
    "$(mib "$rss_at_cap") MiB when the cap was reached at ${cap_reached} s, at most $(mib "$rss_high") MiB after, $(mib "$rss_end") MiB at the end"
}

check_service() {
  local probe_sent probe_counted probe_other probe_failed not_ready silent down=0
  probe_sent=$(value PROBE sent "$samples")
  probe_counted=$(value PROBE counted "$samples")
  probe_other=$(value PROBE other "$samples")
  probe_failed=$(value PROBE failed "$samples")
  not_ready=$(values SAMPLE ready "$samples" | grep -cv '^1$' || true)
  silent=$(values SAMPLE probe_answered "$samples" | grep -c '^0$' || true)
  ((probe_counted != probe_sent || not_ready > 0 || silent > 0)) && down=1
  check "service continues" "$down" \
    "normal client: $probe_counted of $probe_sent answered 202 as counted ($probe_other other, $probe_failed unanswered), answers in every interval but $silent; /readyz not ready in $not_ready samples; p50 $(value PROBE p50_us "$samples") µs, p99 $(value PROBE p99_us "$samples") µs, max $(value PROBE max_us "$samples") µs"
}

check_stats() {
  local exact=0
  if [[ -z $stored_events ]] || ((stored_events < counted || stored_events > counted + unanswered ||
    stored_pageviews < counted_pageviews || stored_pageviews > counted_pageviews + unanswered)); then
    exact=1
  fi
  check "stats count every beacon answered as counted" "$exact" \
    "stats: ${stored_pageviews:-none} pageviews, ${stored_events:-none} events; answered 202 as counted (flood and probe): $counted_pageviews pageviews, $counted beacons (+ at most $unanswered unanswered)"
}

check_descriptors() {
  local grew=0
  ((fds_after > fds_before)) && grew=1
  check "no descriptors left behind" "$grew" "$fds_before before the flood, $fds_after after it"
}

check_cap
check_evictions
check_memory
check_service
check_stats
check_descriptors

# --- report --------------------------------------------------------------------

samples_table() {
  echo "| t (s) | answered/s | distinct so far | hot visitors | evicted | RSS (MiB) | fds | shed | queue | ready | probe answers | probe p50 (µs) | probe p99 (µs) | probe max (µs) |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  awk '$1 == "SAMPLE" {
      delete f; for (i = 2; i <= NF; i++) { split($i, pair, "="); f[pair[1]] = pair[2] }
      printf "| %s | %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n",
        f["t"], f["rate"], f["sent"], f["hot"], f["evicted"], f["rss_kib"] / 1024, f["fds"], f["shed"],
        f["queue"], f["ready"], f["probe_answered"], f["probe_p50_us"], f["probe_p99_us"], f["probe_max_us"] }' "$samples"
}

report() {
  echo "# Kruimel visitor flood, $started_at"
  echo
  echo "Command: \`VISITORS=$VISITORS HOT_CAP=$HOT_CAP loadtests/flood.sh\` (CONNECTIONS=$CONNECTIONS, PROBE_RATE=$PROBE_RATE)."
  echo
  echo "- flood: $VISITORS distinct visitors, one pageview each, each from its own network (IPv4 /24 or IPv6 /48) and a browser of its own, over $CONNECTIONS keep-alive connections as fast as they are answered (\`soak flood\`)"
  echo "- normal client: $PROBE_RATE pageviews/s from $PROBE_VISITORS visitors of its own, one keep-alive connection, its own thread"
  echo "- Kruimel: release build, embedded store, defaults (sessions.max_visitors = $HOT_CAP), loopback as trusted proxy"
  echo "- took $flood_seconds s: $(awk -v v="$VISITORS" -v s="$flood_seconds" 'BEGIN { printf "%.0f", v / s }') visitors/s"
  echo
  echo "## Checks"
  echo
  echo "| check | result | detail |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${checks[@]}"
  echo
  echo "Shed beacons (answered 202, overloaded, not counted): $(value SAMPLE shed "$samples")."
  echo "Flood answers: $(value RESULT counted "$samples") counted, $(value RESULT dropped "$samples") dropped, $(value RESULT other "$samples") other, $(value RESULT failed "$samples") unanswered."
  echo
  echo "## Samples"
  echo
  echo "Probe latency is per interval, from writing a request to reading its answer."
  echo
  samples_table
  echo
  echo "## Machine"
  echo
  machine "$load_before" "$commit"
}

write_report flood
((failed_checks == 0))
