#!/usr/bin/env bash
# npm test: set up what is missing, then every test: the protocol core with `cargo test` on the
# host, and the end-to-end suite against the worker under `wrangler dev` (tests/run-e2e.mjs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
select_toolchain || true
say "unit tests of the protocol core (cargo test, host)"
cargo test --quiet
say "end-to-end tests against wrangler dev"
node tests/run-e2e.mjs "$@"
