#!/usr/bin/env bash
# Measures the CookieSessions server with wrk: GET /plain (never touches the session) against
# GET /counter (opens the session, increments `count`, saves it), every request carrying the
# cookie of a session that holds the 1 KiB reference session (Tests/Fixtures/session_1k.json).
# The two routes are measured in alternation, ROUNDS times each, in one run per mode; the ratio
# of medians is the figure.
#
#   bash scripts/bench-web.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS] [MODE ...]
#
# MODE is one of
#   client         the sealed session is the cookie (the default mode)
#   server-memory  the cookie holds an id; sessions in the example's memory store
#   server-file    the cookie holds an id; sessions in the example's file store (fsync on)
#   all            the three, one after another
# SERVER=PATH measures that build of CookieSessions instead of building the repository's.
# In server modes the server first creates 1,000 sessions (`--preload`), and wrk sends their
# cookies in turn (Benchmarks/web/cookies.lua), so concurrent requests touch different sessions.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-10}
rounds=${2:-3}
connections=${3:-32}
shift $(($# < 3 ? $# : 3))
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(client)
[ "${modes[0]}" = all ] && modes=(client server-memory server-file)

source scripts/web-server.sh
server=$(server_binary)
session=Tests/Fixtures/session_1k.json

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

summary=()
for mode in "${modes[@]}"; do
    case "$mode" in
    client)
        COOKIE=$(sealed_cookie "$server")
        export COOKIE
        echo "== client mode: cookie of ${#COOKIE} bytes (the 1 KiB reference session, sealed)"
        script=Benchmarks/web/cookie.lua
        arguments=(--mode client)
        ;;
    server-memory | server-file)
        export COOKIE_FILE="$work/cookies-$mode"
        arguments=(--mode server --preload "$session" --preload-cookies "$COOKIE_FILE" --preload-count 1000)
        [ "$mode" = server-file ] && arguments+=(--store "$work/store")
        echo "== $mode: 1,000 sessions holding the 1 KiB reference session"
        script=Benchmarks/web/cookies.lua
        ;;
    *) echo "unknown mode $mode (client, server-memory, server-file, all)" >&2; exit 2 ;;
    esac
    start_server "$server" "${arguments[@]}"
    cookie=${COOKIE:-}
    [ "$mode" != client ] && cookie=$(head -1 "$COOKIE_FILE")

    # Check once that /counter really reads the session and saves it.
    check=$(curl -sS -D - -H "Cookie: $cookie" "$base/counter")
    echo "$check" | grep -q '"count":1' || { echo "counter did not read the session: $check" >&2; exit 1; }
    if [ "$mode" = client ]; then
        echo "$check" | grep -qi '^set-cookie: session=' || { echo "counter did not re-seal the session" >&2; exit 1; }
    else
        again=$(curl -sS -H "Cookie: $cookie" "$base/counter")
        [ "$again" = '{"count":2}' ] || { echo "the session did not keep its count: $again" >&2; exit 1; }
    fi

    run() {
        local output
        output=$(checked_wrk -t 1 -c "$connections" -d "${seconds}s" -s "$script" "$base$1")
        awk '/Requests\/sec/ {print $2}' <<< "$output"
    }
    wrk -t 1 -c "$connections" -d 2s -s "$script" "$base/plain" > /dev/null # warm-up
    plain=()
    counter=()
    for round in $(seq 1 "$rounds"); do
        plain+=("$(run /plain)")
        counter+=("$(run /counter)")
        echo "round $round: /plain ${plain[-1]} req/s, /counter ${counter[-1]} req/s"
    done
    p=$(median "${plain[@]}")
    c=$(median "${counter[@]}")
    summary+=("$(awk -v m="$mode" -v p="$p" -v c="$c" \
        'BEGIN { printf "%s: median /plain %.0f req/s, /counter %.0f req/s, ratio %.1f%%", m, p, c, 100 * c / p }')")
    echo "${summary[-1]}"
    stop_server
done
echo
printf '%s\n' "${summary[@]}"
