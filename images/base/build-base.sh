#!/usr/bin/env bash
# Build the offline Node base image (wvo-node-base:<host node version>) from this machine's node
# binary, the libraries `ldd` lists, and passwd/group with a non-root `node` user (uid 1000); no
# registry needed (../shared/ENGINE.md). The logic lives in
# controller/src/runtime/images/base-image.ts; `wvo images build` calls it by itself when
# NODE_IMAGE is missing and cannot be pulled. Usage: images/base/build-base.sh [--force] [--json]
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/controller/src/cli/main.js ] || npm run build >/dev/null
exec node dist/controller/src/cli/main.js images base "$@"
