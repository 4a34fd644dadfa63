# shellcheck shell=bash
# Reading what the soak example (loadtests/soak/) printed, and the stats
# API's totals, for soak.sh and flood.sh. The example prints one line per
# sample and per result, as `KIND key=value key=value ...`.

# values KIND NAME FILE: NAME's value on every KIND line, one per line.
values() {
  awk -v kind="$1" -v name="$2" '$1 == kind {
      for (i = 2; i <= NF; i++) { split($i, pair, "="); if (pair[1] == name) print pair[2] } }' "$3"
}

# value KIND NAME FILE: NAME's value on the last KIND line.
value() {
  values "$1" "$2" "$3" | tail -n 1
}

# after SECONDS NAME FILE: NAME on the SAMPLE lines from SECONDS into the
# load on, one per line.
after() {
  awk -v from="$1" -v name="$2" '$1 == "SAMPLE" {
      delete fields
      for (i = 2; i <= NF; i++) { split($i, pair, "="); fields[pair[1]] = pair[2] }
      if (fields["t"] + 0 >= from) print fields[name] }' "$3"
}

# minimum, maximum: of the numbers on standard input.
minimum() { sort -n | head -n 1; }
maximum() { sort -n | tail -n 1; }

# mib KIB: kibibytes as mebibytes, one decimal.
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# fd_count PID: the process's open file descriptors.
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# stats_totals PORT SITE: "pageviews events" of SITE over the last 7 days
# (the data directory is fresh, so that is everything the run sent).
stats_totals() {
  local url="http://127.0.0.1:$1/api/v1/stats/aggregate?site_id=$2&period=7d&metrics=pageviews,events"
  curl -fsS --max-time 10 -H "Authorization: Bearer $TOKEN" "$url" | tr -d ' \n\r\t' |
    awk '{ match($0, /"pageviews":\{"value":[0-9]+/); p = substr($0, RSTART, RLENGTH)
           match($0, /"events":\{"value":[0-9]+/); e = substr($0, RSTART, RLENGTH)
           sub(/.*:/, "", p); sub(/.*:/, "", e); print p, e }'
}

# settled_totals PORT SITE EVENTS SECONDS: the stats' "pageviews events"
# once events reached EVENTS and stopped changing, or after SECONDS.
settled_totals() {
  local deadline=$((SECONDS + $4)) totals previous=""
  while true; do
    totals=$(stats_totals "$1" "$2" 2>/dev/null) || totals=""
    if [[ -n $totals && ${totals#* } -ge $3 && $totals == "$previous" ]] || ((SECONDS >= deadline)); then
      echo "$totals"
      return
    fi
    previous=$totals
    sleep 1
  done
}

# check NAME PASSED DETAIL: records a check for the report; PASSED is
# 0 (yes) or anything else (no).
checks=()
failed_checks=0
check() {
  local verdict=PASS
  if [[ $2 != 0 ]]; then
    verdict=FAIL
    failed_checks=$((failed_checks + 1))
  fi
  checks+=("| $1 | **$verdict** | $3 |")
  echo "$verdict: $1 — $3" >&2
}

# tree_commit: the commit the binaries are built from, and whether the
# tree differs from it where that matters. Read before the build: the
# tree may change while the load runs.
tree_commit() {
  local commit
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null ||
    commit+=" with local changes under src/ or in Cargo.*"
  echo "$commit"
}

# note_run_context: sets load_before, started_at and commit for the report.
# Call it before the build: the tree may change while the load runs.
note_run_context() {
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  started_at=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
  commit=$(tree_commit)
}

# write_report KIND: writes what the script's `report` prints to
# loadtests/results/KIND-<UTC time>.md (its name in report_file) and says where.
write_report() {
  mkdir -p loadtests/results
  report_file="loadtests/results/$1-$(date -u +%Y%m%dT%H%M%SZ).md"
  report >"$report_file"
  echo "== report: $report_file" >&2
}

# machine LOAD_BEFORE COMMIT: Markdown lines on the machine, the commit
# and the load average before the run.
machine() {
  echo "- machine: $(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
  echo "- commit: $2"
  echo "- load average before the run: $1"
}
