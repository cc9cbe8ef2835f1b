#!/usr/bin/env bash
# Stop the backing services that deploy/dev/services-up.sh started.
#
# Usage: deploy/dev/services-down.sh [docker|redis|kafka|couchdb]...   (default: all four)
#
# Only processes recorded in the pidfiles of the data dir are stopped (and only
# if the pid still runs the expected program): SIGTERM, then SIGKILL after a
# timeout. A service that answers but was not started by services-up (e.g. a
# distro redis) is reported and left alone. Before dockerd stops, containers
# labelled `whiskhub` are force-removed. Idempotent: stopping what is not
# running just says so. Rewrites <data dir>/env to what is still up.
# Data (couchdb dbs, kafka logs, docker images) is kept; remove
# ${WHISKHUB_DEV_DATA_DIR:-<repo>/.data/services} and /var/lib/whiskhub-docker
# by hand for a clean slate. See deploy/dev/README.md.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=services-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/services-lib.sh"

# stop_process SVC PID PATTERN TIMEOUT -> sets STATUS
# TERM first so each service shuts down cleanly (Kafka flushes and closes its
# logs, dockerd stops its containerd); KILL only if it overstays TIMEOUT.
stop_process() {
  local svc=$1 pid=$2 pattern=$3 timeout=$4 i how=SIGTERM
  log "$svc: SIGTERM to pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    pid_alive "$pid" || break
    sleep 0.2
  done
  if pid_alive "$pid"; then
    log "$svc: still running after ${timeout}s, SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    how=SIGKILL
    for ((i = 0; i < 25; i++)); do pid_alive "$pid" || break; sleep 0.2; done
    if pid_alive "$pid"; then die "$svc: pid $pid survived SIGKILL"; fi
  fi
  STATUS="stopped (pid $pid, $how)"
}

# stop_service SVC PATTERN TIMEOUT ANSWERS_FN [EXTRA PIDFILE]
stop_service() {
  local svc=$1 pattern=$2 timeout=$3 answers=$4 extra=${5:-} pidfile pid=
  pidfile=$(pidfile_of "$svc")
  pid=$(read_pid "$pidfile")
  # dockerd also keeps its own pidfile: use it if ours is gone.
  if [[ -z $pid && -n $extra ]]; then pid=$(read_pid "$extra"); fi
  if [[ -n $pid ]] && pid_matches "$pid" "$pattern"; then
    stop_process "$svc" "$pid" "$pattern" "$timeout"
  elif "$answers"; then
    STATUS="running but not started by services-up: left alone"
  elif [[ -n $pid ]]; then
    STATUS="not running (stale pidfile removed)"
  else
    STATUS="not running"
  fi
  rm -f "$pidfile"
}

down_couchdb() { stop_service couchdb pouchdb-server 10 couchdb_answers; }

# Kafka's controlled shutdown of a single node takes a few seconds.
down_kafka() { stop_service kafka kafka.Kafka 30 kafka_answers; }

# Redis with no persistence exits at once; it removes its own pidfile.
down_redis() { stop_service redis redis-server 10 redis_answers; }

down_docker() {
  local removed=0 ids
  # Action containers run with the host network and would keep their ports;
  # remove them while the engine still answers. Force, because a node PID 1
  # without a SIGTERM handler would make `docker stop` wait out its grace.
  if docker_answers; then
    ids=$(timeout 60 docker -H "$DOCKER_HOST_URL" ps -aq --filter label=whiskhub 2>/dev/null || true)
    if [[ -n $ids ]]; then
      # shellcheck disable=SC2086  # one id per word
      timeout 120 docker -H "$DOCKER_HOST_URL" rm -f $ids >/dev/null 2>&1 || log "docker: some containers could not be removed"
      removed=$(wc -w <<<"$ids")
      log "docker: removed $removed container(s) labelled whiskhub"
    fi
  fi
  stop_service docker dockerd 30 docker_answers "$DOCKER_PIDFILE"
  if [[ $STATUS == stopped* ]]; then
    rm -f "$DOCKER_PIDFILE"
    # After a SIGKILL dockerd cannot stop the containerd it launched itself;
    # that one records its pid under dockerd's exec root.
    local cpid
    cpid=$(read_pid /var/run/docker/containerd/containerd.pid)
    if [[ $STATUS == *SIGKILL* && -n $cpid ]] && pid_matches "$cpid" containerd; then
      log "docker: stopping orphaned containerd (pid $cpid)"
      kill -TERM "$cpid" 2>/dev/null || true
    fi
  fi
  ((removed == 0)) || STATUS="$STATUS, removed $removed container(s)"
}

# ================================================================== main ===
parse_services "$@"
if [[ ! -d $DATA_DIR ]]; then
  echo "nothing to stop: $DATA_DIR does not exist"
  exit 0
fi
take_lock

T0=$(now_us)
declare -A RESULT TIME
# Reverse start order: the consumers of a service go before the service.
for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
  svc=${SERVICES[i]}
  t=$(now_us)
  STATUS=
  "down_$svc"
  RESULT[$svc]=$STATUS
  TIME[$svc]=$(fmt_secs "$t")
done

write_env_file
{
  echo "whiskhub dev services down (data dir: $DATA_DIR)"
  for svc in "${SERVICES[@]}"; do
    printf '  %-8s %6ss  %s\n' "$svc" "${TIME[$svc]}" "${RESULT[$svc]}"
  done
  printf '  %-8s %6ss\n' total "$(fmt_secs "$T0")"
}
