# Sourced by the other scripts: where the tools live and which Rust toolchain builds wasm32.
# It only looks; scripts/setup.sh installs what is missing.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${EDGE_OIDC_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/edge-oidc/tools}"
export WRANGLER_SEND_METRICS=false

say() { printf '\033[1m[edge-oidc]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[edge-oidc] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Version of a package as resolved in Cargo.lock (the first match).
lock_version() {
  awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}
WASM_BINDGEN_VERSION="$(lock_version wasm-bindgen)"
WORKER_VERSION="$(lock_version worker)"
export WASM_BINDGEN_BIN="$TOOLS/wasm-bindgen-$WASM_BINDGEN_VERSION/bin/wasm-bindgen"
WORKER_BUILD_BIN="$TOOLS/worker-build-$WORKER_VERSION/bin/worker-build"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"

# True when the rustc found first in PATH (or the one given) has a wasm32 standard library.
has_wasm_std() {
  local rustc="${1:-rustc}" dir
  dir="$("$rustc" --print target-libdir --target wasm32-unknown-unknown 2>/dev/null)" || return 1
  compgen -G "$dir/libstd-*.rlib" >/dev/null
}

# Chooses the toolchain: rustup's when it has the wasm32 target, else Debian's rustc-web
# (/usr/bin) with the sysroot setup.sh builds. Puts /usr/bin first in PATH for the latter,
# because rustup's proxies in ~/.cargo/bin would shadow it (worker-build finds rustc via PATH).
select_toolchain() {
  if command -v rustc >/dev/null && has_wasm_std rustc; then
    RUST_ROUTE=rustup
  elif [ -x /usr/bin/rustc ] && has_wasm_std /usr/bin/rustc; then
    RUST_ROUTE=debian
    export PATH="/usr/bin:$PATH"
  else
    RUST_ROUTE=none
    return 1
  fi
}
