#!/usr/bin/env bash
# Measures the CookieSessions server with wrk: GET /plain (never touches the session) against
# GET /counter in client mode, every request carrying a cookie that holds the 1 KiB reference
# session (Tests/Fixtures/session_1k.json) and getting a re-sealed one back. The two routes are
# measured in alternation, ROUNDS times each, in one run; the ratio of medians is the figure.
#
#   bash scripts/bench-web.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh
ensure_packages "${CORE_PACKAGES[@]}" wrk

seconds=${1:-10}
rounds=${2:-3}
connections=${3:-32}

swift build -c release --product CookieSessions 2>&1 | grep -E "error|Compiling CookieSessions|Build" || true
server=.build/release/CookieSessions

export SESSION_KEYS="1:$(head -c 32 /dev/urandom | base64 -w0)"
COOKIE=$("$server" --mode client --seal-session Tests/Fixtures/session_1k.json 2>/dev/null)
export COOKIE
echo "cookie: ${#COOKIE} bytes (the 1 KiB reference session, sealed)"

work=$(mktemp -d)
"$server" --port 0 --mode client --quiet > "$work/out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$work/out" && break; sleep 0.1; done
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out")

# Check once that /counter really opens the cookie and re-seals it.
check=$(curl -sS -D - -H "Cookie: $COOKIE" "$base/counter")
echo "$check" | grep -q '"count":1' || { echo "counter did not read the session: $check" >&2; exit 1; }
echo "$check" | grep -qi '^set-cookie: session=' || { echo "counter did not re-seal the session" >&2; exit 1; }

run() {
    local output
    output=$(wrk -t 1 -c "$connections" -d "${seconds}s" -s Benchmarks/web/cookie.lua "$base$1")
    if grep -q "Non-2xx\|Socket errors" <<< "$output"; then
        echo "wrk saw failed requests on $1:" >&2
        echo "$output" >&2
        exit 1
    fi
    awk '/Requests\/sec/ {print $2}' <<< "$output"
}
wrk -t 1 -c "$connections" -d 2s -s Benchmarks/web/cookie.lua "$base/plain" > /dev/null   # warm-up
plain=()
counter=()
for round in $(seq 1 "$rounds"); do
    plain+=("$(run /plain)")
    counter+=("$(run /counter)")
    echo "round $round: /plain ${plain[-1]} req/s, /counter ${counter[-1]} req/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
p=$(median "${plain[@]}")
c=$(median "${counter[@]}")
awk -v p="$p" -v c="$c" 'BEGIN { printf "median: /plain %.0f req/s, /counter %.0f req/s, ratio %.1f%%\n", p, c, 100 * c / p }'
