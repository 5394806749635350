#!/usr/bin/env bash
# Real servers for the integration suites, started as processes (there is no Docker engine on these machines;
# see ARCHITECTURE.md, "Real servers without Docker"):
#   - Apache Kafka, a single KRaft broker+controller, from Maven Central jars (.ci/kafka/pom.xml);
#   - FerretDB v1 with its SQLite backend, built with `go install`;
#   - Mailpit (an SMTP server with an HTTP API that shows what it received), built with `go install`.
# Downloads are cached in ~/.m2 and Go's module cache; the resolved jar list and the ferretdb binary are
# kept in .ci/cache. Runtime state (logs, data) lives in $CRM_SERVERS_DIR (default .ci/cache/run).
#
#   .ci/servers.sh install            fetch and build what is missing
#   .ci/servers.sh start | stop       all servers (start waits until they answer)
#   .ci/servers.sh kafka-start | kafka-stop | ferretdb-start | ferretdb-stop | mailpit-start | mailpit-stop
#   .ci/servers.sh run CMD...         start all, run CMD with KAFKA_BROKERS, MONGO_URL, MAILPIT_SMTP_URL and
#                                     MAILPIT_API_URL set, stop all
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.ci/cache"
RUN="${CRM_SERVERS_DIR:-$CACHE/run}"
KAFKA_VERSION_FILE="$ROOT/.ci/kafka/pom.xml"
FERRETDB_VERSION="v1.24.2"
KAFKA_PORT="${CRM_TEST_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${CRM_TEST_KAFKA_CONTROLLER_PORT:-19093}"
FERRETDB_PORT="${CRM_TEST_FERRETDB_PORT:-27017}"
MAILPIT_VERSION="v1.33.1"
MAILPIT_SMTP_PORT="${CRM_TEST_MAILPIT_SMTP_PORT:-11025}"
MAILPIT_HTTP_PORT="${CRM_TEST_MAILPIT_HTTP_PORT:-18025}"
export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
# Production-shaped: a replica set's host list (both names reach the one FerretDB, which says it is member of rs0).
export MONGO_URL="mongodb://127.0.0.1:$FERRETDB_PORT,localhost:$FERRETDB_PORT/?replicaSet=rs0"
export MAILPIT_SMTP_URL="smtp://127.0.0.1:$MAILPIT_SMTP_PORT"
export MAILPIT_API_URL="http://127.0.0.1:$MAILPIT_HTTP_PORT"

log() { printf '[servers] %s\n' "$*" >&2; }
stamp() { sha256sum "$KAFKA_VERSION_FILE" | cut -c1-16; }

install_kafka() {
  local libs="$CACHE/kafka-$(stamp)/libs"
  if [ ! -f "$libs/.complete" ]; then
    command -v java >/dev/null || { log "java is needed for Kafka"; exit 1; }
    command -v mvn >/dev/null || { log "mvn is needed to fetch Kafka"; exit 1; }
    log "resolving Kafka from Maven Central into $libs"
    rm -rf "$libs" && mkdir -p "$libs"
    # Maven 3.8 prints colour resets even in batch mode; they are stripped from the log.
    mvn -q -B -Dstyle.color=never -f "$KAFKA_VERSION_FILE" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime 2>&1 \
      | sed $'s/\e\\[[0-9;]*m//g' >&2
    touch "$libs/.complete"
  fi
  echo "$libs"
}

install_ferretdb() {
  local bin="$CACHE/ferretdb-$FERRETDB_VERSION"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || { log "go is needed to build FerretDB"; exit 1; }
    # `go install …/cmd/ferretdb@version` builds a binary that panics at start: FerretDB embeds its version from
    # build/version/version.txt, which only its release tooling writes. So: fetch the module with the Go
    # module cache, copy it, write that one file, and build cmd/ferretdb from the copy.
    log "building FerretDB $FERRETDB_VERSION from the Go module proxy"
    local dir src
    dir="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    src="$CACHE/ferretdb-src"
    rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src"
    echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
    (cd "$src" && go build -o "$bin.tmp" ./cmd/ferretdb) >&2
    mv "$bin.tmp" "$bin" && rm -rf "$src"
  fi
  echo "$bin"
}

install_mailpit() {
  local bin="$CACHE/mailpit-$MAILPIT_VERSION"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || { log "go is needed to build Mailpit"; exit 1; }
    log "building Mailpit $MAILPIT_VERSION from the Go module proxy"
    local gobin="$CACHE/mailpit-build"
    rm -rf "$gobin" && mkdir -p "$gobin"
    GOBIN="$gobin" go install "github.com/axllent/mailpit@$MAILPIT_VERSION" >&2
    mv "$gobin/mailpit" "$bin" && rm -rf "$gobin"
  fi
  echo "$bin"
}

wait_port() { # name port seconds
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { log "$1 did not open port $2 in $3 s; its log:"; tail -40 "$RUN/$1.log" >&2 || true; return 1; }
    sleep 0.2
  done
}

running() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

port_free() { # name port variable
  if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
    log "port $2 is already taken by another process; stop it, or choose another port for $1 with $3"
    return 1
  fi
}

stop_one() { # name
  if running "$1"; then
    local pid; pid="$(cat "$RUN/$1.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "$1 stopped"
  fi
  rm -f "$RUN/$1.pid"
}

kafka_start() {
  running kafka && return 0
  port_free kafka "$KAFKA_PORT" CRM_TEST_KAFKA_PORT
  port_free kafka "$KAFKA_CONTROLLER_PORT" CRM_TEST_KAFKA_CONTROLLER_PORT
  local libs; libs="$(install_kafka)"
  mkdir -p "$RUN/kafka-data"
  cat >"$RUN/kafka.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$RUN/kafka-data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  cat >"$RUN/kafka-log4j2.properties" <<EOF
rootLogger.level=WARN
rootLogger.appenderRef.out.ref=out
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
EOF
  local java=(java -Xms256m -Xmx512m -XX:+UseG1GC -Dlog4j2.configurationFile="$RUN/kafka-log4j2.properties" -cp "$libs/*")
  if [ ! -f "$RUN/kafka-data/meta.properties" ]; then
    local cluster; cluster="$("${java[@]}" kafka.tools.StorageTool random-uuid)"
    "${java[@]}" kafka.tools.StorageTool format --standalone -t "$cluster" -c "$RUN/kafka.properties" >>"$RUN/kafka.log" 2>&1
  fi
  log "starting Kafka on $KAFKA_BROKERS"
  nohup "${java[@]}" kafka.Kafka "$RUN/kafka.properties" >>"$RUN/kafka.log" 2>&1 &
  echo $! >"$RUN/kafka.pid"
  wait_port kafka "$KAFKA_PORT" 90
}

ferretdb_start() {
  running ferretdb && return 0
  port_free ferretdb "$FERRETDB_PORT" CRM_TEST_FERRETDB_PORT
  local bin; bin="$(install_ferretdb)"
  mkdir -p "$RUN/ferretdb-data" "$RUN/ferretdb-state"
  log "starting FerretDB on $MONGO_URL"
  # --state-dir: FerretDB writes its state.json there, not into the directory it was started from.
  nohup "$bin" --handler=sqlite --sqlite-url="file:$RUN/ferretdb-data/" --state-dir="$RUN/ferretdb-state" \
    --listen-addr="127.0.0.1:$FERRETDB_PORT" --repl-set-name=rs0 --telemetry=disable --log-level=warn --debug-addr=- >>"$RUN/ferretdb.log" 2>&1 &
  echo $! >"$RUN/ferretdb.pid"
  wait_port ferretdb "$FERRETDB_PORT" 60
}

mailpit_start() {
  running mailpit && return 0
  port_free mailpit "$MAILPIT_SMTP_PORT" CRM_TEST_MAILPIT_SMTP_PORT
  port_free mailpit "$MAILPIT_HTTP_PORT" CRM_TEST_MAILPIT_HTTP_PORT
  local bin; bin="$(install_mailpit)"
  log "starting Mailpit on $MAILPIT_SMTP_URL (API $MAILPIT_API_URL)"
  nohup "$bin" --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" --database "$RUN/mailpit.db" \
    --max 100000 --smtp-auth-accept-any --smtp-auth-allow-insecure --disable-version-check >>"$RUN/mailpit.log" 2>&1 &
  echo $! >"$RUN/mailpit.pid"
  wait_port mailpit "$MAILPIT_HTTP_PORT" 30
}

mkdir -p "$RUN"
case "${1:-}" in
  install) install_kafka >/dev/null & k=$!; install_ferretdb >/dev/null; install_mailpit >/dev/null; wait $k ;;
  start) kafka_start & k=$!; ferretdb_start; mailpit_start; wait $k ;;
  stop) stop_one kafka; stop_one ferretdb; stop_one mailpit ;;
  kafka-start) kafka_start ;;
  kafka-stop) stop_one kafka ;;
  ferretdb-start) ferretdb_start ;;
  ferretdb-stop) stop_one ferretdb ;;
  mailpit-start) mailpit_start ;;
  mailpit-stop) stop_one mailpit ;;
  run)
    shift
    trap 'stop_one kafka; stop_one ferretdb; stop_one mailpit' EXIT
    started=$SECONDS
    kafka_start & k=$!; ferretdb_start; mailpit_start; wait $k
    log "servers up in $((SECONDS - started)) s (KAFKA_BROKERS=$KAFKA_BROKERS MONGO_URL=$MONGO_URL MAILPIT_SMTP_URL=$MAILPIT_SMTP_URL)"
    "$@"
    ;;
  *) echo "usage: $0 install|start|stop|kafka-start|kafka-stop|ferretdb-start|ferretdb-stop|mailpit-start|mailpit-stop|run CMD..." >&2; exit 2 ;;
esac
