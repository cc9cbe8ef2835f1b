#!/usr/bin/env bash
# Builds the local action runtime image whiskhub/action-nodejs:20 without any registry: a root
# file system made of this host's `node` binary, the shared libraries `ldd` lists for it, and the
# compiled action proxy (dist/src/runtime/*.js), turned into an image with `docker import`.
# (Production images come from deploy/runtimes/nodejs/Dockerfile instead.)
#
# Idempotent: the image carries the label whiskhub.image-hash, a hash of what went into it (the
# proxy's files, the node binary, this script); when the existing image has the same hash
# nothing is done. It is also tagged whiskhub/action-nodejs:20-<hash>; older hash tags are
# dropped. The proxy is compiled first when its build is missing or stale (build-proxy.sh).
#
# Environment: DOCKER_HOST (required; deploy/dev/services-up.sh starts the engine at
# unix:///run/whiskhub-docker.sock), WHISKHUB_NODEJS_IMAGE (default whiskhub/action-nodejs:20).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

die() { echo "build-nodejs-image: $*" >&2; exit 1; }

IMAGE=${WHISKHUB_NODEJS_IMAGE:-whiskhub/action-nodejs:20}
REPO=${IMAGE%:*}
TAG=${IMAGE##*:}
[[ -n ${DOCKER_HOST:-} ]] || die "DOCKER_HOST is not set (start the engine with deploy/dev/services-up.sh docker, then export DOCKER_HOST=unix:///run/whiskhub-docker.sock)"
command -v docker >/dev/null 2>&1 || die "the docker client is not installed"
timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers at $DOCKER_HOST"

bash deploy/runtimes/build-proxy.sh

NODE_BIN=$(readlink -f "$(command -v node)")
mapfile -t PROXY_FILES < <(find dist/src/runtime -maxdepth 1 -name '*.js' | LC_ALL=C sort)
((${#PROXY_FILES[@]} > 0)) || die "no compiled proxy in dist/src/runtime"

hash=$(
  {
    sha256sum "${BASH_SOURCE[0]}" "$NODE_BIN" | cut -d' ' -f1
    for f in "${PROXY_FILES[@]}"; do printf '%s\n' "$(basename "$f")"; sha256sum <"$f"; done
  } | sha256sum | cut -c1-16
)

current() { docker image inspect --format '{{index .Config.Labels "whiskhub.image-hash"}}' "$IMAGE" 2>/dev/null || true; }
if [[ $(current) == "$hash" ]]; then
  echo "$IMAGE is up to date (whiskhub.image-hash=$hash)"
  exit 0
fi

# One build at a time; a second caller finds the image built when it gets the lock.
mkdir -p .data
exec 9>.data/build-nodejs-image.lock
flock 9
if [[ $(current) == "$hash" ]]; then
  echo "$IMAGE is up to date (whiskhub.image-hash=$hash)"
  exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/proxy" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
cp "$NODE_BIN" "$root/usr/local/bin/node"
# ldd lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" and "/lib64/ld-linux-x86-64.so.2 (0x…)".
while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done < <(ldd "$NODE_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
cp "${PROXY_FILES[@]}" "$root/proxy/"
printf '{"type":"module"}\n' >"$root/proxy/package.json"
printf 'root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
  docker import \
    --change 'CMD ["/usr/local/bin/node", "/proxy/main.js"]' \
    --change 'WORKDIR /proxy' \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'USER 65534:65534' \
    --change 'EXPOSE 8080' \
    --change "LABEL whiskhub.image-hash=$hash" \
    - "$IMAGE" >/dev/null
docker tag "$IMAGE" "$REPO:$TAG-$hash"
# Drop the hash tags of earlier builds (an image still used by a container stays).
docker image ls --format '{{.Repository}}:{{.Tag}}' "$REPO" | grep -E "^$REPO:$TAG-[0-9a-f]{16}\$" | grep -v -- "-$hash\$" |
  xargs -r docker image rm >/dev/null 2>&1 || true
echo "built $IMAGE (whiskhub.image-hash=$hash, $(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
