#!/usr/bin/env bash
# SIGKILL and SIGTERM under full load: how many beacons answered as counted
# are missing from the stats after a restart. Release build, embedded store,
# wrk with loadtests/beacons.lua at full speed.
#
#   loadtests/faults.sh                    # 8 s of load, the signal after 6 s
#   LOAD=12 SIGNAL_AT=9 FLUSH_MS=1000 loadtests/faults.sh
#
# For SIGKILL the loss is compared with one flush interval of beacons at the
# rate measured until the kill; for SIGTERM it must be zero. Writes
# loadtests/results/faults-<UTC time>.md. Needs wrk and curl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LOAD=${LOAD:-8}
SIGNAL_AT=${SIGNAL_AT:-6}
FLUSH_MS=${FLUSH_MS:-1000}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=load.example
TOKEN=faults-token

cargo build --release --locked --bin kruimel
kruimel="$TARGET_DIR/release/kruimel"
work=$(mktemp -d)
server=""
trap '[[ -n $server ]] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
hash=$("$kruimel" hash-token "$TOKEN")
port_of() { python3 - 2>/dev/null <<<'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' || shuf -i 20000-60000 -n 1; }
port=$(port_of)
admin=$(port_of)

start() { # start DATA_DIR
  KRUIMEL_SERVER__LISTEN=127.0.0.1:$port \
  KRUIMEL_SERVER__ADMIN_LISTEN=127.0.0.1:$admin \
  KRUIMEL_SERVER__DATA_DIR=$1 \
  KRUIMEL_SERVER__TRUSTED_PROXIES='["127.0.0.1/32"]' \
  KRUIMEL_AGGREGATE__FLUSH_INTERVAL_MS=$FLUSH_MS \
  KRUIMEL_SITES="[{ id = \"$SITE\", hostnames = [\"$SITE\"], tokens = [\"$hash\"] }]" \
    "$kruimel" serve >>"$work/kruimel.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$admin/readyz" 2>/dev/null && return
    sleep 0.1
  done
  echo "kruimel did not become ready; its log:" >&2; cat "$work/kruimel.log" >&2; exit 1
}
stored() {
  curl -fsS -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$port/api/v1/stats/aggregate?site_id=$SITE&period=7d&metrics=events" |
    sed -n 's/.*"value":\([0-9]*\).*/\1/p'
}

report="loadtests/results/faults-$(date -u +%Y%m%dT%H%M%SZ).md"
mkdir -p loadtests/results
{
  echo "# Signals under load"
  echo
  echo "Command: \`LOAD=$LOAD SIGNAL_AT=$SIGNAL_AT FLUSH_MS=$FLUSH_MS loadtests/faults.sh\` at $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr); load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Load: \`wrk -t1 -c16 -d${LOAD}s -s loadtests/beacons.lua\`, the signal ${SIGNAL_AT} s after it starts; flush interval ${FLUSH_MS} ms."
  echo
  echo "| signal | answered as counted | rate until the signal | stored after restart | lost | one flush interval of beacons | lost / interval |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$report"

for signal in KILL TERM; do
  data="$work/data-$signal"
  start "$data"
  wrk -t1 -c16 -d"${LOAD}s" -s loadtests/beacons.lua "http://127.0.0.1:$port/api/event" -- "$SITE" >"$work/wrk.out" 2>&1 &
  load=$!
  sleep "$SIGNAL_AT"
  kill "-$signal" "$server"
  wait "$server" || true
  wait "$load" || true
  counted=$(sed -n 's/^RESULT counted=\([0-9]*\).*/\1/p' "$work/wrk.out")
  start "$data"
  sleep 0.5
  kept=$(stored)
  kill -TERM "$server"; wait "$server" || true; server=""
  lost=$((counted - kept))
  rate=$((counted / SIGNAL_AT))
  interval=$((rate * FLUSH_MS / 1000))
  share=$(awk -v l="$lost" -v i="$interval" 'BEGIN { printf "%.2f", l / i }')
  echo "| SIG$signal | $counted | $rate/s | $kept | $lost | $interval | $share |" >>"$report"
done
cat "$report"
