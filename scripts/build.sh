#!/usr/bin/env bash
# Builds build/index.js + build/index_bg.wasm with worker-build (release), unless the build is
# newer than every source. Also the [build] command of wrangler.toml.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
if [ -f build/index.js ] && [ -f build/index_bg.wasm ] && [ "${FORCE_BUILD:-}" != 1 ] \
   && [ -z "$(find src Cargo.toml Cargo.lock -newer build/index.js -print -quit)" ]; then
  exit 0
fi
select_toolchain || die "no Rust toolchain with the wasm32 target: run 'npm start' or 'bash scripts/setup.sh' first"
[ -x "$WORKER_BUILD_BIN" ] || die "worker-build missing at $WORKER_BUILD_BIN: run 'bash scripts/setup.sh'"
[ -x "$WASM_OPT_BIN" ] || die "wasm-opt missing: run 'npm ci'"
say "building the worker (release, $RUST_ROUTE toolchain)"
"$WORKER_BUILD_BIN" --release || die "the worker build failed: see the compiler messages above"
touch build/index.js
