# shellcheck shell=bash
# What a load-test target is measured by: the wrk runs and their output,
# the CPU of every process, Kruimel's metrics and stats API, and the count
# check. Sourced by run.sh, whose settings and servers it uses.

# joined SEPARATOR VALUE...: the values with SEPARATOR between them.
joined() {
  local separator=$1 first=$2
  shift 2
  printf '%s' "$first" "${@/#/$separator}"
}

# --- CPU accounting ----------------------------------------------------------

# cpu_ticks PATH...: user plus system clock ticks of the processes or
# threads (/proc/PID or /proc/PID/task/TID), summed.
cpu_ticks() {
  local path stat total=0 fields
  for path in "$@"; do
    stat=$(<"$path/stat") || continue
    # The command name is in parentheses and may hold spaces: skip past it.
    read -r -a fields <<<"${stat##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# machine_ticks: "busy total" clock ticks of all cores since boot.
machine_ticks() {
  awk '/^cpu / { total = 0; for (i = 2; i <= NF; i++) total += $i;
                 print total - $5 - $6, total }' /proc/stat
}

# aggregator_thread PID: the /proc path of Kruimel's aggregator thread.
aggregator_thread() {
  local task
  for task in /proc/"$1"/task/*; do
    if [[ $(<"$task/comm") == kruimel-aggrega* ]]; then
      echo "$task"
      return
    fi
  done
}

# cpu_snapshot: prints "wall server aggregator redis machine_busy machine_total"
# for the servers of the target being measured.
cpu_snapshot() {
  local server aggregator redis=0 machine
  server=$(cpu_ticks "${server_paths[@]}")
  aggregator=$(cpu_ticks "${aggregator_paths[@]}")
  [[ -n $redis_pid ]] && redis=$(cpu_ticks "/proc/$redis_pid")
  machine=$(machine_ticks)
  echo "$EPOCHREALTIME $server $aggregator $redis $machine"
}

# cores TICKS SECONDS: clock ticks spent over SECONDS of wall-clock time, in cores.
cores() {
  awk -v t="$1" -v w="$2" -v hz="$CLOCK_TICKS" 'BEGIN { printf "%.2f", t / hz / w }'
}

# wrk_seconds NAME: CPU seconds of the wrk processes of run NAME.
wrk_seconds() {
  # The second line of `times` is the children's user and system time.
  awk 'FNR == 2 { gsub(/[ms]/, " "); total += 60 * $1 + $2 + 60 * $3 + $4 }
       END { print total + 0 }' "$work_dir/$1".*.times
}

# record_cpu TARGET BEFORE AFTER: CPU use during the measured run, in cores.
declare -A cpu_server cpu_aggregator cpu_redis cpu_wrk cpu_other cpu_machine
record_cpu() {
  local target=$1 before after
  read -r -a before <<<"$2"
  read -r -a after <<<"$3"
  local wall
  wall=$(awk -v a="${before[0]}" -v b="${after[0]}" 'BEGIN { print b - a }')
  cpu_server[$target]=$(cores $((after[1] - before[1])) "$wall")
  cpu_aggregator[$target]=$(cores $((after[2] - before[2])) "$wall")
  cpu_redis[$target]=$(cores $((after[3] - before[3])) "$wall")
  cpu_machine[$target]=$(awk -v busy=$((after[4] - before[4])) -v total=$((after[5] - before[5])) \
    -v n="$(nproc)" 'BEGIN { printf "%.2f", n * busy / total }')
  cpu_wrk[$target]=$(awk -v s="$(wrk_seconds "$target")" -v w="$wall" 'BEGIN { printf "%.2f", s / w }')
  cpu_other[$target]=$(awk -v m="${cpu_machine[$target]}" -v s="${cpu_server[$target]}" \
    -v r="${cpu_redis[$target]}" -v w="${cpu_wrk[$target]}" 'BEGIN { printf "%.2f", m - s - r - w }')
  if [[ $target == baseline ]]; then
    cpu_aggregator[$target]="–"
  fi
  if [[ $target != redis* ]]; then
    cpu_redis[$target]="–"
  fi
}

# --- wrk ---------------------------------------------------------------------

# field NAME FILE: the value of NAME=<value> on the wrk script's lines.
field() {
  grep -oE "(^| )$1=[0-9]+" "$2" | tail -n 1 | cut -d= -f2
}

# field_sum NAME FILE...: field NAME summed over the files.
field_sum() {
  local name=$1 file total=0
  shift
  for file in "$@"; do
    total=$((total + $(field "$name" "$file")))
  done
  echo "$total"
}

wrk_commands=()

# run_load NAME SECONDS SITE PORT...: one wrk per port, all at once, the
# connections split evenly; wrk number N writes $work_dir/NAME.N.out and
# sends request stream N, so the instances see different visits.
run_load() {
  local name=$1 seconds=$2 site=$3
  shift 3
  local connections=$((WRK_CONNECTIONS / $#)) stream=0 port pid pids=() failed=0 command quoted
  for port in "$@"; do
    stream=$((stream + 1))
    command=(wrk "-t$WRK_THREADS" "-c$connections" "-d${seconds}s" --latency
      -s loadtests/beacons.lua "http://127.0.0.1:$port/api/event" -- "$site" "$stream")
    quoted=$(printf '%q ' "${command[@]}")
    wrk_commands+=("${quoted% }")
    # The subshell's `times` is wrk's own CPU time, for the CPU table.
    (
      status=0
      "${command[@]}" >"$work_dir/$name.$stream.out" || status=$?
      times >"$work_dir/$name.$stream.times"
      exit "$status"
    ) &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
  done
  for ((stream = 1; stream <= ${#pids[@]}; stream++)); do
    if ! grep -q '^RESULT ' "$work_dir/$name.$stream.out"; then
      echo "wrk printed no RESULT line; its output:" >&2
      cat "$work_dir/$name.$stream.out" >&2
      failed=1
    fi
  done
  return "$failed"
}

declare -A accepted_rate stored_rate p50 p99 rss shed lost complete_after
declare -A check_status check_detail redis_stats

# record_load TARGET: rates and latencies from the measured run's wrk output.
record_load() {
  local target=$1 out rate=0 p50s=() p99s=()
  for out in "$work_dir/$target".*.out; do
    rate=$(awk -v r="$rate" -v n=$(($(field counted "$out") + $(field dropped "$out"))) \
      -v us="$(field duration_us "$out")" 'BEGIN { printf "%.0f", r + n / (us / 1e6) }')
    p50s+=("$(field p50_us "$out")")
    p99s+=("$(field p99_us "$out")")
    grep -E '^(RESULT|LATENCY|REQUESTS) ' "$out" >&2
  done
  accepted_rate[$target]=$rate
  p50[$target]=$(joined " / " "${p50s[@]}")
  p99[$target]=$(joined " / " "${p99s[@]}")
}

# --- Kruimel's own figures ---------------------------------------------------

# metric ADMIN_PORT NAME: the value of an unlabelled metric, 0 when absent.
metric() {
  { curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } |
    awk -v name="$2" '$1 == name { value = $2 } END { printf "%.0f", value }'
}

# metric_sum NAME: the metric summed over the target's instances.
metric_sum() {
  local port total=0
  for port in "${instance_admin_ports[@]}"; do
    total=$((total + $(metric "$port" "$1")))
  done
  echo "$total"
}

# events_in_stats PORT SITE: today's events of SITE according to the stats API.
events_in_stats() {
  local url="http://127.0.0.1:$1/api/v1/stats/aggregate?site_id=$2&period=day&metrics=events"
  curl -fsS --max-time 5 -H "Authorization: Bearer $TOKEN" "$url" >"$work_dir/stats.json" || return 1
  tr -d ' \n\r\t' <"$work_dir/stats.json" | grep -oE '"events":\{[^}]*\}' |
    grep -oE '"value":[0-9]+' | cut -d: -f2
}

# Hits answered 202 as counted but dropped later, because Redis refused
# their batch. Shed beacons (also those shed once the Redis backlog is
# full) need no such correction: they are answered with
# X-Kruimel-Dropped: overloaded, so wrk never saw them as counted.
LOST_METRIC=kruimel_redis_backlog_dropped_total

# settle NAME SITE LOST_BEFORE: waits (at most FLUSH_WAIT) until the stats
# of the first instance hold every beacon the wrk runs NAME.*.out saw
# counted, less those lost since LOST_BEFORE, and stop changing. Sets
# settled_lost and settled_after (seconds from load_ended until complete,
# empty if never).
settle() {
  local name=$1 site=$2 lost_before=$3 outs=("$work_dir/$1".*.out)
  local counted deadline=$((SECONDS + FLUSH_WAIT)) events previous=""
  counted=$(field_sum counted "${outs[@]}")
  settled_after=""
  while true; do
    settled_lost=$(($(metric_sum "$LOST_METRIC") - lost_before))
    events=$(events_in_stats "${instance_ports[0]}" "$site") || events=""
    if [[ -n $events ]] && ((events >= counted - settled_lost)); then
      [[ -z $settled_after ]] &&
        settled_after=$(awk -v a="$load_ended" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
      [[ $events == "$previous" ]] && break
    fi
    ((SECONDS >= deadline)) && break
    previous=$events
    sleep 0.5
  done
}

# Beacons answered as counted must all be in the stats, less those
# dropped from a batch Redis refused. Requests wrk wrote but had no answer to when it
# stopped may or may not have been counted, so the count may exceed that
# by at most their number. With two instances on one Redis, each must
# report the sum of both.
check_counts() {
  local target=$1 lost_before=$2 outs=("$work_dir/$1".*.out)
  local counted unanswered port events all_events=() status=PASS
  counted=$(field_sum counted "${outs[@]}")
  unanswered=$(field_sum unanswered "${outs[@]}")
  echo "== $target: waiting up to ${FLUSH_WAIT}s for the counts to settle" >&2
  settle "$target" "$SITE" "$lost_before"
  lost[$target]=$settled_lost
  complete_after[$target]=${settled_after:-"> $FLUSH_WAIT"}
  local low=$((counted - settled_lost)) high=$((counted - settled_lost + unanswered))
  for port in "${instance_ports[@]}"; do
    events=$(events_in_stats "$port" "$SITE") || events=""
    all_events+=("${events:-none}")
    if [[ -z $events ]] || ((events < low || events > high)); then
      status=FAIL
    fi
  done
  if [[ $status == PASS && ${#all_events[@]} -gt 1 && $(printf '%s\n' "${all_events[@]}" | sort -u | wc -l) -ne 1 ]]; then
    status=FAIL
  fi
  check_status[$target]=$status
  check_detail[$target]="stats events=$(joined " / " "${all_events[@]}"), wrk counted=$counted"
  check_detail[$target]+=" − lost in the Redis backlog ${settled_lost}"
  check_detail[$target]+=" (+ at most $unanswered unanswered at stop)"
  if [[ $status == FAIL && ${all_events[0]} == none ]]; then
    check_detail[$target]+="; the stats API's last answer: $(tr -s ' \n\r\t' ' ' <"$work_dir/stats.json" 2>/dev/null | head -c 300 || true)"
  fi
  echo "${check_status[$target]}: ${check_detail[$target]}" >&2
}

# redis_cpu_seconds: redis-server's own CPU time so far (INFO cpu: the
# main thread and its helpers, system and user).
redis_cpu_seconds() {
  redis-cli -p "$redis_port" info cpu |
    awk -F: '/^used_cpu_(sys|user):/ { total += $2 } END { printf "%.3f", total }'
}

# redis_cpu_line BEFORE EVENTS: redis-server's CPU since BEFORE per stored beacon.
redis_cpu_line() {
  awk -v before="$1" -v after="$(redis_cpu_seconds)" -v events="$2" 'BEGIN {
      per = 0
      if (events > 0) per = (after - before) * 1e6 / events
      printf "redis-server CPU, measured run and drain: %.2f s for %d stored beacons = %.1f µs per beacon",
        after - before, events, per }'
}

# redis_start_stats: resets INFO commandstats and has SLOWLOG keep every
# call of 100 µs or more, so redis_scripts can split EVALSHA's time by
# script. A script call takes milliseconds; the commands it runs take about
# a microsecond each, and logging every one of those (a threshold of 0)
# cost Redis more CPU and memory than the commands themselves.
redis_start_stats() {
  redis-cli -p "$redis_port" config resetstat >/dev/null
  redis-cli -p "$redis_port" config set slowlog-max-len 1000000 >/dev/null
  redis-cli -p "$redis_port" config set slowlog-log-slower-than 100 >/dev/null
  redis-cli -p "$redis_port" slowlog reset >/dev/null
}

# redis_scripts: EVALSHA's time by script (SLOWLOG durations, execution
# only), each named by the file whose SHA-1 it is.
redis_scripts() {
  local file names=""
  for file in src/sessions/shared/*.lua src/store/redis/*.lua; do
    names+="$(sha1sum "$file" | cut -d' ' -f1)=$(basename "$file") "
  done
  redis-cli -p "$redis_port" --json slowlog get 1000000 |
    grep -oE '[0-9]+,[0-9]+,[0-9]+,\["(evalsha|EVALSHA)","[0-9a-f]{40}"' |
    awk -F'[,"]+' -v names="$names" '
      BEGIN { n = split(names, pairs, " "); for (i = 1; i <= n; i++) { split(pairs[i], kv, "="); name[kv[1]] = kv[2] } }
      { sha = $6; calls[sha]++; total[sha] += $3; all += $3 }
      END { for (sha in total) printf "%-18s calls=%-6d total=%7.2f s  share=%5.1f%%  per call=%9.1f µs\n",
              (sha in name) ? name[sha] : substr(sha, 1, 12), calls[sha], total[sha] / 1e6,
              100 * total[sha] / all, total[sha] / calls[sha] }' |
    sort -t= -k3 -rn
}

# redis_summary: the commands that cost redis-server most during the
# measured run (scripts appear as evalsha; commands they call are counted
# both on their own line and inside evalsha's time).
redis_summary() {
  redis-cli -p "$redis_port" info commandstats |
    awk -F'[:,=]' '/^cmdstat_/ {
        printf "%-14s calls=%-9d total=%7.2f s  per call=%9.1f µs\n",
          substr($1, 9), $3, $5 / 1e6, $7 }' |
    sort -t= -k3 -rn | head -n 8
  echo
  redis_scripts
}
