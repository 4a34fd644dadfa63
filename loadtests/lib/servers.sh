# shellcheck shell=bash
# The servers a load-test target runs: free loopback ports, the baseline,
# redis-server and Kruimel instances with their generated configs, and
# stopping them. Sourced by run.sh, whose settings and work_dir it uses.

# --- processes and ports ------------------------------------------------------

# Asks politely (Kruimel flushes on SIGTERM), then insists.
stop_server() {
  local pid=$1 tries
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((tries = 0; tries < 100; tries++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

port_is_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port VARIABLE: sets VARIABLE to a port nothing listens on now and
# that this run has not handed out yet, outside the kernel's range for
# outgoing connections: a port from that range can be taken by one of wrk's
# or a client's connections between this check and the server's bind.
used_ports=" "
read -r ephemeral_low ephemeral_high </proc/sys/net/ipv4/ip_local_port_range
if ((ephemeral_low > 11000)); then
  port_first=10000 port_count=$((ephemeral_low - 10000))
else
  port_first=$((ephemeral_high + 1)) port_count=$((65536 - ephemeral_high - 1))
fi
free_port() {
  local -n chosen=$1
  local candidate
  while true; do
    candidate=$((port_first + (RANDOM * 32768 + RANDOM) % port_count))
    if [[ $used_ports != *" $candidate "* ]] && ! port_is_open "$candidate"; then
      used_ports+="$candidate "
      # shellcheck disable=SC2034 # chosen is a reference to the caller's variable
      chosen=$candidate
      return
    fi
  done
}

# wait_for_server SECONDS PID COMMAND...: retries COMMAND every 0.1 s for
# at most SECONDS, giving up early if the server process has exited.
wait_for_server() {
  local deadline=$((SECONDS + $1)) pid=$2
  shift 2
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.1
  done
}

peak_rss_mib() {
  awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# use_work_dir NAME: a fresh work_dir and an empty server_pids, both
# removed on exit, when the servers are stopped newest first (Kruimel
# instances flush into the Redis that was started before them).
use_work_dir() {
  work_dir=$(mktemp -d "${TMPDIR:-/tmp}/kruimel-$1.XXXXXX")
  server_pids=()
  trap stop_all_and_clean EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

stop_all_and_clean() {
  local index
  for ((index = ${#server_pids[@]} - 1; index >= 0; index--)); do
    stop_server "${server_pids[index]}"
  done
  rm -rf "$work_dir"
}

# --- the target's servers -----------------------------------------------------

# The target being measured: its servers' ports, processes and Redis.
instance_ports=()
instance_admin_ports=()
instance_pids=()
server_paths=()
aggregator_paths=()
redis_pid=""
redis_port=""

forget_instances() {
  local pid
  for pid in "${instance_pids[@]}"; do
    stop_server "$pid"
  done
  [[ -n $redis_pid ]] && stop_server "$redis_pid"
  instance_ports=()
  instance_admin_ports=()
  instance_pids=()
  server_paths=()
  aggregator_paths=()
  redis_pid=""
  redis_port=""
}

start_baseline() {
  local port pid
  free_port port
  "$TARGET_DIR/release/examples/baseline" "127.0.0.1:$port" 2>"$work_dir/baseline.log" &
  pid=$!
  server_pids+=("$pid")
  if ! wait_for_server 10 "$pid" port_is_open "$port"; then
    echo "baseline did not start listening on port $port; its log:" >&2
    cat "$work_dir/baseline.log" >&2
    return 1
  fi
  instance_ports+=("$port")
  instance_pids+=("$pid")
  server_paths+=("/proc/$pid")
}

redis_answers() {
  [[ $(redis-cli -p "$1" ping 2>/dev/null) == PONG ]]
}

# start_redis NAME: a redis-server without persistence, on a free port.
start_redis() {
  local dir="$work_dir/$1-redis" port pid
  mkdir -p "$dir"
  free_port port
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" &
  pid=$!
  server_pids+=("$pid")
  if ! wait_for_server 10 "$pid" redis_answers "$port"; then
    echo "redis-server did not answer on port $port; its log:" >&2
    tail -n 20 "$dir/redis.log" >&2
    return 1
  fi
  redis_pid=$pid
  redis_port=$port
}

token_hash=""

# write_kruimel_config NAME PORT ADMIN_PORT BACKEND
write_kruimel_config() {
  local name=$1 port=$2 admin_port=$3 backend=$4
  if [[ -z $token_hash ]]; then
    token_hash=$("$TARGET_DIR/release/kruimel" hash-token "$TOKEN")
    if ! [[ $token_hash =~ ^blake3:[0-9a-f]{64}$ ]]; then
      echo "kruimel hash-token printed '$token_hash', expected blake3:<64 hex>" >&2
      return 1
    fi
  fi
  cat >"$work_dir/$name.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
admin_listen = "127.0.0.1:$admin_port"
data_dir = "$work_dir/$name-data"
trusted_proxies = ["127.0.0.1/32"]

[[sites]]
id = "$SITE"
hostnames = ["$SITE"]
tokens = ["$token_hash"]

[[sites]]
id = "$WARMUP_SITE"
hostnames = ["$WARMUP_SITE"]
tokens = ["$token_hash"]
EOF
  if [[ $backend == redis ]]; then
    cat >>"$work_dir/$name.toml" <<EOF

[store]
backend = "redis"

[store.redis]
urls = ["redis://127.0.0.1:$redis_port/"]
EOF
  fi
}

kruimel_is_ready() {
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$1/readyz" 2>/dev/null
}

# start_kruimel NAME BACKEND: one instance with its defaults, on free ports.
start_kruimel() {
  local name=$1 backend=$2 port admin_port pid
  free_port port
  free_port admin_port
  write_kruimel_config "$name" "$port" "$admin_port" "$backend"
  "$TARGET_DIR/release/kruimel" serve --config "$work_dir/$name.toml" \
    >"$work_dir/$name.log" 2>&1 &
  pid=$!
  server_pids+=("$pid")
  if ! wait_for_server 10 "$pid" kruimel_is_ready "$admin_port"; then
    echo "kruimel ($name) exited or was not ready within 10 s; its log:" >&2
    # Without the frames of a backtrace, which would hide the message.
    grep -vE '^ +([0-9]+: |at )' "$work_dir/$name.log" | tail -n 30 >&2
    return 1
  fi
  instance_ports+=("$port")
  instance_admin_ports+=("$admin_port")
  instance_pids+=("$pid")
  server_paths+=("/proc/$pid")
  aggregator_paths+=("$(aggregator_thread "$pid")")
}
