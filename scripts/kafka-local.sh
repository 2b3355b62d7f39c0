#!/usr/bin/env bash
# Provision and run a real single-node Apache Kafka broker (KRaft, combined broker+controller)
# from Maven Central jars: no Docker, no tarball. Needs `java` (17+) and, for `fetch`, `mvn`.
#
# Usage: scripts/kafka-local.sh {fetch|start|resume|stop|kill|status|logs [tail args]|version}
#
#   fetch    resolve the broker jars into scripts/kafka/libs/ (no-op when already fetched)
#   start    fetch if needed, format a fresh data dir, start the broker in the background,
#            wait until it is ready; the LAST line on stdout is KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:<port>
#            (all progress goes to stderr). Already running: prints the same line, exit 0.
#   resume   like start, but keeps the data dir of the broker stopped or killed before (its topics,
#            messages and committed offsets), as a restarted production broker does
#   stop     SIGTERM, SIGKILL after KAFKA_STOP_TIMEOUT s (default 30); no-op when not running
#   kill     SIGKILL at once (a crash: no clean shutdown); no-op when not running
#   status   exit 0 if the broker runs and accepts TCP connections, 1 if not running,
#            2 if the process runs but the port does not answer (yet)
#   logs     tail the broker log (default `tail -n 200`; e.g. `logs -f`)
#   version  print the pinned Kafka version (from scripts/kafka/pom.xml)
#
# Environment:
#   SHADOW_KAFKA_HOME      state dir (data, logs, pid, rendered config); default <project>/.shadow/kafka
#   KAFKA_PORT             broker (PLAINTEXT) port, default 19092; bound and advertised on 127.0.0.1
#   KAFKA_CONTROLLER_PORT  KRaft controller port, default 19093
#   KAFKA_START_TIMEOUT    seconds to wait for readiness, default 120
#   KAFKA_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL, default 30
#   KAFKA_HEAP_OPTS        default "-Xms512m -Xmx512m"
#   JAVA, MVN              java / mvn executables, default from PATH
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT_DIR=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
KAFKA_DIR="$SCRIPT_DIR/kafka"
POM="$KAFKA_DIR/pom.xml"
LIBS_DIR="$KAFKA_DIR/libs"
STAMP="$LIBS_DIR/.fetched"
CONF_DIR="$KAFKA_DIR/config"

STATE_DIR=${SHADOW_KAFKA_HOME:-$PROJECT_DIR/.shadow/kafka}
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/logs"
SERVER_LOG="$LOG_DIR/server.log"
PID_FILE="$STATE_DIR/kafka.pid"
PORT_FILE="$STATE_DIR/kafka.port"
RENDERED_CONF="$STATE_DIR/server.properties"

KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms512m -Xmx512m}
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
HOST=127.0.0.1
READY_LINE="Kafka Server started"

log() { printf 'kafka-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo pipefail$/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2
}

pinned_version() {
  local v
  v=$(sed -n 's:.*<kafka\.version>[[:space:]]*\([^<[:space:]]*\)[[:space:]]*</kafka\.version>.*:\1:p' "$POM" | head -n 1)
  [[ -n $v ]] || die "cannot read <kafka.version> from $POM"
  printf '%s\n' "$v"
}

# Stamp content: pinned version + hash of the pom, so editing the pom triggers a re-fetch.
stamp_content() {
  local sum
  sum=$(sha256sum "$POM" | cut -d' ' -f1)
  printf 'kafka=%s pom-sha256=%s\n' "$(pinned_version)" "$sum"
}

is_fetched() {
  [[ -f $STAMP ]] && [[ $(cat "$STAMP") == "$(stamp_content)" ]]
}

check_port_number() {
  local name=$1 value=$2
  if ! [[ $value =~ ^[1-9][0-9]{0,4}$ ]] || ((value > 65535)); then
    die "$name must be a TCP port number, got '$value'"
  fi
}

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (set JAVA=...); Kafka $(pinned_version) needs Java 17+"
  local major
  major=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^[[:space:]]*java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1)
  if [[ -n $major ]] && ((major < 17)); then
    die "Java $major found; the Kafka $(pinned_version) broker needs Java 17+"
  fi
}

cmd_fetch() {
  if is_fetched; then
    log "jars for Kafka $(pinned_version) already in $LIBS_DIR"
    return 0
  fi
  command -v "$MVN" >/dev/null 2>&1 || die "mvn not found (set MVN=...); needed once to fetch the Kafka jars"
  local version tmp
  version=$(pinned_version)
  log "fetching Kafka $version jars from Maven Central into $LIBS_DIR ..."
  # Resolve into a temp dir and swap it in, so an interrupted fetch never leaves a half-filled
  # libs/ and jars of a previously pinned version never stay on the classpath.
  tmp=$(mktemp -d "$KAFKA_DIR/.libs.tmp.XXXXXX")
  # shellcheck disable=SC2064  # expand $tmp now
  trap "rm -rf -- '$tmp'" EXIT
  # Maven 3.8 prints stray ANSI resets even with -B -q: keep its output, show it only on failure.
  if ! (cd -- "$KAFKA_DIR" && "$MVN" -B -q -Dkafka.libs.dir="$tmp" dependency:copy-dependencies) \
    >"$tmp/.mvn.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$tmp/.mvn.log" >&2
    die "mvn dependency:copy-dependencies failed"
  fi
  rm -f -- "$tmp/.mvn.log"
  compgen -G "$tmp/kafka_2.13-$version.jar" >/dev/null || die "kafka_2.13-$version.jar missing after fetch"
  stamp_content >"$tmp/.fetched"
  rm -rf -- "$LIBS_DIR"
  mv -- "$tmp" "$LIBS_DIR"
  chmod 755 -- "$LIBS_DIR"
  trap - EXIT
  log "fetched $(compgen -G "$LIBS_DIR/*.jar" | wc -l) jars for Kafka $version"
}

# PID of our broker if it is running, else nothing (exit 1). Guards against PID reuse by
# checking the command line mentions kafka.Kafka and our rendered config.
broker_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/cmdline ]]; then
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    [[ $cmdline == *kafka.Kafka*"$RENDERED_CONF"* ]] || return 1
  fi
  printf '%s\n' "$pid"
}

port_open() {
  # shellcheck disable=SC2016  # $1/$2 expand in the child shell
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$1" 2>/dev/null
}

running_port() {
  if [[ -f $PORT_FILE ]]; then cat "$PORT_FILE"; else printf '%s\n' "$KAFKA_PORT"; fi
}

print_bootstrap() {
  printf 'KAFKA_BOOTSTRAP_SERVERS=%s:%s\n' "$HOST" "$1"
}

fail_start() {
  log "error: $*"
  if [[ -f $SERVER_LOG ]]; then
    log "---- last 80 lines of $SERVER_LOG ----"
    tail -n 80 -- "$SERVER_LOG" >&2 || true
    log "---- end of log ----"
  fi
  exit 1
}

# Wait for the "Kafka Server started" log line and a TCP connect on the broker port.
wait_ready() {
  local pid=$1 port=$2 deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f -- "$PID_FILE"
      fail_start "broker process $pid exited during startup"
    fi
    if grep -qF -- "$READY_LINE" "$SERVER_LOG" 2>/dev/null && port_open "$port"; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "broker not ready within ${KAFKA_START_TIMEOUT}s; stopping it"
      terminate "$pid"
      rm -f -- "$PID_FILE"
      fail_start "broker not ready within ${KAFKA_START_TIMEOUT}s"
    fi
    sleep 0.5
  done
}

# Replace @NAME@ placeholders of the config template (quoted replacements: no & / \ surprises).
render_config() {
  local line
  : >"$RENDERED_CONF.tmp"
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line//@KAFKA_PORT@/"$KAFKA_PORT"}
    line=${line//@KAFKA_CONTROLLER_PORT@/"$KAFKA_CONTROLLER_PORT"}
    line=${line//@KAFKA_DATA_DIR@/"$DATA_DIR"}
    printf '%s\n' "$line" >>"$RENDERED_CONF.tmp"
  done <"$CONF_DIR/server.properties"
  mv -- "$RENDERED_CONF.tmp" "$RENDERED_CONF"
}

# KRaft cluster id: URL-safe base64 of 16 random bytes, no padding (what Uuid.randomUuid() prints).
new_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ ${#id} -eq 22 && $id != -* ]] && break
  done
  printf '%s\n' "$id"
}

cmd_start() {
  local keep_data=${1:-}
  check_port_number KAFKA_PORT "$KAFKA_PORT"
  check_port_number KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  mkdir -p -- "$STATE_DIR"

  local pid port
  if pid=$(broker_pid); then
    port=$(running_port)
    if [[ $port != "$KAFKA_PORT" ]]; then
      log "warning: broker already running on port $port (KAFKA_PORT=$KAFKA_PORT ignored)"
    fi
    if ! port_open "$port"; then
      log "broker (pid $pid) is running but not answering yet; waiting ..."
      wait_ready "$pid" "$port"
    fi
    log "broker already running (pid $pid)"
    print_bootstrap "$port"
    return 0
  fi

  cmd_fetch
  check_java
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then
      die "port $HOST:$p is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
    fi
  done

  local version
  version=$(pinned_version)
  log "starting Kafka $version on $HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT), state in $STATE_DIR"
  if [[ -n $keep_data ]]; then
    [[ -f $DATA_DIR/meta.properties ]] || die "resume: no formatted data dir at $DATA_DIR (use start)"
    mkdir -p -- "$LOG_DIR"
    if [[ -f $SERVER_LOG ]]; then mv -f -- "$SERVER_LOG" "$SERVER_LOG.prev"; fi
    rm -f -- "$PID_FILE"
    render_config
  else
    [[ -n $STATE_DIR && -n $DATA_DIR && $DATA_DIR == "$STATE_DIR/data" ]] || die "refusing to wipe '$DATA_DIR'"
    rm -rf -- "$DATA_DIR"
    mkdir -p -- "$DATA_DIR" "$LOG_DIR"
    if [[ -f $SERVER_LOG ]]; then mv -f -- "$SERVER_LOG" "$SERVER_LOG.prev"; fi
    rm -f -- "$PID_FILE" # stale (broker_pid said not running); the child writes the new one
    render_config

    local cluster_id
    cluster_id=$(new_cluster_id)
    "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$CONF_DIR/tools-log4j2.yaml" -cp "$LIBS_DIR/*" \
      kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$RENDERED_CONF" >&2 \
      || die "formatting $DATA_DIR failed"
  fi

  local -a jvm_opts heap_opts
  read -r -a heap_opts <<<"$KAFKA_HEAP_OPTS"
  jvm_opts=(
    "${heap_opts[@]}"
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$CONF_DIR/log4j2.yaml"
    -Dkafka.logs.dir="$LOG_DIR"
  )
  # New session (setsid): the broker must not die with the caller's terminal or process group.
  # All fds go to the log so callers that capture our stdout do not wait on the broker.
  local -a launcher=()
  if command -v setsid >/dev/null 2>&1; then launcher=(setsid); fi
  # shellcheck disable=SC2016  # $$ and "$@" expand in the child shell
  nohup "${launcher[@]}" bash -c 'echo "$$" >"$1"; shift; exec "$@"' _ "$PID_FILE" \
    "$JAVA" "${jvm_opts[@]}" -cp "$LIBS_DIR/*" kafka.Kafka "$RENDERED_CONF" \
    </dev/null >>"$SERVER_LOG" 2>&1 9>&- &
  local launched=$! launch_start=$SECONDS
  printf '%s\n' "$KAFKA_PORT" >"$PORT_FILE"

  # The child writes its own pid (setsid may fork); wait briefly for it.
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $PID_FILE ]] && break
    sleep 0.1
  done
  [[ -s $PID_FILE ]] || printf '%s\n' "$launched" >"$PID_FILE"
  pid=$(cat "$PID_FILE")

  wait_ready "$pid" "$KAFKA_PORT"
  log "Kafka $version ready $((SECONDS - launch_start))s after launch, ${SECONDS}s in total (pid $pid, log $SERVER_LOG)"
  print_bootstrap "$KAFKA_PORT"
}

# SIGTERM (Kafka shuts down cleanly), SIGKILL after KAFKA_STOP_TIMEOUT seconds.
terminate() {
  local pid=$1 deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "pid $pid still running after ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

cmd_stop() {
  local pid
  if ! pid=$(broker_pid); then
    log "broker not running"
    rm -f -- "$PID_FILE"
    return 0
  fi
  log "stopping broker (pid $pid) ..."
  terminate "$pid"
  rm -f -- "$PID_FILE"
  log "broker stopped"
}

cmd_kill() {
  local pid
  if ! pid=$(broker_pid); then
    log "broker not running"
    rm -f -- "$PID_FILE"
    return 0
  fi
  log "killing broker (pid $pid) with SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f -- "$PID_FILE"
}

cmd_status() {
  local pid port
  if ! pid=$(broker_pid); then
    log "not running"
    return 1
  fi
  port=$(running_port)
  if port_open "$port"; then
    log "running (pid $pid) on $HOST:$port"
    return 0
  fi
  log "process $pid is running but $HOST:$port does not answer"
  return 2
}

cmd_logs() {
  [[ -f $SERVER_LOG ]] || die "no broker log at $SERVER_LOG"
  if (($# == 0)); then set -- -n 200; fi
  exec tail "$@" -- "$SERVER_LOG"
}

# Serialise start/stop/fetch on one state dir (e.g. parallel test sessions calling `start`).
take_lock() {
  mkdir -p -- "$STATE_DIR"
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$STATE_DIR/.lock"
  flock -w $((KAFKA_START_TIMEOUT + KAFKA_STOP_TIMEOUT + 300)) 9 || die "timed out waiting for $STATE_DIR/.lock"
}

main() {
  local cmd=${1:-}
  if (($# > 0)); then shift; fi
  case $cmd in
    fetch) take_lock && cmd_fetch ;;
    start) take_lock && cmd_start ;;
    resume) take_lock && cmd_start keep ;;
    stop) take_lock && cmd_stop ;;
    kill) take_lock && cmd_kill ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    version) pinned_version ;;
    -h | --help | help) usage ;;
    *)
      usage
      exit 64
      ;;
  esac
}

main "$@"
