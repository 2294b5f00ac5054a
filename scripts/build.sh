#!/usr/bin/env bash
# Builds build/index.js + build/index_bg.wasm with worker-build (release), unless the build is
# newer than every source and was made with the same Cargo features. Also the [build] command of
# wrangler.toml. EDGE_OIDC_FEATURES (e.g. "bench", as `npm run bench` sets) adds Cargo features.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
FEATURES="${EDGE_OIDC_FEATURES:-}"
if [ -f build/index.js ] && [ -f build/index_bg.wasm ] && [ "${FORCE_BUILD:-}" != 1 ] \
   && [ "$(cat build/.features 2>/dev/null)" = "$FEATURES" ] \
   && [ -z "$(find src Cargo.toml Cargo.lock -newer build/index.js -print -quit)" ]; then
  exit 0
fi
select_toolchain || die "no Rust toolchain with the wasm32 target: run 'npm start' or 'bash scripts/setup.sh' first"
[ -x "$WORKER_BUILD_BIN" ] || die "worker-build missing at $WORKER_BUILD_BIN: run 'bash scripts/setup.sh'"
[ -x "$WASM_OPT_BIN" ] || die "wasm-opt missing: run 'npm ci'"
say "building the worker (release, $RUST_ROUTE toolchain${FEATURES:+, features: $FEATURES})"
# worker-build's lock is its build/.tmp directory; a build that was killed leaves it behind and
# the next one waits for it, then fails. With no worker-build running, it is stale.
if [ -d build/.tmp ] && ! pgrep -f "$WORKER_BUILD_BIN" >/dev/null 2>&1; then
  rm -rf build/.tmp
fi
EXTRA=()
[ -n "$FEATURES" ] && EXTRA=(. --features "$FEATURES")
"$WORKER_BUILD_BIN" --release "${EXTRA[@]}" || die "the worker build failed: see the compiler messages above"
printf '%s' "$FEATURES" >build/.features
touch build/index.js
