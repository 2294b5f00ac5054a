#!/usr/bin/env bash
# npm run lint (and the first step of npm test): formatting and clippy, warnings as errors.
# Uses the default cargo on PATH (rustup's, which has rustfmt and clippy); adds the components
# when they are missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  command -v rustup >/dev/null || die "cargo fmt and cargo clippy are needed: install rustup (https://rustup.rs), then
    rustup component add rustfmt clippy"
  say "adding rustfmt and clippy with rustup"
  timeout 120 rustup component add rustfmt clippy || die "rustup component add rustfmt clippy failed"
fi
say "cargo fmt --check"
cargo fmt --check || die "the code is not formatted: run cargo fmt"
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --quiet --all-targets -- -D warnings || die "clippy found problems (above)"
# The benchmark-only code (feature `bench`) is linted too.
cargo clippy --quiet --all-targets --all-features -- -D warnings || die "clippy found problems (above)"
# The JavaScript (tests, scripts, bench, the entry module, the passkey page script): Biome's
# formatter and linter (biome.json). `npm run format` fixes what it can.
say "biome check (JavaScript: format and lint)"
[ -x node_modules/.bin/biome ] || die "biome missing: run 'npm ci' (or npm start / npm test, which install it)"
node_modules/.bin/biome check --no-errors-on-unmatched . || die "biome found problems (above): run npm run format"
