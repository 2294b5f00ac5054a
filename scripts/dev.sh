#!/usr/bin/env bash
# npm start: set up what is missing, apply the D1 migrations locally, serve on 127.0.0.1:${PORT:-8787}.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
say "applying D1 migrations to the local database"
npx wrangler d1 migrations apply DB --local </dev/null || die "applying migrations failed"
say "serving on http://127.0.0.1:${PORT:-8787}"
exec npx wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" "$@"
