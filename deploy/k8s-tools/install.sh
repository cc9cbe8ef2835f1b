#!/usr/bin/env bash
# Installs the tools that check the Helm chart and the Compose file offline, into
#   ${WHISKHUB_TOOLS_DIR:-<repo>/.data/tools}/bin
# and writes ${WHISKHUB_TOOLS_DIR}/k8s-tools.env (export lines; also printed on stdout):
#
#   helm            helm.sh/helm/v3/cmd/helm@$HELM_VERSION, `go install` from the Go module proxy,
#                   with the version and the default Kubernetes version (of its client-go) linked in
#                   as helm's own Makefile does.
#   kubeconform     github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION (Go proxy).
#   Kubernetes JSON schemas
#                   kubeconform fetches schemas from GitHub at run time, which is unreachable here.
#                   The PyPI package kubernetes-validate ships the JSON schemas of every Kubernetes
#                   release it supports (generated from each release's OpenAPI spec); `pip download`
#                   fetches its wheel and the schemas of $K8S_SCHEMA_VERSIONS are unpacked into
#                   kubeconform's layout (<dir>/v<version>-standalone-strict/<kind>-<group>-<version>.json):
#                   each file's "$id" is dropped and its "/api/_definitions.json#..." references
#                   are made relative, so the files resolve offline beside their _definitions.json.
#   compose-config  deploy/k8s-tools/compose-config: the Compose loader Docker Compose itself uses
#                   (github.com/compose-spec/compose-go/v2: schema validation, interpolation,
#                   consistency checks), as `docker compose config` runs it; the docker client here
#                   has no compose plugin. Built with `go build` from the Go module proxy.
#   yaml2json       deploy/k8s-tools/yaml2json: YAML documents to a JSON array (sigs.k8s.io/yaml),
#                   so the chart test can read what helm renders.
#
# Idempotent: each tool is rebuilt only when missing or of another version (a second run takes
# well under a second; the first about 5 minutes on 2 cores, most of it building helm, at a lower
# CPU priority so that tests running beside it keep theirs). Needs Go (GOTOOLCHAIN=local: the installed toolchain is used), Python 3 with
# pip, and the Go module proxy and PyPI. Concurrent runs wait on a lock.
# Progress goes to stderr. Exit 1 with the reason when a tool cannot be installed.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS_DIR=${WHISKHUB_TOOLS_DIR:-$REPO_ROOT/.data/tools}
BIN_DIR=$TOOLS_DIR/bin
ENV_FILE=$TOOLS_DIR/k8s-tools.env

HELM_VERSION=${WHISKHUB_HELM_VERSION:-v3.19.5}
KUBECONFORM_VERSION=${WHISKHUB_KUBECONFORM_VERSION:-v0.7.0}
SCHEMA_PACKAGE=kubernetes-validate
SCHEMA_PACKAGE_VERSION=${WHISKHUB_K8S_SCHEMA_PACKAGE_VERSION:-1.37.0}
# The chart's oldest supported Kubernetes (Chart.yaml kubeVersion) and a current one.
K8S_SCHEMA_VERSIONS=${WHISKHUB_K8S_SCHEMA_VERSIONS:-1.28.0 1.34.0}
SCHEMA_DIR=$TOOLS_DIR/kubernetes-json-schema/$SCHEMA_PACKAGE-$SCHEMA_PACKAGE_VERSION

START=$(date +%s)
log() { echo "[k8s-tools +$(($(date +%s) - START))s] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$BIN_DIR"
exec 9>"$TOOLS_DIR/.k8s-tools.lock"
flock 9

GO=$(command -v go || true)
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
export GOTOOLCHAIN=local CGO_ENABLED=0 GO111MODULE=on
WORK=$(mktemp -d "${TMPDIR:-/tmp}/whiskhub-k8s-tools.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT

need_go() { [ -n "$GO" ] || die "no Go toolchain (need 'go' on PATH or /usr/local/go/bin/go) to build $1"; }

install_bin() { # src dest
  install -m 0755 "$1" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
}

# --- helm ----------------------------------------------------------------------------------------
helm_version() { "$BIN_DIR/helm" version --template '{{.Version}}' 2>/dev/null || true; }
if [ "$(helm_version)" = "$HELM_VERSION" ]; then
  log "helm $HELM_VERSION: installed"
else
  need_go helm
  log "helm $HELM_VERSION: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (a few minutes the first time)"
  # The Kubernetes minor version helm assumes by default is that of the client-go it is built with.
  dir=$(cd "$WORK" && "$GO" mod download -json "helm.sh/helm/v3@$HELM_VERSION" 2>"$WORK/helm-dl.err" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n1) || true
  [ -n "$dir" ] || die "the Go module proxy did not serve helm.sh/helm/v3@$HELM_VERSION: $(tr '\n' ' ' <"$WORK/helm-dl.err")"
  k8s_minor=$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$dir/go.mod" | head -n1)
  [ -n "$k8s_minor" ] || die "cannot read the client-go version from $dir/go.mod"
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
  done
  if ! (cd "$WORK" && GOBIN="$WORK/gobin" nice -n 10 "$GO" install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION") >"$WORK/helm.log" 2>&1; then
    sed 's/^/    /' "$WORK/helm.log" | tail -20 >&2
    die "go install of helm $HELM_VERSION failed (the Go module proxy may have refused it: see above)"
  fi
  install_bin "$WORK/gobin/helm" "$BIN_DIR/helm"
  log "helm $(helm_version) installed (default Kubernetes 1.$k8s_minor)"
fi

# --- kubeconform ---------------------------------------------------------------------------------
kubeconform_version() { "$BIN_DIR/kubeconform" -v 2>/dev/null || true; }
if [ "$(kubeconform_version)" = "$KUBECONFORM_VERSION" ]; then
  log "kubeconform $KUBECONFORM_VERSION: installed"
else
  need_go kubeconform
  log "kubeconform $KUBECONFORM_VERSION: go install github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  if ! (cd "$WORK" && GOBIN="$WORK/gobin" nice -n 10 "$GO" install -trimpath -ldflags "-s -w -X main.version=$KUBECONFORM_VERSION" "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION") >"$WORK/kc.log" 2>&1; then
    sed 's/^/    /' "$WORK/kc.log" | tail -20 >&2
    die "go install of kubeconform $KUBECONFORM_VERSION failed"
  fi
  install_bin "$WORK/gobin/kubeconform" "$BIN_DIR/kubeconform"
  log "kubeconform $(kubeconform_version) installed"
fi

# --- Kubernetes JSON schemas ---------------------------------------------------------------------
missing_versions=""
for v in $K8S_SCHEMA_VERSIONS; do
  [ -f "$SCHEMA_DIR/v$v-standalone-strict/.complete" ] || missing_versions="$missing_versions $v"
done
if [ -z "$missing_versions" ]; then
  log "Kubernetes schemas ($K8S_SCHEMA_VERSIONS, from $SCHEMA_PACKAGE $SCHEMA_PACKAGE_VERSION): installed"
else
  PY=$(command -v python3 || true)
  [ -n "$PY" ] || die "python3 is needed to fetch the schemas (PyPI package $SCHEMA_PACKAGE)"
  if ! "$PY" -m pip --version >/dev/null 2>&1; then
    log "pip is missing: apt-get install python3-pip"
    { apt-get install -y -q python3-pip || { apt-get update -q && apt-get install -y -q python3-pip; }; } >"$WORK/apt.log" 2>&1 ||
      die "cannot install pip (see $WORK/apt.log)"
  fi
  log "Kubernetes schemas:$missing_versions: pip download $SCHEMA_PACKAGE==$SCHEMA_PACKAGE_VERSION"
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --dest "$WORK/wheel" "$SCHEMA_PACKAGE==$SCHEMA_PACKAGE_VERSION" >"$WORK/pip.log" 2>&1 ||
    { sed 's/^/    /' "$WORK/pip.log" >&2; die "pip could not download $SCHEMA_PACKAGE==$SCHEMA_PACKAGE_VERSION from PyPI"; }
  "$PY" - "$WORK"/wheel/*.whl "$SCHEMA_DIR" $missing_versions <<'PY'
import json, os, sys, zipfile
wheel, out, versions = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    for v in versions:
        prefix = f"kubernetes_validate/kubernetes-json-schema/v{v}-local-strict/"
        members = [n for n in names if n.startswith(prefix) and n.endswith(".json")]
        if not members:
            sys.exit(f"the wheel has no schemas for Kubernetes {v}")
        dest = os.path.join(out, f"v{v}-standalone-strict")
        os.makedirs(dest, exist_ok=True)
        for n in members:
            doc = json.loads(z.read(n))
            doc.pop("$id", None)  # ids point at kubernetes.io; resolve relative to the file instead
            text = json.dumps(doc).replace('"/api/_definitions.json#', '"_definitions.json#')
            with open(os.path.join(dest, os.path.basename(n)), "w") as f:
                f.write(text)
        open(os.path.join(dest, ".complete"), "w").write(f"{len(members)} schemas from {os.path.basename(wheel)}\n")
        print(f"  v{v}: {len(members)} schemas", file=sys.stderr)
PY
  log "Kubernetes schemas installed in $SCHEMA_DIR"
fi

# --- compose-config and yaml2json (small Go programs in this folder) -----------------------------
for tool in compose-config yaml2json; do
  src=$REPO_ROOT/deploy/k8s-tools/$tool
  stamp=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)
  if [ -x "$BIN_DIR/$tool" ] && [ "$(cat "$BIN_DIR/.$tool.stamp" 2>/dev/null)" = "$stamp" ]; then
    log "$tool: installed"
    continue
  fi
  need_go "$tool"
  log "$tool: go build (dependencies from the Go module proxy)"
  if ! (cd "$src" && nice -n 10 "$GO" build -trimpath -ldflags "-s -w" -o "$WORK/$tool" .) >"$WORK/$tool.log" 2>&1; then
    sed 's/^/    /' "$WORK/$tool.log" | tail -20 >&2
    die "go build of $tool failed"
  fi
  install_bin "$WORK/$tool" "$BIN_DIR/$tool"
  echo "$stamp" >"$BIN_DIR/.$tool.stamp"
  log "$tool installed"
done

# --- the env file --------------------------------------------------------------------------------
{
  echo "# Written by deploy/k8s-tools/install.sh. Use: . $ENV_FILE"
  echo "export WHISKHUB_HELM=$BIN_DIR/helm"
  echo "export WHISKHUB_KUBECONFORM=$BIN_DIR/kubeconform"
  echo "export WHISKHUB_K8S_SCHEMA_LOCATION='$SCHEMA_DIR/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json'"
  echo "export WHISKHUB_K8S_SCHEMA_VERSIONS='$K8S_SCHEMA_VERSIONS'"
  echo "export WHISKHUB_COMPOSE_CONFIG=$BIN_DIR/compose-config"
  echo "export WHISKHUB_YAML2JSON=$BIN_DIR/yaml2json"
} >"$ENV_FILE.tmp"
mv -f "$ENV_FILE.tmp" "$ENV_FILE"
cat "$ENV_FILE"
log "done"
