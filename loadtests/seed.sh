#!/usr/bin/env bash
# Fills a data directory with a year of a municipal site's traffic, sent as
# real beacons through the real server (the `seed` example, loadtests/seed/),
# for loadtests/stats_bench.sh.
#
#   loadtests/seed.sh                                  10 million pageviews over 12 months
#   DATA_DIR=target/seed/12m loadtests/seed.sh --per-month 1000000
#
# DATA_DIR (default target/seed/10m) must not hold a database yet. Any other
# arguments go to the seeder: --pageviews N, --per-month N, --months 12,
# --end YYYY-MM-DD (default yesterday), --seed N, --redis-url redis://…
# It uses .ci/cache/country.mmdb for countries when present
# (.ci/fetch-country-db fetches it); without it every country is unknown.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=${DATA_DIR:-target/seed/10m}
if [[ -e $data_dir/kruimel.redb ]]; then
  echo "$data_dir already holds a database; remove it or choose another DATA_DIR" >&2
  exit 1
fi
cargo build --release --locked --example seed
mkdir -p "$data_dir"
uptime
/usr/bin/time -f "seeding took %e s wall, %U s user, %S s system; peak RSS %M KiB" \
  target/release/examples/seed --data-dir "$data_dir" "$@"
# On Redis there is no database file to measure.
if [[ -e $data_dir/kruimel.redb ]]; then
  du -h "$data_dir/kruimel.redb"
  echo "each table's bytes: cargo run --release --example store_bytes -- $data_dir"
fi
