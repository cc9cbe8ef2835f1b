#!/usr/bin/env bash
# Build the Apache OpenWhisk CLI (`wsk`) from Go sources and install it to
#   ${WHISKHUB_TOOLS_DIR:-<repo>/.data/tools}/bin/wsk
#
# Source: the Go module proxy, github.com/apache/openwhisk-cli@${WHISKHUB_WSK_VERSION:-1.2.0},
# then the newest version the proxy lists. (At the time of writing the proxy answers
# 403 for this module, so the wskdeploy fallback below is what actually installs.)
# The module does not ship its generated wski18n/i18n_resources.go (that is why a
# plain `go install` fails), so it is generated here with go-bindata (from the Go
# module proxy, or Debian's `go-bindata` package) before `go build`.
# Dependencies come from the Go module proxy only (GOPROXY as configured).
#
# If wsk cannot be built, `wskdeploy` (github.com/apache/openwhisk-wskdeploy, tag
# 1.2.0) is built instead and installed as bin/wskdeploy (+ bin/openwhisk-wskdeploy).
# See deploy/dev/WSK.md.
#
# Output: progress on stderr; the installed binary's path alone on stdout (last line).
# Exit:   0  wsk is installed (or already was)
#         2  wsk could not be built; wskdeploy was installed instead (its path on stdout)
#         1  nothing could be installed
# Options: --force        rebuild even if a working binary is installed
#          --wskdeploy    install only wskdeploy (exit 0 on success)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS_DIR=${WHISKHUB_TOOLS_DIR:-$REPO_ROOT/.data/tools}
BIN_DIR=$TOOLS_DIR/bin
WSK_BIN=$BIN_DIR/wsk
WSKDEPLOY_BIN=$BIN_DIR/wskdeploy

WSK_MODULE=github.com/apache/openwhisk-cli
WSK_VERSION=${WHISKHUB_WSK_VERSION:-1.2.0}
WSKDEPLOY_MODULE=github.com/apache/openwhisk-wskdeploy
# The proxy has no @v/list for wskdeploy here, so `@1.2.0` cannot be resolved by
# name; this is the pseudo-version of its tag 1.2.0 (commit 03df1126c3b5).
WSKDEPLOY_VERSION=${WHISKHUB_WSKDEPLOY_VERSION:-v0.0.0-20210316172333-03df1126c3b5}
GO_BINDATA_PKG=github.com/jteeuwen/go-bindata/go-bindata
GO_BINDATA_VERSION=v3.0.7+incompatible

FORCE=0
ONLY_WSKDEPLOY=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --wskdeploy) ONLY_WSKDEPLOY=1 ;;
    -h|--help) awk 'NR>1 && /^#/ {sub(/^# ?/, ""); print; next} NR>1 {exit}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "install-wsk: unknown argument: $arg" >&2; exit 1 ;;
  esac
done

START=$(date +%s)
log() { echo "[install-wsk +$(( $(date +%s) - START ))s] $*" >&2; }

# --- Go toolchain -------------------------------------------------------------
GO=$(command -v go || true)
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
if [ -z "$GO" ]; then
  log "ERROR: no Go toolchain found (need 'go' on PATH or /usr/local/go/bin/go)"
  exit 1
fi
GO_DIR=$(dirname "$GO"); export PATH="$GO_DIR:$PATH"
export GOTOOLCHAIN=local           # never download another toolchain for an old 'go' directive
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"   # let go fill in missing go.sum entries
export GO111MODULE=on
export CGO_ENABLED=${CGO_ENABLED:-0}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/whiskhub-wsk.XXXXXX")
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() { chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# --- helpers --------------------------------------------------------------------
wsk_works() {
  [ -x "$1" ] || return 1
  # 'property get' reads the config file only; point it at an empty one.
  WSK_CONFIG_FILE="$WORK/wskprops" "$1" property get --cliversion >/dev/null 2>&1 ||
    WSK_CONFIG_FILE="$WORK/wskprops" "$1" --help >/dev/null 2>&1
}
wskdeploy_works() { [ -x "$1" ] && "$1" version >/dev/null 2>&1; }

# go mod download MODULE@VERSION -> prints the module's Dir; its error goes to $WORK/dl.err
module_dir() {
  local json
  json=$(cd "$WORK" && "$GO" mod download -json "$1" 2>&1) || true
  local dir
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n1)
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    printf '%s\n' "$dir"
  else
    printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' | sed 's/\\n\\t/ /g' >"$WORK/dl.err"
    [ -s "$WORK/dl.err" ] || printf '%s\n' "$json" >"$WORK/dl.err"
    return 1
  fi
}

# copy a (read-only) module dir or source tree to a writable folder
copy_src() {
  rm -rf "$2"; mkdir -p "$2"
  (cd "$1" && tar --exclude=.git -cf - .) | (cd "$2" && tar -xf -)
  chmod -R u+w "$2"
}

install_bin() { # src dest
  mkdir -p "$(dirname "$2")"
  install -m 0755 "$1" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
}

WSK_FAIL_REASON=""

gen_i18n() { # in the source dir
  local out=wski18n/i18n_resources.go args=(-pkg wski18n -o wski18n/i18n_resources.go wski18n/resources)
  if [ -f "$out" ]; then log "wski18n/i18n_resources.go already present"; return 0; fi
  log "generating $out with go-bindata"
  # a) the go-bindata version that openwhisk-cli's go.mod pins
  if "$GO" run "$GO_BINDATA_PKG" "${args[@]}" >"$WORK/bindata.log" 2>&1 && [ -f "$out" ]; then
    log "  via 'go run $GO_BINDATA_PKG' (version from go.mod)"; return 0
  fi
  # b) an explicit go-bindata module from the proxy, built into a private GOBIN
  if GOFLAGS="" GOBIN="$WORK/gobin" "$GO" install "$GO_BINDATA_PKG@$GO_BINDATA_VERSION" >>"$WORK/bindata.log" 2>&1 &&
     "$WORK/gobin/go-bindata" "${args[@]}" >>"$WORK/bindata.log" 2>&1 && [ -f "$out" ]; then
    log "  via go install $GO_BINDATA_PKG@$GO_BINDATA_VERSION"; return 0
  fi
  if ! [ -f "$WORK/gobin/go-bindata" ] && (cd "$WORK" && "$GO" mod download -json "github.com/jteeuwen/go-bindata@$GO_BINDATA_VERSION" >"$WORK/gbd.json" 2>&1); then
    local d; d=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' "$WORK/gbd.json" | head -n1)
    if [ -n "$d" ]; then
      copy_src "$d" "$WORK/go-bindata-src"
      ( cd "$WORK/go-bindata-src" || exit 1
        [ -f go.mod ] || "$GO" mod init github.com/jteeuwen/go-bindata   # v3.0.7 predates modules; stdlib only
        "$GO" build -o "$WORK/gobin/go-bindata" ./go-bindata ) >>"$WORK/bindata.log" 2>&1 || true
      if [ -x "$WORK/gobin/go-bindata" ] && "$WORK/gobin/go-bindata" "${args[@]}" >>"$WORK/bindata.log" 2>&1 && [ -f "$out" ]; then
        log "  via go-bindata built from the module zip"; return 0
      fi
    fi
  fi
  # c) Debian's go-bindata
  if ! command -v go-bindata >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "  installing Debian package go-bindata"
    { apt-get install -y -q go-bindata || { apt-get update -q && apt-get install -y -q go-bindata; }; } >>"$WORK/bindata.log" 2>&1 || true
  fi
  if command -v go-bindata >/dev/null 2>&1 && go-bindata "${args[@]}" >>"$WORK/bindata.log" 2>&1 && [ -f "$out" ]; then
    log "  via $(command -v go-bindata)"; return 0
  fi
  sed 's/^/    /' "$WORK/bindata.log" >&2
  return 1
}

build_wsk_from() { # source dir, label
  local src="$WORK/openwhisk-cli"
  log "copying $2 to a writable folder"
  copy_src "$1" "$src"
  cd "$src"
  if ! grep -q "^module $WSK_MODULE\$" go.mod 2>/dev/null || [ ! -f main.go ]; then
    WSK_FAIL_REASON="$2 is not an openwhisk-cli source tree (no go.mod for $WSK_MODULE / main.go)"; cd "$WORK"; return 1
  fi
  if ! gen_i18n; then WSK_FAIL_REASON="could not generate wski18n/i18n_resources.go with go-bindata"; cd "$WORK"; return 1; fi
  log "go build (dependencies from ${GOPROXY:-$("$GO" env GOPROXY)})"
  local stamp; stamp=$(date -u +%Y-%m-%dT%H:%M:%S)
  if ! "$GO" build -trimpath -ldflags "-s -w -X main.CLI_BUILD_TIME=$stamp" -o "$WORK/wsk" . >"$WORK/build.log" 2>&1; then
    sed 's/^/    /' "$WORK/build.log" >&2
    WSK_FAIL_REASON="go build failed (see above)"; cd "$WORK"; return 1
  fi
  cd "$WORK"
  if ! wsk_works "$WORK/wsk"; then WSK_FAIL_REASON="the built wsk does not run"; return 1; fi
  install_bin "$WORK/wsk" "$WSK_BIN"
  log "installed $WSK_BIN ($(WSK_CONFIG_FILE="$WORK/wskprops" "$WSK_BIN" property get --cliversion 2>/dev/null | tr -s ' \t' ' '))"
  return 0
}

try_wsk() {
  local dir
  log "fetching $WSK_MODULE@$WSK_VERSION from the Go module proxy"
  if dir=$(module_dir "$WSK_MODULE@$WSK_VERSION"); then
    build_wsk_from "$dir" "$WSK_MODULE@$WSK_VERSION"; return
  fi
  local err1; err1=$(cat "$WORK/dl.err")
  log "  not available: $err1"
  local newest
  newest=$(cd "$WORK" && "$GO" list -m -versions "$WSK_MODULE" 2>/dev/null | awk '{print $NF}') || true
  if [ -n "$newest" ] && [ "$newest" != "$WSK_MODULE" ] && [ "$newest" != "$WSK_VERSION" ]; then
    log "trying the newest listed version $newest"
    if dir=$(module_dir "$WSK_MODULE@$newest"); then
      build_wsk_from "$dir" "$WSK_MODULE@$newest"; return
    fi
    log "  not available: $(cat "$WORK/dl.err")"
  fi
  WSK_FAIL_REASON="the Go module proxy does not serve $WSK_MODULE ($err1)"
  return 1
}

install_wskdeploy() {
  if [ "$FORCE" = 0 ] && wskdeploy_works "$WSKDEPLOY_BIN"; then
    log "wskdeploy already installed and working: $WSKDEPLOY_BIN"; return 0
  fi
  local dir src="$WORK/openwhisk-wskdeploy"
  log "fetching $WSKDEPLOY_MODULE@$WSKDEPLOY_VERSION from the Go module proxy"
  # (plain 'go install MODULE@VERSION' fails here: it also reads the module's
  # version list for deprecation notices, which the proxy refuses)
  if ! dir=$(module_dir "$WSKDEPLOY_MODULE@$WSKDEPLOY_VERSION"); then
    log "ERROR: $(cat "$WORK/dl.err")"; return 1
  fi
  copy_src "$dir" "$src"
  log "go build wskdeploy"
  if ! (cd "$src" && "$GO" build -trimpath -ldflags "-s -w -X main.Version=${WHISKHUB_WSKDEPLOY_VERSION:-1.2.0} -X main.GitCommit=${WSKDEPLOY_VERSION##*-} -X main.BuildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" -o "$WORK/wskdeploy" .) >"$WORK/wd-build.log" 2>&1; then
    sed 's/^/    /' "$WORK/wd-build.log" >&2; log "ERROR: go build of wskdeploy failed"; return 1
  fi
  install_bin "$WORK/wskdeploy" "$WSKDEPLOY_BIN"
  ln -sf wskdeploy "$BIN_DIR/openwhisk-wskdeploy"
  log "installed $WSKDEPLOY_BIN"
}

# --- main -----------------------------------------------------------------------
cd "$WORK"
if [ "$ONLY_WSKDEPLOY" = 1 ]; then
  install_wskdeploy || exit 1
  echo "$WSKDEPLOY_BIN"; exit 0
fi

if [ "$FORCE" = 0 ] && wsk_works "$WSK_BIN"; then
  log "wsk already installed and working: $WSK_BIN"
  echo "$WSK_BIN"; exit 0
fi

if try_wsk; then
  log "done in $(( $(date +%s) - START ))s"
  echo "$WSK_BIN"; exit 0
fi

log "WARNING: wsk could not be built: $WSK_FAIL_REASON"
log "falling back to wskdeploy"
if install_wskdeploy; then
  log "done in $(( $(date +%s) - START ))s: wskdeploy only, wsk unavailable (see the warning above)"
  echo "$WSKDEPLOY_BIN"; exit 2
fi
log "ERROR: neither wsk nor wskdeploy could be installed"
exit 1
