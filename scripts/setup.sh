#!/usr/bin/env bash
# Installs whatever the build needs and is missing, then builds the worker. Idempotent: when
# everything is current it only checks, in a second or two.
#   npm packages (wrangler, esbuild, binaryen's wasm-opt) from package-lock.json
#   a Rust toolchain with the wasm32-unknown-unknown standard library
#   wasm-bindgen-cli at exactly the Cargo.lock version, worker-build at the worker crate's version
#   .dev.vars with a fresh ES256 signing key and bootstrap admin token (development only)
#   git's core.hooksPath set to .githooks (the commit-msg hook), unless set to something else
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else
    die "this step needs root. Run these commands yourself, then run this again:
    sudo $*"
  fi
}

ensure_npm_packages() {
  command -v node >/dev/null || die "Node.js 20 or newer is needed (https://nodejs.org); install it and retry."
  # node_modules/.package-lock.json is written by npm after a successful install.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages"
    npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed: see the npm messages above."
  fi
}

# Debian route (docs/BUILDING.md, "The wasm32 target"): rustc-web 1.96 + its std sources, and a wasm32 sysroot built
# once from them with -Zbuild-std. embed-bitcode is needed because the release profile uses LTO.
install_debian_wasm_toolchain() {
  say "installing Debian's rustc-web toolchain and lld (for wasm32)"
  as_root apt-get update -qq || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src lld-22 \
    || die "apt-get install rustc-web cargo-web rust-web-src lld-22 failed"
  local libdir tmp
  libdir="$(/usr/bin/rustc --print target-libdir --target wasm32-unknown-unknown)"
  tmp="$(mktemp -d)"
  say "building the wasm32 standard library once (about a minute)"
  mkdir -p "$tmp/src"
  printf '[package]\nname = "wasm_sysroot_probe"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n' >"$tmp/Cargo.toml"
  echo 'pub fn f() {}' >"$tmp/src/lib.rs"
  ( cd "$tmp" && RUSTC_BOOTSTRAP=1 RUSTFLAGS="-C embed-bitcode=yes" \
      PATH="/usr/bin:$PATH" cargo build --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort ) \
    || die "building the wasm32 std from /usr/lib/rustlib/src failed (is rust-web-src installed?)"
  as_root mkdir -p "$libdir"
  as_root find "$tmp/target/wasm32-unknown-unknown/release/deps" -name 'lib*.rlib' \
    ! -name 'libwasm_sysroot_probe*' -exec cp {} "$libdir/" \;
  rm -rf "$tmp"
  # Stale wasm artifacts built against another sysroot give "can't find crate".
  rm -rf "$ROOT/target/wasm32-unknown-unknown"
}

ensure_wasm_toolchain() {
  select_toolchain && return 0
  if command -v rustup >/dev/null; then
    say "adding the wasm32-unknown-unknown target with rustup"
    if timeout 60 rustup target add wasm32-unknown-unknown && select_toolchain; then return 0; fi
    say "rustup could not add the target (no network to its servers?); trying Debian's toolchain"
  fi
  command -v apt-get >/dev/null || die "no wasm32 Rust target: install rustup (https://rustup.rs) and run
    rustup target add wasm32-unknown-unknown"
  install_debian_wasm_toolchain
  select_toolchain || die "the wasm32 standard library is still missing after the Debian set-up"
}

# cargo install into a versioned folder, so the version is part of the path and a second
# project version never clobbers the first.
ensure_cargo_tool() { # crate version binary-path
  local crate="$1" version="$2" bin="$3"
  [ -x "$bin" ] && return 0
  say "installing $crate $version (several minutes, once)"
  # --locked is not used: one of wasm-bindgen-cli's locked versions is missing from the registry.
  cargo install "$crate" --version "=$version" --root "$(dirname "$(dirname "$bin")")" \
    || die "cargo install $crate --version =$version failed: see the cargo messages above."
}

ensure_dev_vars() {
  if [ -f .dev.vars ]; then
    # A file from before a variable existed gets just the variables it lacks.
    node scripts/gen-dev-vars.mjs --missing .dev.vars >>.dev.vars
    return 0
  fi
  say "writing .dev.vars with a new development signing key and bootstrap token"
  node scripts/gen-dev-vars.mjs >.dev.vars
}

# The repository's git hooks (.githooks/commit-msg: the commit message rules of CONTRIBUTING.md).
# A hooks path the developer set themselves is left alone, with a note.
ensure_git_hooks() {
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
  local current
  current="$(git config --get core.hooksPath || true)"
  if [ -z "$current" ]; then
    git config core.hooksPath .githooks
  elif [ "$current" != ".githooks" ]; then
    say "core.hooksPath is $current: the commit-msg hook in .githooks is not used (CONTRIBUTING.md)"
  fi
}

ensure_git_hooks
ensure_npm_packages
ensure_wasm_toolchain
command -v cargo >/dev/null || die "cargo not found"
[ -n "$WASM_BINDGEN_VERSION" ] || die "no wasm-bindgen in Cargo.lock"
ensure_cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" "$WASM_BINDGEN_BIN"
ensure_cargo_tool worker-build "$WORKER_VERSION" "$WORKER_BUILD_BIN"
ensure_dev_vars
bash scripts/build.sh
