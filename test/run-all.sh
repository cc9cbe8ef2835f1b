#!/usr/bin/env bash
# `npm test`: everything CI runs, in order. Starts the real services the tests need
# (deploy/dev/services-up.sh: Docker, Redis, Kafka, a CouchDB-compatible server), installs the
# OpenWhisk Go tooling the e2e suite drives, then runs every vitest project once.
#
# Services: stopped at the end when this run started them (always under CI=true), left
# running otherwise so the next run starts fast. WHISKHUB_KEEP_SERVICES=1 keeps them anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
RESULTS=$REPO/.data/test-results.json
mkdir -p "$REPO/.data"

step() { printf '\n== %s\n' "$*" >&2; }
started_at=$(date +%s)

step "typecheck"
npx tsc -p tsconfig.json --noEmit

step "lint: import cycles and seams"
npx depcruise --config .dependency-cruiser.cjs src feeds catalog packages

step "build"
npx tsc -p tsconfig.build.json

step "services"
were_running=1
[ -f .data/services/env ] && [ "$(grep -c '^export' .data/services/env || true)" -ge 4 ] || were_running=0
bash deploy/dev/services-up.sh
if [ "${CI:-}" = true ] || { [ "$were_running" = 0 ] && [ "${WHISKHUB_KEEP_SERVICES:-0}" != 1 ]; }; then
  trap 'step "stopping services"; bash deploy/dev/services-down.sh || true' EXIT
fi
# shellcheck disable=SC1091
. .data/services/env

step "OpenWhisk Go tooling (wsk if the Go proxy serves it, else wskdeploy)"
set +e
tool=$(bash deploy/dev/install-wsk.sh)
rc=$?
set -e
if [ "$rc" != 0 ] && [ "$rc" != 2 ]; then
  echo "could not install wsk or wskdeploy (exit $rc)" >&2
  exit 1
fi
WHISKHUB_WSKDEPLOY=$(dirname "$tool")/wskdeploy
[ -x "$WHISKHUB_WSKDEPLOY" ] || WHISKHUB_WSKDEPLOY=$(bash deploy/dev/install-wsk.sh --wskdeploy)
export WHISKHUB_WSKDEPLOY

step "tests"
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json="$RESULTS" "$@"
rc=$?
set -e

# One plain closing line, whatever the runner: "N passed, N failed".
if [ -f "$RESULTS" ]; then
  node -e '
    const r = require(process.argv[1]);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
  ' "$RESULTS"
fi
echo "total $(( $(date +%s) - started_at ))s" >&2
exit $rc
