#!/usr/bin/env bash
# Compiles the action proxy (src/runtime/*.ts) into dist/src/runtime/ when that output is missing
# or older than its sources; otherwise does nothing (a few ms). Used by build-nodejs-image.sh and
# by the tests that run the proxy (test/unit/runtime-proxy.test.ts, the container contract), so
# they never run a stale proxy even when `npm run build` was skipped. Compiles only the proxy, so
# work in progress elsewhere in the tree cannot break it. Concurrent callers wait on a lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out=dist/src/runtime/main.js
stale() {
  [[ ! -f $out ]] && return 0
  [[ -n $(find src/runtime deploy/runtimes/tsconfig.proxy.json -newer "$out" -print -quit) ]]
}

stale || exit 0
mkdir -p .data
exec 9>.data/build-proxy.lock
flock 9
if stale; then
  node_modules/.bin/tsc -p deploy/runtimes/tsconfig.proxy.json
  touch "$out"
fi
