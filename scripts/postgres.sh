#!/usr/bin/env bash
# A throw-away PostgreSQL server on 127.0.0.1, for the PostgreSQL driver's tests.
#
#   bash scripts/postgres.sh start DIR      # initdb DIR (when new), start on a free port, print
#                                           # the environment the tests read
#   bash scripts/postgres.sh restart DIR    # stop as a crash would (immediate), start again, same port
#   bash scripts/postgres.sh stop DIR
#
# As root (CI), initdb and postgres refuse to run, so they run as the `postgres` user through
# runuser, on a directory that user owns. The server trusts local connections (user `postgres`,
# no password) and listens only on 127.0.0.1: it is for tests, never for data.
#
# A developer runs the tests against one with:
#   eval "$(bash scripts/postgres.sh start /tmp/sessions-pg)"
#   swift test --traits PostgreSQL --filter Postgres
#   bash scripts/postgres.sh stop /tmp/sessions-pg
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh

command=${1:?usage: postgres.sh start|restart|stop DIR}
dir=${2:?usage: postgres.sh start|restart|stop DIR}

ensure_packages postgresql
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local port
    if [ ! -f "$dir/PG_VERSION" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
        chmod 700 "$dir"
        as_owner "$bin/initdb" -D "$dir" -A trust -U postgres --no-sync > "$dir.initdb.log" 2>&1 ||
            { cat "$dir.initdb.log" >&2; exit 1; }
        free_port > "$dir/test-port"
    fi
    port=$(cat "$dir/test-port")
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start > /dev/null ||
        { tail -20 "$dir/server.log" >&2; exit 1; }
    echo "export SESSION_TEST_POSTGRES=127.0.0.1:$port"
    echo "export SESSION_TEST_POSTGRES_DATA=$dir"
}

stop() {
    local mode=$1
    [ -f "$dir/postmaster.pid" ] || return 0
    as_owner "$bin/pg_ctl" -D "$dir" -m "$mode" -w -t 60 stop > /dev/null
}

case "$command" in
start) start ;;
restart)
    stop immediate
    start > /dev/null
    ;;
stop) stop fast ;;
*)
    echo "usage: postgres.sh start|restart|stop DIR" >&2
    exit 2
    ;;
esac
