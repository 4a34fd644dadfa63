# shellcheck shell=bash
# The Markdown report of a load-test run, from the figures measure.sh
# collected. Sourced by run.sh.

# ratio A B: A / B to two decimals, or "n/a".
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else printf "n/a" }'
}

ratio_line() {
  local over=$1 under=$2
  if [[ -n ${accepted_rate[$over]:-} && -n ${accepted_rate[$under]:-} ]]; then
    echo "| $over / $under | $(ratio "${accepted_rate[$over]}" "${accepted_rate[$under]}")" \
      "| $(ratio "${stored_rate[$over]}" "${stored_rate[$under]}") |"
  fi
}

report() {
  local target commit
  echo "# Kruimel ingest load test, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo
  echo "| target | accepted beacons/s | stored beacons/s | p50 (µs) | p99 (µs) | peak RSS (MiB) | shed | lost in backlog | counts complete after (s) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for target in $TARGETS; do
    echo "| $target | ${accepted_rate[$target]} | ${stored_rate[$target]} | ${p50[$target]} | ${p99[$target]}" \
      "| ${rss[$target]} | ${shed[$target]} | ${lost[$target]:-–} | ${complete_after[$target]:-–} |"
  done
  echo
  echo "| ratio | accepted beacons/s | stored beacons/s |"
  echo "| --- | ---: | ---: |"
  ratio_line embedded baseline
  ratio_line redis embedded
  ratio_line redis2 embedded
  ratio_line redis2 redis
  echo
  for target in $TARGETS; do
    if [[ -n ${check_status[$target]:-} ]]; then
      echo "- Count check, $target: **${check_status[$target]}** — ${check_detail[$target]}"
    fi
  done
  echo
  echo "Accepted beacons/s counts 202 answers (counted, deliberately dropped and shed)"
  echo "per second of the measured run, summed over the wrk processes of a target;"
  echo "latencies are wrk's, including its own queueing, one figure per wrk process."
  echo "Shed beacons were answered 202 with X-Kruimel-Dropped: overloaded and are lost;"
  echo "lost in backlog are beacons answered as counted that were dropped because Redis refused their batch."
  echo "Stored beacons/s: the events in the stats API when the load stopped, per second"
  echo "of load. It counts only beacons answered as counted (no bots), and it trails by up"
  echo "to one flush; well below accepted beacons/s, the server took in beacons faster than"
  echo "it could count them, and holds the rest in its queue and Redis backlog (see the"
  echo "time until the counts were complete), or shed or lost them."
  echo "Counts complete after: seconds from the end of the load until the stats held"
  echo "every beacon answered as counted."
  echo
  echo "## CPU during the measured run"
  echo
  echo "Cores busy (CPU seconds per wall-clock second) while wrk ran; the machine has $(nproc)."
  echo "\"Everything else\" is the whole machine less the columns before it (the kernel's"
  echo "own work for the sockets is in the processes' system time): well above 0.05, something"
  echo "else was running, and the figures of that target are not to be trusted."
  echo
  echo "| target | server processes | of which aggregator threads | redis-server | wrk | everything else | whole machine |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for target in $TARGETS; do
    echo "| $target | ${cpu_server[$target]} | ${cpu_aggregator[$target]} | ${cpu_redis[$target]}" \
      "| ${cpu_wrk[$target]} | ${cpu_other[$target]} | ${cpu_machine[$target]} |"
  done
  for target in $TARGETS; do
    if [[ -n ${redis_stats[$target]:-} ]]; then
      echo
      echo "## Redis commands, $target"
      echo
      echo "INFO commandstats from the start of the measured run until its counts were complete,"
      echo "by total time. Scripts appear as evalsha; the commands they run appear on their own"
      echo "lines too, and their time is also inside evalsha's. Times are wall-clock inside Redis,"
      echo "so they include any time redis-server waited for a core."
      echo
      echo '```'
      echo "${redis_stats[$target]}"
      echo '```'
    fi
  done
  echo
  echo "## wrk output lines"
  echo
  echo '```'
  for target in $TARGETS; do
    for out in "$work_dir/$target".*.out; do
      grep -E '^(RESULT|LATENCY|REQUESTS) ' "$out" | sed "s/^/$target: /"
    done
  done
  echo '```'
  echo
  echo "## Commands"
  echo
  echo '```'
  printf '%s\n' "${wrk_commands[@]}"
  echo '```'
  echo
  echo "## Machine"
  echo
  echo '```'
  echo "uname -a: $(uname -a)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "load average before the run: $load_before"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  if [[ " $TARGETS " == *" redis"* ]]; then
    echo "redis-server: $(redis-server --version)"
  fi
  if commit=$(git rev-parse --short HEAD 2>/dev/null); then
    git diff --quiet HEAD 2>/dev/null || commit+=" with local changes"
  else
    commit=unknown
  fi
  echo "commit: $commit"
  echo '```'
}
