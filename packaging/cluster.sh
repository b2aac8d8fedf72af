#!/usr/bin/env bash
# packaging/cluster.sh — behind `./collab cluster`: a local cluster for trying several nodes. PostgreSQL and Redis
# from Debian's packages (./collab installs them when missing), N server nodes with COLLAB_STORE=postgres and
# COLLAB_BUS=redis, and nginx (nginx/proxy.sh --cluster, i.e. nginx/collab-cluster.conf) in front; everything on
# 127.0.0.1, everything's data in one temporary directory, removed when it stops (Ctrl-C or SIGTERM).
#
#   ./collab cluster [--nodes N] [--listen [ADDR:]PORT] [--postgres-port PORT] [--redis-port PORT] [--keep]
#
#   --nodes          server nodes (default 3); each listens on a free port of 127.0.0.1
#   --listen         nginx's https:// and wss:// listener (default 127.0.0.1:8443; a bare port is on 127.0.0.1)
#   --postgres-port  PostgreSQL's port (default: a free one)
#   --redis-port     Redis's port (default: a free one)
#   --keep           keep the temporary directory (data and logs) after stopping
#
# It prints every address, then `collab cluster ready: wss://…` on stdout once nginx is up.
# Expects JAVA_HOME/COLLAB_JAVA set and target/collab-server.jar built (./collab does both).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=packaging/java.sh
. "$ROOT/packaging/java.sh"

say() { echo "collab cluster: $*" >&2; }
die() { say "$*"; exit 2; }
usage() { sed -n '7,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

NODES=3 LISTEN=127.0.0.1:8443 PG_PORT="" REDIS_PORT="" KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nodes) NODES="${2:-}"; shift 2 || usage ;;
    --listen) LISTEN="${2:-}"; shift 2 || usage ;;
    --postgres-port) PG_PORT="${2:-}"; shift 2 || usage ;;
    --redis-port) REDIS_PORT="${2:-}"; shift 2 || usage ;;
    --keep) KEEP=1; shift ;;
    --nodes=*|--listen=*|--postgres-port=*|--redis-port=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
    -h|--help) usage ;;
    *) say "unknown argument: $1"; usage ;;
  esac
done
[[ "$LISTEN" =~ ^[0-9]+$ ]] && LISTEN="127.0.0.1:$LISTEN"   # loopback unless an address is given
[[ "$NODES" =~ ^[1-9][0-9]?$ ]] || die "--nodes wants a number from 1 to 99, got '$NODES'"
for p in "$PG_PORT" "$REDIS_PORT"; do [[ -z "$p" || "$p" =~ ^[1-9][0-9]{0,4}$ ]] || die "a port is a number, got '$p'"; done

PG_BIN=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
  [[ -x "$d/postgres" ]] && { PG_BIN="$d"; break; }
done
[[ -n "$PG_BIN" ]] || die "PostgreSQL is not installed (apt-get install postgresql)"
REDIS="$(command -v redis-server || true)"
[[ -n "$REDIS" ]] || die "redis-server is not installed (apt-get install redis-server)"
JAVA="${COLLAB_JAVA:-java}"
[[ -f "$ROOT/target/collab-server.jar" ]] || die "target/collab-server.jar is missing: ./collab build"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # a port nothing listens on right now
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if port_free "$p"; then echo "$p"; return 0; fi
  done
  die "found no free port"
}
[[ -n "$PG_PORT" ]] || PG_PORT="$(free_port)"
[[ -n "$REDIS_PORT" ]] || REDIS_PORT="$(free_port)"
port_free "$PG_PORT" || die "port $PG_PORT (PostgreSQL) is taken"
port_free "$REDIS_PORT" || die "port $REDIS_PORT (Redis) is taken"

# --- the directory and the cleanup ---------------------------------------------------------------
DIR="$(mktemp -d "${TMPDIR:-/tmp}/collab-cluster.XXXXXX")"
chmod 755 "$DIR"   # PostgreSQL (run as the postgres user when we are root) must reach its data directory
AS_PG=()
if [[ "$(id -u)" == 0 ]]; then
  AS_PG=(runuser -u postgres --)
  install -d -o postgres -g postgres "$DIR/pg"
else
  mkdir "$DIR/pg"
fi
PIDS=() PROXY_PID="" REDIS_PID="" PG_STARTED=0 STOPPING=0
cleanup() {
  STOPPING=1
  trap '' INT TERM
  say "stopping"
  if [[ -n "$PROXY_PID" ]]; then kill -TERM "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; fi
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n "$REDIS_PID" ]]; then kill -TERM "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
  if [[ "$PG_STARTED" == 1 ]]; then
    "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -m fast -w stop >"$DIR/pg/stop.log" 2>&1 \
      || { cat "$DIR/pg/stop.log" >&2; say "PostgreSQL did not stop cleanly"; }
  fi
  if [[ "$KEEP" == 1 ]]; then say "data and logs kept in $DIR"; else rm -rf "$DIR"; fi
  say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- PostgreSQL ----------------------------------------------------------------------------------
say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$DIR/pg/data" -A trust -U collab -E UTF8 --no-sync --no-instructions \
  >"$DIR/pg/initdb.log" 2>&1 || { cat "$DIR/pg/initdb.log" >&2; die "initdb failed"; }
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/postgres.log" -w -t 60 start \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR/pg" >/dev/null \
  || { cat "$DIR/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
PG_STARTED=1
"${AS_PG[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U collab collab \
  || die "createdb collab failed"

# --- Redis ---------------------------------------------------------------------------------------
say "Redis $("$REDIS" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') on 127.0.0.1:$REDIS_PORT"
"$REDIS" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" \
  >"$DIR/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 200); do port_free "$REDIS_PORT" || break; sleep 0.05; done
port_free "$REDIS_PORT" && { cat "$DIR/redis.log" >&2; die "Redis did not start"; }

# --- the nodes -----------------------------------------------------------------------------------
# shellcheck disable=SC2207
JVM_OPTS=($(server_jvm_options "$JAVA") ${COLLAB_JAVA_OPTS:-})
ADMIN_TOKEN="${COLLAB_ADMIN_TOKEN:-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')}"
for i in $(seq 1 "$NODES"); do
  ( cd "$ROOT" && exec env SERVER_HOST=127.0.0.1 SERVER_PORT=0 COLLAB_NODE_ID="node-$i" \
      COLLAB_STORE=postgres COLLAB_POSTGRES_URL="jdbc:postgresql://127.0.0.1:$PG_PORT/collab" \
      COLLAB_POSTGRES_USER=collab COLLAB_BUS=redis COLLAB_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
      COLLAB_DB_PATH="$DIR/node-$i.db" COLLAB_ADMIN_TOKEN="$ADMIN_TOKEN" COLLAB_TRUSTED_PROXIES=127.0.0.1 \
      "$JAVA" "${JVM_OPTS[@]}" -jar target/collab-server.jar ) >"$DIR/node-$i.log" 2>&1 &
  PIDS+=($!)
done
NODE_PORTS=()
for i in $(seq 1 "$NODES"); do
  port=""
  for _ in $(seq 1 1800); do   # 90 s: three JVMs starting at once on a small machine
    port="$(sed -n 's/^collab-server listening on port \([0-9]*\).*/\1/p' "$DIR/node-$i.log" | head -1)"
    [[ -n "$port" ]] && break
    kill -0 "${PIDS[$((i - 1))]}" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z "$port" ]]; then tail -20 "$DIR/node-$i.log" >&2; die "node-$i did not start (log above)"; fi
  NODE_PORTS+=("$port")
  say "node-$i   http://127.0.0.1:$port (pid ${PIDS[$((i - 1))]}, log $DIR/node-$i.log)"
done

# --- nginx ---------------------------------------------------------------------------------------
UPSTREAM_ARGS=()
for p in "${NODE_PORTS[@]}"; do UPSTREAM_ARGS+=(--upstream "127.0.0.1:$p"); done
mkdir "$DIR/nginx" && chmod 711 "$DIR/nginx"
TMPDIR="$DIR/nginx" bash "$ROOT/nginx/proxy.sh" --cluster --listen "$LISTEN" "${UPSTREAM_ARGS[@]}" \
  >"$DIR/nginx/proxy.out" 2>"$DIR/nginx/proxy.err" &
PROXY_PID=$!
for _ in $(seq 1 400); do
  grep -q '^collab proxy ready' "$DIR/nginx/proxy.out" 2>/dev/null && break
  kill -0 "$PROXY_PID" 2>/dev/null || break
  sleep 0.05
done
grep -q '^collab proxy ready' "$DIR/nginx/proxy.out" 2>/dev/null || { cat "$DIR/nginx/proxy.err" >&2; die "nginx did not start"; }
grep -v '^collab proxy: \(pages\|yjs\|hocuspocus\|json\) ' "$DIR/nginx/proxy.err" >&2 || true
URL="$(sed -n 's/^collab proxy ready: //p' "$DIR/nginx/proxy.out")"
HOST_PORT="${URL#wss://}"
say "postgres  jdbc:postgresql://127.0.0.1:$PG_PORT/collab (user collab; psql -h 127.0.0.1 -p $PG_PORT -U collab collab)"
say "redis     redis://127.0.0.1:$REDIS_PORT"
say "admin token $ADMIN_TOKEN (each node: http://127.0.0.1:PORT/admin/)"
say "pages     https://$HOST_PORT/"
say "yjs       wss://$HOST_PORT/yjs/<document>"
say "hocuspocus wss://$HOST_PORT/hocuspocus"
say "json      wss://$HOST_PORT/ws/fabric?documentId=<document>&clientID=<id>"
say "data and logs in $DIR; Ctrl-C stops everything"
echo "collab cluster ready: $URL"

# --- run until told to stop; say when a part dies (the rest carries on: that is what a cluster is for) --------
declare -A GONE=()
while [[ "$STOPPING" == 0 ]]; do
  for i in "${!PIDS[@]}"; do
    if [[ -z "${GONE[$i]:-}" ]] && ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
      GONE[$i]=1; say "node-$((i + 1)) (pid ${PIDS[$i]}) exited; the others carry on"
    fi
  done
  kill -0 "$PROXY_PID" 2>/dev/null || { say "nginx exited"; exit 1; }
  sleep 1 &
  wait $! 2>/dev/null || true
done
