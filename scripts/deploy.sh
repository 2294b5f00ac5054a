#!/usr/bin/env bash
# npm run deploy: build and `wrangler deploy`. See README "Deploy" for the one-time set-up
# (D1 database, KV namespace, secrets, remote migrations).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
npx wrangler d1 migrations apply DB --remote
exec npx wrangler deploy "$@"
