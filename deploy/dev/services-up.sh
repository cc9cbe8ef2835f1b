#!/usr/bin/env bash
# Start the backing services whiskhub's real-mode tests and dev runs use, on
# loopback only, installing whatever is missing first:
#
#   docker   a private dockerd (no bridge, no iptables) on unix:///run/whiskhub-docker.sock
#   redis    redis-server on 127.0.0.1:${WHISKHUB_DEV_REDIS_PORT:-6379}
#   kafka    one-node KRaft Apache Kafka 3.9.x on 127.0.0.1:${WHISKHUB_DEV_KAFKA_PORT:-9092}
#   couchdb  pouchdb-server (CouchDB HTTP API) on 127.0.0.1:${WHISKHUB_DEV_COUCHDB_PORT:-5984}
#
# Usage: deploy/dev/services-up.sh [docker|redis|kafka|couchdb]...   (default: all four)
#
# Idempotent: a service that already answers is left alone; the next run after
# a first install only starts processes. It waits (bounded by
# WHISKHUB_DEV_WAIT_SECONDS, default 90, per start attempt) until each one
# answers, writes <data dir>/env (export lines for the services that are up)
# and prints a report. Stop everything with deploy/dev/services-down.sh.
#
# Environment: WHISKHUB_DEV_DATA_DIR (default <repo>/.data/services),
# WHISKHUB_CACHE_DIR (default ~/.cache/whiskhub, holds the Kafka jars),
# WHISKHUB_DEV_{REDIS,KAFKA,COUCHDB}_PORT, WHISKHUB_DEV_WAIT_SECONDS,
# WHISKHUB_KAFKA_VERSION (an exact Kafka version instead of the newest 3.9.x),
# WHISKHUB_DEV_COUCHDB_LOG_LEVEL (pouchdb-server's log level, default warning).
# See deploy/dev/README.md.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=services-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/services-lib.sh"

# ------------------------------------------------------------------- apt ---
APT_UPDATED=0
POLICY_RC_D=/usr/sbin/policy-rc.d
POLICY_RC_D_OURS=0
TMP_DIRS=()

cleanup() {
  # Remove the temporary "don't start services" policy if we put it there.
  if ((POLICY_RC_D_OURS)); then rm -f "$POLICY_RC_D"; fi
  local d
  for d in "${TMP_DIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# Run a command as root (directly, or through passwordless sudo).
as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "'$*' needs root (run as root or with passwordless sudo)"
  fi
}

# apt_install PKG...: `apt-get update` once per run, and only when something
# is actually missing; output goes to <data dir>/apt.log.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
  local aptlog=$DATA_DIR/apt.log
  # Debian packages start their own daemons on install (redis-server on 6379,
  # docker.service with a bridge and iptables rules). We want only our own
  # loopback processes, so forbid service starts while apt runs, the usual
  # way: a policy-rc.d that answers 101 ("action forbidden"), removed on exit.
  if [[ ! -e $POLICY_RC_D ]]; then
    as_root sh -c "printf '#!/bin/sh\n# temporary, from whiskhub deploy/dev/services-up.sh\nexit 101\n' >$POLICY_RC_D && chmod 755 $POLICY_RC_D"
    POLICY_RC_D_OURS=1
  fi
  # Bounded: retries and timeouts on the network, and a cap on a held dpkg lock
  # (CI images sometimes run unattended-upgrades at boot).
  local opts=(-q -o Acquire::Retries=3 -o Acquire::http::Timeout=30 -o DPkg::Lock::Timeout=300)
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get "${opts[@]}" update >>"$aptlog" 2>&1 ||
      { show_log_tail "$aptlog"; die "apt-get update failed (log: $aptlog)"; }
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get "${opts[@]}" install -y "$@" >>"$aptlog" 2>&1 ||
    { show_log_tail "$aptlog"; die "apt-get install $* failed (log: $aptlog)"; }
}

# ensure_cmd CMD PKG: install PKG when CMD is not on PATH. Sets INSTALLED=1.
ensure_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  apt_install "$2"
  hash -r
  command -v "$1" >/dev/null 2>&1 || die "$2 was installed but '$1' is still not on PATH"
  INSTALLED=1
}

# --------------------------------------------------------------- waiting ---
# wait_until PID LOGFILE WHAT CHECK...: poll CHECK until it succeeds. Fails
# early if PID dies (no point waiting out the clock), and after WAIT_SECONDS.
# Returns 0 when up, 1 if the process died, 2 on timeout.
wait_until() {
  local pid=$1 logfile=$2 what=$3
  shift 3
  local deadline=$((SECONDS + WAIT_SECONDS))
  while ((SECONDS < deadline)); do
    if "$@"; then return 0; fi
    if [[ -n $pid ]] && ! pid_alive "$pid"; then
      log "$what exited before answering (log: $logfile)"
      return 1
    fi
    sleep 0.5
  done
  log "$what did not answer within ${WAIT_SECONDS}s (log: $logfile)"
  return 2
}

# stop_pid PID: TERM, then KILL after 15 s. Used to clean up failed attempts.
stop_pid() {
  local pid=$1 i
  if ! pid_alive "$pid"; then return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 75; i++)); do pid_alive "$pid" || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

# A port held by something that does not answer as the service we expect is
# a hard error: starting ours would only fail with "address in use".
require_free_port() {
  local port=$1 svc=$2
  if tcp_open "$port"; then
    die "$svc: 127.0.0.1:$port is in use by something that does not answer as $svc; free it or set another WHISKHUB_DEV_*_PORT"
  fi
}

# ================================================================ docker ===
up_docker() {
  INSTALLED=0
  # The engine is not on the machine by default (only the client may be).
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    apt_install docker.io
    hash -r
    INSTALLED=1
  fi
  if docker_answers; then
    STATUS="already running"
    return 0
  fi
  ((EUID == 0)) || die "docker: dockerd must run as root"

  local dir=$DATA_DIR/docker logfile=$DATA_DIR/docker/dockerd.log
  mkdir -p "$dir"
  # overlay2 first (fast), vfs if overlay2 cannot start here (e.g. the data
  # root sits on a filesystem overlayfs cannot use). A data root that was
  # already initialised with vfs keeps vfs, or its images would vanish.
  local drivers=(overlay2 vfs)
  if [[ -d $DOCKER_DATA_ROOT/vfs && ! -d $DOCKER_DATA_ROOT/overlay2 ]]; then
    drivers=(vfs)
  fi

  local driver pid rc
  for driver in "${drivers[@]}"; do
    log "docker: starting dockerd (storage driver $driver)"
    echo "===== $(date -u +%FT%TZ) services-up: dockerd --storage-driver=$driver" >>"$logfile"
    # Exactly the command line of /work/shared/ENVIRONMENT.md: no bridge and
    # no iptables (action containers use the host network on 127.0.0.1), its
    # own socket, pidfile and data root. setsid + nohup: the daemon must
    # outlive this script and the terminal or CI step that ran it.
    setsid nohup dockerd --iptables=false --ip6tables=false --bridge=none \
      --storage-driver="$driver" \
      --data-root "$DOCKER_DATA_ROOT" --host "$DOCKER_HOST_URL" \
      --pidfile "$DOCKER_PIDFILE" >>"$logfile" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$(pidfile_of docker)"
    rc=0
    wait_until "$pid" "$logfile" "dockerd ($driver)" docker_answers || rc=$?
    if ((rc == 0)); then
      STATUS="$( ((INSTALLED)) && echo "installed, started" || echo started) (storage $driver)"
      return 0
    fi
    show_log_tail "$logfile" 15
    stop_pid "$pid"
    rm -f "$(pidfile_of docker)"
  done
  die "docker: dockerd did not start with any storage driver (${drivers[*]}); log: $logfile"
}

# ================================================================= redis ===
up_redis() {
  INSTALLED=0
  # redis-server pulls in redis-tools (redis-cli) as a dependency.
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    apt_install redis-server
    hash -r
    INSTALLED=1
  fi
  if redis_answers; then
    STATUS="already running"
    return 0
  fi
  require_free_port "$REDIS_PORT" redis

  local dir=$DATA_DIR/redis logfile=$DATA_DIR/redis/redis.log pidfile
  pidfile=$(pidfile_of redis)
  mkdir -p "$dir"
  rm -f "$pidfile"
  log "redis: starting redis-server on 127.0.0.1:$REDIS_PORT"
  # A throw-away cache/queue for tests: no RDB snapshots, no AOF. Redis
  # daemonizes itself (and calls setsid) and writes its own pidfile.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" \
    --save '' --appendonly no \
    --pidfile "$pidfile" --logfile "$logfile" --dir "$dir" </dev/null 9>&- ||
    { show_log_tail "$logfile"; die "redis: redis-server failed to start (log: $logfile)"; }
  if ! wait_until "" "$logfile" redis redis_answers; then
    show_log_tail "$logfile"
    # Leave nothing half-started behind a failed run.
    stop_pid "$(read_pid "$pidfile")"
    die "redis: not answering on 127.0.0.1:$REDIS_PORT (log: $logfile)"
  fi
  STATUS=$( ((INSTALLED)) && echo "installed, started" || echo started)
}

# ================================================================= kafka ===
# No Kafka broker is packaged in apt or npm, but Apache Kafka's own jars are on
# Maven Central. Resolve kafka_2.13 (the broker, KRaft capable) plus its
# runtime dependencies with Maven into a cache folder, once per version.
KAFKA_DEFAULT_RANGE='[3.9.0,3.9.999]' # newest 3.9.x: KRaft, runs on Java 17

# Sets KAFKA_LIBS and KAFKA_VERSION; KAFKA_DOWNLOADED=1 if it had to resolve.
ensure_kafka_libs() {
  KAFKA_DOWNLOADED=0
  local want=${WHISKHUB_KAFKA_VERSION:-} found='' d
  # 1. A complete cached copy: the exact version asked for, else the newest
  #    cached 3.9.x (no network at all on later runs).
  if [[ -n $want ]]; then
    if [[ -f $CACHE_DIR/kafka-$want/.complete ]]; then found=$CACHE_DIR/kafka-$want; fi
  else
    # sort -V: 3.9.10 is newer than 3.9.2. The last complete one wins.
    while IFS= read -r d; do
      if [[ -f $d/.complete ]]; then found=$d; fi
    done < <(printf '%s\n' "$CACHE_DIR"/kafka-3.9.* | sort -V)
  fi
  if [[ -n $found ]]; then
    KAFKA_LIBS=$found/libs
    KAFKA_VERSION=${found##*/kafka-}
    return 0
  fi

  # 2. Resolve with Maven on a throw-away pom. A version range lets Maven pick
  #    the newest 3.9.x from Central's metadata. slf4j-reload4j is added
  #    because kafka_2.13's pom ships no logging backend (the binary
  #    distribution bundles one): without it the broker logs nothing at all.
  ensure_cmd mvn maven
  mkdir -p "$CACHE_DIR"
  local tmp mvnlog=$DATA_DIR/kafka/mvn.log
  mkdir -p "$DATA_DIR/kafka"
  tmp=$(mktemp -d "$CACHE_DIR/.kafka-resolve.XXXXXX")
  TMP_DIRS+=("$tmp")
  cat >"$tmp/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <!-- Generated by whiskhub deploy/dev/services-up.sh to fetch Kafka's jars. -->
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.whiskhub</groupId>
  <artifactId>kafka-libs</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${want:-$KAFKA_DEFAULT_RANGE}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
EOF
  log "kafka: resolving org.apache.kafka:kafka_2.13:${want:-$KAFKA_DEFAULT_RANGE} from Maven Central"
  # Plugin version pinned so the result does not depend on Maven's defaults.
  if ! timeout 1200 mvn -B -q -ntp -Dstyle.color=never -f "$tmp/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$tmp/libs" -DincludeScope=runtime >"$mvnlog" 2>&1; then
    show_log_tail "$mvnlog" 40
    die "kafka: Maven could not resolve Kafka's jars (log: $mvnlog)"
  fi
  local jars=("$tmp"/libs/kafka_2.13-*.jar) jar
  jar=${jars[0]##*/}
  [[ -f $tmp/libs/$jar ]] || die "kafka: Maven ran but no kafka_2.13 jar came out (log: $mvnlog)"
  KAFKA_VERSION=${jar#kafka_2.13-}
  KAFKA_VERSION=${KAFKA_VERSION%.jar}
  # Publish atomically: the .complete marker is written last, so a run that
  # was interrupted half-way is simply redone next time.
  local dest=$CACHE_DIR/kafka-$KAFKA_VERSION
  rm -rf "$dest"
  mkdir -p "$dest"
  mv "$tmp/libs" "$dest/libs"
  cp "$tmp/pom.xml" "$dest/pom.xml"
  touch "$dest/.complete"
  KAFKA_LIBS=$dest/libs
  KAFKA_DOWNLOADED=1
}

# Broker config, regenerated on every start so port changes take effect.
write_kafka_config() {
  local dir=$1
  cat >"$dir/server.properties" <<EOF
# Generated by deploy/dev/services-up.sh on each start; edits are overwritten.
# One node that is both KRaft controller and broker, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/kraft-logs
# A single broker: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Tests want consumers to join at once and topics to appear on first use.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.partitions=1
EOF
  # The broker logs to a file in the data dir (INFO; a start is ~200 lines).
  cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.Append=true
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
  # Admin tools (format, health check): errors only, to stderr.
  cat >"$dir/tools-log4j.properties" <<EOF
log4j.rootLogger=ERROR, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

up_kafka() {
  INSTALLED=0
  ensure_cmd java openjdk-17-jre-headless
  ensure_kafka_libs
  ((KAFKA_DOWNLOADED)) && INSTALLED=1
  local dir=$DATA_DIR/kafka
  mkdir -p "$dir"
  # The health check reads the tools log4j config from the data dir.
  [[ -f $dir/tools-log4j.properties ]] || write_kafka_config "$dir"
  if kafka_answers "$KAFKA_LIBS"; then
    STATUS="already running (kafka $KAFKA_VERSION)"
    return 0
  fi
  require_free_port "$KAFKA_PORT" kafka
  require_free_port "$KAFKA_CONTROLLER_PORT" "kafka (controller)"

  write_kafka_config "$dir"
  local tools_log4j=-Dlog4j.configuration=file:$dir/tools-log4j.properties
  # KRaft needs its metadata directory formatted once, with a cluster id.
  # Keep the id next to the data; format only if the directory is not yet.
  if [[ ! -f $dir/kraft-logs/meta.properties ]]; then
    local cid
    if [[ -s $dir/cluster-id ]]; then
      cid=$(<"$dir/cluster-id")
    else
      cid=$(java "$tools_log4j" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid)
      echo "$cid" >"$dir/cluster-id"
    fi
    log "kafka: formatting KRaft storage (cluster id $cid)"
    java "$tools_log4j" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
      -t "$cid" -c "$dir/server.properties" >>"$dir/format.log" 2>&1 ||
      { show_log_tail "$dir/format.log"; die "kafka: storage format failed (log: $dir/format.log)"; }
  fi

  log "kafka: starting broker $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT)"
  echo "$KAFKA_LIBS" >"$dir/libs.path"
  local logfile=$dir/server.log pid
  # Same main class and heap as Kafka's own kafka-server-start.sh, minus its
  # shell wrappers; stdout/stderr (JVM errors) go to stdout.log.
  setsid nohup java -Xmx512m -Xms256m -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    "-Dlog4j.configuration=file:$dir/log4j.properties" "-Dkafka.logs.dir=$dir" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" \
    >>"$dir/stdout.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$(pidfile_of kafka)"
  # Cheap port poll first; the JVM-based protocol check only once it listens.
  # shellcheck disable=SC2317  # called through wait_until
  kafka_up() { tcp_open "$KAFKA_PORT" && kafka_answers "$KAFKA_LIBS"; }
  if ! wait_until "$pid" "$logfile" kafka kafka_up; then
    show_log_tail "$dir/stdout.log" 10
    show_log_tail "$logfile"
    stop_pid "$pid"
    rm -f "$(pidfile_of kafka)"
    die "kafka: broker not answering on 127.0.0.1:$KAFKA_PORT (logs: $logfile, $dir/stdout.log)"
  fi
  STATUS="$( ((INSTALLED)) && echo "downloaded, started" || echo started) (kafka $KAFKA_VERSION)"
}

# =============================================================== couchdb ===
# pouchdb-server speaks CouchDB's HTTP API (what nano uses); it is a dev
# dependency of the repo, so it comes from `npm ci`, not from here.
COUCH_SMOKE_DB=whiskhub_services_smoke

# Exercise what whiskhub's CouchDB store does through nano: create a db,
# insert a doc, _bulk_docs, a map view with complex keys. Then drop the db.
couchdb_smoke() {
  local url=http://127.0.0.1:$COUCHDB_PORT db=$COUCH_SMOKE_DB out
  local c=(curl -fsS --max-time 30 -H 'Content-Type: application/json')
  "${c[@]}" -X DELETE "$url/$db" >/dev/null 2>&1 || true
  "${c[@]}" -X PUT "$url/$db" >/dev/null || return 1
  "${c[@]}" -X PUT "$url/$db/one" -d '{"kind":"smoke","n":1}' >/dev/null || return 1
  out=$("${c[@]}" -X POST "$url/$db/_bulk_docs" \
    -d '{"docs":[{"_id":"two","kind":"smoke","n":2},{"_id":"three","kind":"smoke","n":3}]}') || return 1
  [[ $out != *'"error"'* ]] || return 1
  "${c[@]}" -X PUT "$url/$db/_design/smoke" \
    -d '{"views":{"by_kind":{"map":"function (doc) { if (doc.kind) emit([doc.kind, doc.n], null); }"}}}' \
    >/dev/null || return 1
  out=$("${c[@]}" "$url/$db/_design/smoke/_view/by_kind?startkey=%5B%22smoke%22%5D&endkey=%5B%22smoke%22%2C%7B%7D%5D") || return 1
  [[ $out == *'"total_rows":3'* && $out == *'"id":"three"'* ]] || return 1
  "${c[@]}" -X DELETE "$url/$db" >/dev/null || return 1
}

# start_pouchdb [EXTRA ARGS...] -> sets COUCH_PID
start_pouchdb() {
  local dir=$DATA_DIR/couchdb bin=$REPO_ROOT/node_modules/.bin/pouchdb-server
  # cwd = its data folder: pouchdb-server writes config.json and log.txt
  # (its request log) into the current directory; --config says so too.
  # It also logs every request to stdout, hence stdout.log.
  (
    cd "$dir"
    # The guard keeps a known pouchdb-server race from killing it (see pouchdb-guard.cjs).
    exec setsid nohup node --require "$REPO_ROOT/deploy/dev/pouchdb-guard.cjs" "$bin" --host 127.0.0.1 --port "$COUCHDB_PORT" \
      --dir "$dir/dbs" --config "$dir/config.json" --no-color "$@" \
      >>"$dir/stdout.log" 2>&1 </dev/null 9>&-
  ) &
  COUCH_PID=$!
  echo "$COUCH_PID" >"$(pidfile_of couchdb)"
}

# pouchdb-server logs every request at its default level (info), twice (log.txt
# and stdout): about 0.6 ms of its CPU per request, a third of a single-document
# write, and hundreds of MB of logs a day of tests. Warnings and errors are kept.
# Set through its _config API, which it also saves in config.json: this works
# for an instance started here and for one already running.
COUCHDB_LOG_LEVEL=${WHISKHUB_DEV_COUCHDB_LOG_LEVEL:-warning}
couchdb_log_level() {
  curl -fsS --max-time 10 -X PUT "http://127.0.0.1:$COUCHDB_PORT/_config/log/level" \
    -H 'Content-Type: application/json' -d "\"$COUCHDB_LOG_LEVEL\"" >/dev/null ||
    log "couchdb: WARNING could not set its log level to $COUCHDB_LOG_LEVEL"
}

up_couchdb() {
  INSTALLED=0
  local dir=$DATA_DIR/couchdb bin=$REPO_ROOT/node_modules/.bin/pouchdb-server
  [[ -x $bin ]] || die "couchdb: $bin not found: run 'npm ci' in $REPO_ROOT first"
  command -v node >/dev/null 2>&1 || die "couchdb: node is not on PATH"
  ensure_cmd curl curl
  if couchdb_answers; then
    couchdb_log_level
    STATUS="already running ($(cat "$dir/mode" 2>/dev/null || echo unknown storage))"
    return 0
  fi
  require_free_port "$COUCHDB_PORT" couchdb
  mkdir -p "$dir/dbs"

  local logs="$dir/stdout.log, $dir/log.txt"
  log "couchdb: starting pouchdb-server on 127.0.0.1:$COUCHDB_PORT"
  start_pouchdb
  if wait_until "$COUCH_PID" "$dir/stdout.log" pouchdb-server couchdb_answers && couchdb_smoke; then
    couchdb_log_level
    echo "leveldb" >"$dir/mode"
    STATUS="started (leveldb, $dir/dbs)"
    return 0
  fi
  # The on-disk backend is leveldown, a native addon. If it cannot load or
  # work here, fall back to pouchdb-server's in-memory backend: same HTTP API,
  # data gone on restart. Loud, because it is not what CI should normally use.
  show_log_tail "$dir/stdout.log" 15
  log "couchdb: WARNING on-disk (leveldown) backend failed; retrying with --in-memory"
  stop_pid "$COUCH_PID"
  start_pouchdb --in-memory
  if wait_until "$COUCH_PID" "$dir/stdout.log" "pouchdb-server --in-memory" couchdb_answers && couchdb_smoke; then
    couchdb_log_level
    echo "in-memory FALLBACK" >"$dir/mode"
    STATUS="started (FALLBACK: --in-memory, leveldown failed)"
    return 0
  fi
  show_log_tail "$dir/stdout.log"
  stop_pid "$COUCH_PID"
  rm -f "$(pidfile_of couchdb)"
  die "couchdb: pouchdb-server does not work, neither on disk nor in memory (logs: $logs)"
}

# ================================================================== main ===
parse_services "$@"
take_lock
mkdir -p "$CACHE_DIR"
log "data dir $DATA_DIR; services: ${SERVICES[*]}"

T0=$(now_us)
declare -A RESULT TIME
for svc in "${SERVICES[@]}"; do
  t=$(now_us)
  STATUS=
  "up_$svc"
  RESULT[$svc]=$STATUS
  TIME[$svc]=$(fmt_secs "$t")
  KNOWN_UP[$svc]=1 # every up_* either got an answer or died
  log "$svc: $STATUS (${TIME[$svc]}s)"
done

write_env_file
TOTAL=$(fmt_secs "$T0")

{
  echo "whiskhub dev services (data dir: $DATA_DIR)"
  for svc in "${SERVICES[@]}"; do
    printf '  %-8s %6ss  %s\n' "$svc" "${TIME[$svc]}" "${RESULT[$svc]}"
  done
  printf '  %-8s %6ss\n' total "$TOTAL"
  echo "env: . $DATA_DIR/env"
  sed -n 's/^export /  /p' "$DATA_DIR/env"
}
