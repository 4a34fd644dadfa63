#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then the integration tests against
# the real server, including country lookups against a real MaxMind-format
# database (fetched once from the npm registry into .ci/cache).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/fetch-country-db
cargo test --locked --lib --bins --examples
cargo test --locked --test it
