#!/usr/bin/env bash
# Measures a normal client's latency against Kruimel with and without each
# hostile-traffic attack (loadtests/hostile.rs), on the release build with
# its default limits (5 s header and body deadlines, 16 KiB heads).
#
#   loadtests/hostile.sh                     # 10 s per attack, 200 beacons/s
#   DURATION=20 RATE=500 loadtests/hostile.sh
#   ATTACKS="none idle slowloris" loadtests/hostile.sh
#
# The normal client sends RATE beacons a second, paced, over 4 keep-alive
# connections, for DURATION seconds, once with no attack ("none", the
# baseline of the same run) and once during each attack. The report gives
# its p50/p99, the ratio to the baseline, what the attacker's connections
# were answered, and the server's descriptors after the attack has ended.
# Writes loadtests/results/hostile-<UTC time>.md. Needs curl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-10}
RATE=${RATE:-200}
ATTACKS=${ATTACKS:-none slowloris slow-body idle big-headers many-headers pipelined invalid}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=load.example

cargo build --release --locked --bin kruimel --example hostile
kruimel="$TARGET_DIR/release/kruimel"
hostile="$TARGET_DIR/release/examples/hostile"

work=$(mktemp -d)
port_of() { python3 - 2>/dev/null <<<'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' || shuf -i 20000-60000 -n 1; }
port=$(port_of)
admin=$(port_of)
KRUIMEL_SERVER__LISTEN=127.0.0.1:$port \
KRUIMEL_SERVER__ADMIN_LISTEN=127.0.0.1:$admin \
KRUIMEL_SERVER__DATA_DIR=$work/data \
KRUIMEL_SERVER__TRUSTED_PROXIES='["127.0.0.1/32"]' \
KRUIMEL_SITES="[{ id = \"$SITE\" }]" \
  "$kruimel" serve >"$work/kruimel.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$admin/readyz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$admin/readyz"

descriptors() { ls "/proc/$server/fd" | wc -l; }
connections() { # server-side TCP connections on the public port
  local hex; hex=$(printf ':%04X' "$port")
  awk -v p="$hex" 'NR > 1 && substr($2, length($2) - 4) == p && ($4 == "01" || $4 == "08")' /proc/net/tcp /proc/net/tcp6 2>/dev/null | wc -l
}
settle() { # until the server holds no connection again (at most 15 s)
  for _ in $(seq 150); do [[ $(connections) -eq 0 ]] && return; sleep 0.1; done
}

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

report="loadtests/results/hostile-$(date -u +%Y%m%dT%H%M%SZ).md"
mkdir -p loadtests/results
{
  echo "# Hostile traffic: a normal client's latency"
  echo
  echo "Command: \`DURATION=$DURATION RATE=$RATE ATTACKS=\"$ATTACKS\" loadtests/hostile.sh\` at $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr); load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Server and attacker and normal client share the machine."
  echo
  echo "| attack | normal ok / sent | p50 | p99 | max | p99 / no attack | attacker connections | attacker answered | server fds after, connections |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
} >"$report"

base_p99=""
baseline_fds=$(descriptors)
for attack in $ATTACKS; do
  attacker_pid=""
  if [[ $attack != none ]]; then
    "$hostile" "$attack" "127.0.0.1:$port" $((DURATION + 2)) >"$work/attack.out" &
    attacker_pid=$!
    sleep 1
  fi
  normal=$("$hostile" normal "127.0.0.1:$port" "$DURATION" "$RATE")
  attack_line=""
  if [[ -n $attacker_pid ]]; then
    wait "$attacker_pid"
    attack_line=$(cat "$work/attack.out")
  fi
  settle
  fds="$(descriptors), $(connections)"
  p50=$(field p50_us "$normal"); p99=$(field p99_us "$normal"); max=$(field max_us "$normal")
  [[ $attack == none ]] && base_p99=$p99
  ratio=$(awk -v a="$p99" -v b="${base_p99:-$p99}" 'BEGIN { printf "%.2f", a / b }')
  ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }
  printf '| %s | %s / %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$attack" "$(field ok "$normal")" "$(field sent "$normal")" "$(ms "$p50")" "$(ms "$p99")" "$(ms "$max")" \
    "$ratio" "$(field connections "$attack_line")" "$(field answers "$attack_line")" "$fds" >>"$report"
  echo "$attack: $normal ${attack_line:+| $attack_line}"
done
{
  echo
  echo "Server descriptors before the first attack: $baseline_fds. Server still running at the end: $(kill -0 $server 2>/dev/null && echo yes || echo no)."
  echo "\"attacker answered\" counts status codes of the attacker's connections (none: closed without an answer)."
} >>"$report"
cat "$report"
