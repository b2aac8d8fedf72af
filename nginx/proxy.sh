#!/usr/bin/env bash
# nginx/proxy.sh — try wss:// locally: Debian's nginx in the foreground, in front of collab-server,
# with nginx/collab.conf rendered for local use and a self-signed certificate.
#
#   nginx/proxy.sh --listen [ADDR:]PORT --upstream HOST:PORT [--upstream HOST:PORT ...]
#                  [--http-listen [ADDR:]PORT] [--read-timeout SECONDS] [--cert FILE --key FILE] [--cluster]
#   nginx/proxy.sh --ensure-nginx        install nginx if missing (root only), print its path, exit
#
#   --listen        where nginx terminates TLS (https:// and wss://); a bare PORT listens on every
#                   IPv4 address
#   --upstream      a collab-server node (repeat for several: documents are spread by consistent hash)
#   --http-listen   also listen for plain HTTP there and redirect it to the HTTPS port
#   --read-timeout  proxy_read_timeout for the WebSocket locations, in seconds (default 120)
#   --cert/--key    use this certificate instead of generating a self-signed one
#   --cluster       render nginx/collab-cluster.conf (nodes on one PostgreSQL + Redis: a dead node's
#                   clients fail over to a live one) instead of nginx/collab.conf (SQLite nodes: a
#                   document never moves)
#
# Everything nginx needs (rendered config, certificate, pid file, logs, temp files) lives in one
# mktemp directory that is removed when nginx exits. Ctrl-C or SIGTERM stops nginx.
# Exit status: nginx's own; 2 for bad arguments; 69 when nginx is missing and cannot be installed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATE="$HERE/collab.conf"
EX_UNAVAILABLE=69

say() { echo "collab proxy: $*" >&2; }
die() { say "$*"; exit 2; }
usage() { sed -n '4,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# --- nginx ---------------------------------------------------------------------------------------
find_nginx() {
  local n
  for n in "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx /usr/local/sbin/nginx; do
    if [[ -n "$n" && -x "$n" ]]; then echo "$n"; return 0; fi
  done
  return 1
}

ensure_nginx() {
  if find_nginx; then return 0; fi
  if [[ "$(id -u)" != 0 ]]; then
    say "nginx is not installed, and installing it needs root."
    say "install it with: sudo apt-get install nginx   (or run this command as root)"
    exit "$EX_UNAVAILABLE"
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "nginx is not installed and there is no apt-get here: install nginx with your package manager."
    exit "$EX_UNAVAILABLE"
  fi
  say "installing nginx with apt-get"
  # The package's own service start is irrelevant here (this script runs its own nginx).
  if ! { apt-get update -q -o DPkg::Lock::Timeout=300 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
           -o DPkg::Lock::Timeout=300 nginx; } >&2; then
    say "apt-get could not install nginx"
    exit "$EX_UNAVAILABLE"
  fi
  find_nginx || { say "nginx still not found after installing it"; exit "$EX_UNAVAILABLE"; }
}

# --- arguments -----------------------------------------------------------------------------------
LISTEN="" HTTP_LISTEN="" READ_TIMEOUT=120 CERT="" KEY="" UPSTREAMS=()
[[ $# -gt 0 ]] || usage
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ensure-nginx) ensure_nginx; exit 0 ;;
    --listen) LISTEN="${2:-}"; shift 2 || usage ;;
    --http-listen) HTTP_LISTEN="${2:-}"; shift 2 || usage ;;
    --upstream) UPSTREAMS+=("${2:-}"); shift 2 || usage ;;
    --read-timeout) READ_TIMEOUT="${2:-}"; shift 2 || usage ;;
    --cert) CERT="${2:-}"; shift 2 || usage ;;
    --key) KEY="${2:-}"; shift 2 || usage ;;
    --cluster) TEMPLATE="$HERE/collab-cluster.conf"; shift ;;
    --listen=*|--http-listen=*|--upstream=*|--read-timeout=*|--cert=*|--key=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
    -h|--help) usage ;;
    *) say "unknown argument: $1"; usage ;;
  esac
done

LISTEN_RE='^(([0-9]{1,3}\.){3}[0-9]{1,3}:|\[[0-9A-Fa-f:.]+\]:|localhost:)?[0-9]{1,5}$'
UPSTREAM_RE='^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$'
[[ -n "$LISTEN" ]] || die "--listen PORT is required"
[[ "$LISTEN" =~ $LISTEN_RE ]] || die "--listen wants PORT or ADDR:PORT, got '$LISTEN'"
[[ -z "$HTTP_LISTEN" || "$HTTP_LISTEN" =~ $LISTEN_RE ]] || die "--http-listen wants PORT or ADDR:PORT, got '$HTTP_LISTEN'"
[[ ${#UPSTREAMS[@]} -gt 0 ]] || die "at least one --upstream HOST:PORT is required"
for u in "${UPSTREAMS[@]}"; do
  [[ "$u" =~ $UPSTREAM_RE ]] || die "--upstream wants HOST:PORT, got '$u'"
done
[[ "$READ_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--read-timeout wants a whole number of seconds, got '$READ_TIMEOUT'"
[[ -z "$CERT" && -z "$KEY" ]] || [[ -r "$CERT" && -r "$KEY" ]] || die "--cert and --key must both name readable files"
[[ -f "$TEMPLATE" ]] || die "missing $TEMPLATE"

NGINX="$(ensure_nginx)" || exit $?
command -v openssl >/dev/null 2>&1 || [[ -n "$CERT" ]] || die "openssl is needed to make the self-signed certificate (apt-get install openssl), or pass --cert/--key"

TLS_PORT="${LISTEN##*:}"
URL_HOST="${LISTEN%:*}"
[[ "$URL_HOST" != "$LISTEN" && "$URL_HOST" != 0.0.0.0 && "$URL_HOST" != "[::]" ]] || URL_HOST=127.0.0.1
HOST_PORT="$URL_HOST"; [[ "$TLS_PORT" == 443 ]] || HOST_PORT="$URL_HOST:$TLS_PORT"

# --- working directory ---------------------------------------------------------------------------
DIR="$(mktemp -d "${TMPDIR:-/tmp}/collab-proxy.XXXXXX")"
NGINX_PID=""
cleanup() {
  if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
[[ "$DIR" =~ ^[A-Za-z0-9_./-]+$ ]] || die "temporary directory '$DIR' has characters nginx.conf cannot hold; set TMPDIR"
mkdir -p "$DIR/tmp"

WORKER_USER=""
if [[ "$(id -u)" == 0 ]]; then
  # nginx drops its workers to an unprivileged user; they only need to walk into $DIR/tmp
  # (nginx chowns the temp folders to them). The key stays readable by root (the master) alone.
  for u in www-data nobody; do
    if id "$u" >/dev/null 2>&1; then WORKER_USER="$u $(id -gn "$u")"; break; fi
  done
  chmod 711 "$DIR"
  if [[ -n "$WORKER_USER" ]] && command -v runuser >/dev/null 2>&1 \
     && ! runuser -u "${WORKER_USER%% *}" -- test -x "$DIR" 2>/dev/null; then
    say "warning: nginx workers (${WORKER_USER%% *}) cannot enter $DIR: large responses that need temp files will fail"
  fi
fi

if [[ -z "$CERT" ]]; then
  CERT="$DIR/cert.pem" KEY="$DIR/key.pem"
  san="DNS:localhost,IP:127.0.0.1,IP:::1"
  if [[ "$URL_HOST" =~ ^[0-9.]+$ && "$URL_HOST" != 127.0.0.1 ]]; then san="$san,IP:$URL_HOST"; fi
  ( umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
      -keyout "$KEY" -out "$CERT" -subj "/CN=localhost" \
      -addext "subjectAltName=$san" -addext "basicConstraints=critical,CA:FALSE" \
      -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=serverAuth" \
      2>"$DIR/openssl.log" ) || { cat "$DIR/openssl.log" >&2; die "openssl could not make a certificate"; }
  chmod 644 "$CERT"
fi

# --- render nginx/collab.conf --------------------------------------------------------------------
# Tagged lines of the production file are rewritten (see the tags in nginx/collab.conf).
render() {
  awk -v listen="$LISTEN" -v http_listen="$HTTP_LISTEN" -v upstreams="${UPSTREAMS[*]}" \
      -v cert="$CERT" -v key="$KEY" -v timeout="$READ_TIMEOUT" -v dir="$DIR" -v tls_port="$TLS_PORT" '
    function tag(line) { return match(line, /# render:[a-z-]+/) ? substr(line, RSTART + 9, RLENGTH - 9) : "" }
    function strip(line) { sub(/[ \t]*# render:.*$/, "", line); return line }
    {
      t = tag($0)
      if (t == "") { if (!skipping) print; next }
      seen[t] = 1
      line = strip($0)
      if (t == "http-begin") { if (http_listen == "") { skipping = 1; next } print line; next }
      if (t == "http-end") { if (skipping) { skipping = 0; next } print line; next }
      if (skipping || t == "drop") next
      if (t == "upstream") {
        if (upstream_done++) next
        n = split(upstreams, list, " ")
        for (i = 1; i <= n; i++) { l = line; sub(/server +[^ ;]+/, "server " list[i], l); print l }
        next
      }
      if (t == "listen-tls") sub(/listen +[^ ;]+/, "listen " listen, line)
      else if (t == "listen-http") sub(/listen +[^ ;]+/, "listen " http_listen, line)
      else if (t == "server-name") sub(/server_name +[^;]+/, "server_name localhost", line)
      else if (t == "access-log") sub(/access_log +[^ ;]+/, "access_log " dir "/access.log", line)
      else if (t == "cert") sub(/ssl_certificate +[^;]+/, "ssl_certificate " cert, line)
      else if (t == "key") sub(/ssl_certificate_key +[^;]+/, "ssl_certificate_key " key, line)
      else if (t == "read-timeout") sub(/proxy_read_timeout +[^;]+/, "proxy_read_timeout " timeout "s", line)
      else if (t == "redirect") { if (tls_port != "443") sub(/https:\/\/\$host/, "https://$host:" tls_port, line) }
      else { printf "unknown render tag %s\n", t > "/dev/stderr"; bad = 1 }
      print line
    }
    END {
      split("upstream listen-tls listen-http server-name access-log cert key read-timeout redirect drop http-begin http-end", need, " ")
      for (i in need) if (!seen[need[i]]) { printf "nginx/collab.conf lost its \"# render:%s\" tag\n", need[i] > "/dev/stderr"; bad = 1 }
      exit bad
    }' "$TEMPLATE"
}
render > "$DIR/collab.conf" || die "cannot render $TEMPLATE"
# cert/key paths come from --cert/--key too: they must not break the nginx syntax
for f in "$CERT" "$KEY"; do [[ "$f" =~ ^[A-Za-z0-9_./@+,=-]+$ ]] || die "certificate path '$f' needs quoting nginx.conf cannot hold"; done

{
  echo "# generated by nginx/proxy.sh from nginx/collab.conf; removed when nginx exits"
  [[ -z "$WORKER_USER" ]] || echo "user $WORKER_USER;"
  echo "worker_processes 1;"
  echo "pid $DIR/nginx.pid;"
  echo "error_log stderr warn;"
  echo "events { worker_connections 1024; }"
  echo "http {"
  echo "    default_type application/octet-stream;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "    ${t}_temp_path $DIR/tmp/$t;"; done
  echo "    include $DIR/collab.conf;"
  echo "}"
} > "$DIR/nginx.conf"

ARGS=(-p "$DIR/" -c "$DIR/nginx.conf")
if "$NGINX" -h 2>&1 | grep -q -- '-e filename'; then ARGS+=(-e stderr); fi
if ! "$NGINX" "${ARGS[@]}" -t -q; then
  say "nginx refused the rendered configuration $DIR/collab.conf:"
  cat -n "$DIR/collab.conf" >&2
  exit 1
fi

# --- run -----------------------------------------------------------------------------------------
# nginx runs as a child (not exec'd) so this script can remove $DIR when it stops; signals are
# passed on: TERM/INT stop it at once, QUIT gracefully, HUP reloads the configuration.
"$NGINX" "${ARGS[@]}" -g 'daemon off;' &
NGINX_PID=$!
forward() { kill "-$1" "$NGINX_PID" 2>/dev/null || true; }
trap 'forward TERM' TERM
trap 'forward INT' INT
trap 'forward QUIT' QUIT
trap 'forward HUP' HUP

# nginx writes its pid file only after it has bound every listen socket
for _ in $(seq 1 200); do
  [[ -s "$DIR/nginx.pid" ]] && break
  kill -0 "$NGINX_PID" 2>/dev/null || break
  sleep 0.05
done
if [[ -s "$DIR/nginx.pid" ]]; then
  upstream_list="${UPSTREAMS[*]}"
  say "nginx $("$NGINX" -v 2>&1 | sed 's|.*/||') in $DIR, $(basename "$TEMPLATE"), upstream ${upstream_list// /, }, read timeout ${READ_TIMEOUT}s"
  say "certificate $CERT (trust it: NODE_EXTRA_CA_CERTS=$CERT, curl --cacert $CERT)"
  [[ -z "$HTTP_LISTEN" ]] || say "http://${HTTP_LISTEN} redirects to https"
  say "pages     https://$HOST_PORT/"
  say "yjs       wss://$HOST_PORT/yjs/<document>"
  say "hocuspocus wss://$HOST_PORT/hocuspocus?document=<document>"
  say "json      wss://$HOST_PORT/ws/fabric?documentId=<document>&clientID=<id>"
  echo "collab proxy ready: wss://$HOST_PORT"
fi

status=0
while :; do
  wait "$NGINX_PID" && status=0 || status=$?
  # wait returns early (status > 128) when a trapped signal arrives; nginx may still be running
  kill -0 "$NGINX_PID" 2>/dev/null || break
done
NGINX_PID=""
exit "$status"
