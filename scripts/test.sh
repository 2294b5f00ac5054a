#!/usr/bin/env bash
# npm test: set up what is missing, then every check: formatting and clippy (scripts/lint.sh),
# the protocol core with `cargo test` on the host, and the end-to-end suite against the worker
# under `wrangler dev` (tests/run-e2e.mjs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/lint.sh
select_toolchain || true
say "unit tests of the protocol core (cargo test, host)"
cargo test --quiet
# The browser tests drive Debian's Chromium (playwright-core cannot download a browser here).
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
    say "installing Debian's chromium for the browser tests"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || die "apt-get install chromium failed"
  else
    die "the browser tests need Chromium: install it (sudo apt-get install chromium) or set CHROMIUM_PATH"
  fi
fi
say "end-to-end tests against wrangler dev"
node tests/run-e2e.mjs "$@"
