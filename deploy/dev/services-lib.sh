# shellcheck shell=bash disable=SC2034  # settings are used by the sourcing scripts
# Shared by services-up.sh and services-down.sh (sourced, not run): settings,
# the "does it answer?" checks, process helpers and the env file writer.
# Nothing here starts or stops anything by itself.

# ---------------------------------------------------------------- settings ---
DEV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$DEV_DIR/../.." && pwd)
DATA_DIR=${WHISKHUB_DEV_DATA_DIR:-$REPO_ROOT/.data/services}
CACHE_DIR=${WHISKHUB_CACHE_DIR:-${HOME:-/root}/.cache/whiskhub}

REDIS_PORT=${WHISKHUB_DEV_REDIS_PORT:-6379}
KAFKA_PORT=${WHISKHUB_DEV_KAFKA_PORT:-9092}
COUCHDB_PORT=${WHISKHUB_DEV_COUCHDB_PORT:-5984}
for _p in "$REDIS_PORT" "$KAFKA_PORT" "$COUCHDB_PORT"; do
  if ! [[ $_p =~ ^[0-9]+$ ]] || ((_p < 1 || _p > 65534)); then
    echo "invalid port '$_p' in WHISKHUB_DEV_*_PORT" >&2
    exit 2
  fi
done
unset _p
# The KRaft controller listener sits right above the broker port.
KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))

# Upper bound for "wait until it answers", per service start attempt.
WAIT_SECONDS=${WHISKHUB_DEV_WAIT_SECONDS:-90}

# The Docker engine is machine-wide (its socket, pidfile and data-root are
# fixed, see /work/shared/ENVIRONMENT.md): a separate daemon with its own
# socket, so it never clashes with a distro docker.service on the same host.
DOCKER_SOCK=/run/whiskhub-docker.sock
DOCKER_HOST_URL=unix://$DOCKER_SOCK
DOCKER_PIDFILE=/run/whiskhub-docker.pid
DOCKER_DATA_ROOT=/var/lib/whiskhub-docker

ALL_SERVICES=(docker redis kafka couchdb)

# Per-service pidfiles live in the data dir (dockerd also keeps its own).
pidfile_of() { echo "$DATA_DIR/$1.pid"; }

# ----------------------------------------------------------------- output ---
SCRIPT_NAME=$(basename "$0" .sh)
log() { printf '[%s %s] %s\n' "$SCRIPT_NAME" "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit 1
}

# Print the last lines of a log file to stderr (CI has no other way to see it).
show_log_tail() {
  local file=$1 n=${2:-25}
  [[ -s $file ]] || return 0
  printf -- '----- last %s lines of %s -----\n' "$n" "$file" >&2
  tail -n "$n" "$file" >&2 || true
  printf -- '-----\n' >&2
}

# Microsecond clock from bash itself (no fork); strip the locale's decimal sign.
now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
# fmt_secs START_US -> "12.3"
fmt_secs() {
  local d=$(($(now_us) - $1))
  printf '%d.%d' $((d / 1000000)) $(((d / 100000) % 10))
}

# ---------------------------------------------------------------- process ---
# A pid counts as alive only if it exists and is not a zombie: PID 1 in some
# containers does not reap orphans, and our own dead children stay zombies
# until we exit, so `kill -0` alone would say "alive" forever.
pid_alive() {
  local pid=$1 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z && $state != X ]]
}

# pid_matches PID PATTERN: alive and its command line contains PATTERN.
# Guards against signalling an unrelated process that reused a stale pid.
pid_matches() {
  local pid=$1 pattern=$2 cmd
  pid_alive "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$pattern"* ]]
}

# read_pid FILE -> pid on stdout (empty if no usable pidfile)
read_pid() {
  local f=$1 pid=''
  if [[ -r $f ]]; then read -r pid <"$f" 2>/dev/null || true; fi
  if [[ $pid =~ ^[0-9]+$ ]]; then echo "$pid"; fi
}

# Is anything listening on 127.0.0.1:PORT? Pure bash, so it works before any
# client tool is installed.
tcp_open() {
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# ----------------------------------------------------------------- checks ---
docker_answers() {
  command -v docker >/dev/null 2>&1 || return 1
  [[ -S $DOCKER_SOCK ]] || return 1
  timeout 20 docker -H "$DOCKER_HOST_URL" info >/dev/null 2>&1
}

redis_answers() {
  command -v redis-cli >/dev/null 2>&1 || return 1
  [[ $(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

# The Kafka check asks the broker for its API versions over the Kafka
# protocol with Kafka's own admin class (no kafkajs or kafka CLI here), so an
# open port that is not a working broker does not count. It needs the jars:
# services-up records which libs folder the broker runs from.
kafka_libs_in_use() {
  local f=$DATA_DIR/kafka/libs.path libs=''
  if [[ -r $f ]]; then read -r libs <"$f" || true; fi
  if [[ -n $libs && -d $libs ]]; then echo "$libs"; fi
}
kafka_answers() {
  local libs=${1:-$(kafka_libs_in_use)}
  tcp_open "$KAFKA_PORT" || return 1
  [[ -n $libs ]] && command -v java >/dev/null 2>&1 || return 1
  local log4j=()
  [[ -r $DATA_DIR/kafka/tools-log4j.properties ]] &&
    log4j=("-Dlog4j.configuration=file:$DATA_DIR/kafka/tools-log4j.properties")
  timeout 60 java -Xmx128m "${log4j[@]}" -cp "$libs/*" \
    kafka.admin.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
    >/dev/null 2>&1
}

couchdb_answers() {
  command -v curl >/dev/null 2>&1 || return 1
  curl -fsS --max-time 5 "http://127.0.0.1:$COUCHDB_PORT/" >/dev/null 2>&1
}

# ---------------------------------------------------------------- env file ---
# Services this run has just seen answering (services-up fills it in), so the
# env file does not pay for a second check (the Kafka one starts a JVM).
declare -A KNOWN_UP=()
is_up() { [[ -n ${KNOWN_UP[$1]:-} ]] || "$1_answers"; }

# <data dir>/env holds one export line per service that answers right now, so
# `. .data/services/env` always describes what is really up (both scripts
# rewrite it). Written to a temp file and renamed, so readers never see half.
write_env_file() {
  local tmp=$DATA_DIR/.env.tmp
  {
    echo "# Written by deploy/dev/services-up.sh / services-down.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
    echo "# Only services that answered at that moment are listed. Use: . $DATA_DIR/env"
    is_up couchdb && echo "export WHISKHUB_COUCHDB_URL=http://127.0.0.1:$COUCHDB_PORT"
    is_up kafka && echo "export WHISKHUB_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
    is_up redis && echo "export WHISKHUB_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    is_up docker && echo "export DOCKER_HOST=$DOCKER_HOST_URL"
    true
  } >"$tmp"
  mv -f "$tmp" "$DATA_DIR/env"
}

# ------------------------------------------------------------- arguments ---
# parse_services ARGS... -> sets SERVICES (default: all four, in ALL_SERVICES order)
parse_services() {
  SERVICES=()
  local a s ok
  for a in "$@"; do
    case $a in
      -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    esac
    ok=
    for s in "${ALL_SERVICES[@]}"; do if [[ $a == "$s" ]]; then ok=1; fi; done
    [[ -n $ok ]] || die "unknown service '$a' (expected: ${ALL_SERVICES[*]})"
  done
  # Keep the canonical order whatever order the arguments came in.
  for s in "${ALL_SERVICES[@]}"; do
    if (($# == 0)); then
      SERVICES+=("$s")
    else
      for a in "$@"; do
        if [[ $a == "$s" ]]; then SERVICES+=("$s") && break; fi
      done
    fi
  done
}

# One run at a time per data dir: up and down must not race each other.
# fd 9 holds the lock; every background service is started with `9>&-` so
# that it does not inherit the lock and keep it after we exit.
take_lock() {
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/.lock"
  flock -w 600 9 || die "another services-up/down run holds $DATA_DIR/.lock"
}
