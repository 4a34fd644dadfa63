#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then the integration tests against
# the real server, including country lookups against a real MaxMind-format
# database (fetched once from the npm registry into .ci/cache).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/fetch-country-db
.ci/fetch-plausible-tracker
cargo test --locked --lib --bins --examples
cargo test --locked --test it
# The script (js-snippet/): the committed build matches the source and the
# tracker stays within 1 KB gzipped; then the browser tests, in Debian's
# Chromium against the binary, which embeds that build.
cargo build --locked --bin kruimel
npm --prefix js-snippet ci
npm --prefix js-snippet run check
npm --prefix js-snippet test
npm --prefix src/dashboard/ui ci
npm --prefix src/dashboard/ui run check
npm --prefix src/dashboard/ui test
# API robustness: schemathesis against the server's own OpenAPI document
# (no 5xx, every answer as documented); then a short run of each fuzz target.
.ci/schemathesis
.ci/fuzz short
