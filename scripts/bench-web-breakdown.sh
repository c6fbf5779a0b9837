#!/usr/bin/env bash
# Splits what a client-mode /counter request costs over HTTP into steps, each the difference
# between two routes of one CookieSessions server measured in alternation (wrk -t 1 -c 32):
#
#   /plain without a cookie   Hummingbird's floor
#   /plain with the cookie    + receiving and parsing the 1.2 KB Cookie header (never opened)
#   /whoami with the cookie   + opening the session and reading one key (nothing is saved)
#   /counter with the cookie  + changing one key, sealing it and sending the 1.3 KB Set-Cookie
#
# The cookie holds the 1 KiB reference session (Tests/Fixtures/session_1k.json). The summary gives
# each route's median rate and the server's own CPU time per request (user + system, read from
# /proc before and after each run, divided by the requests served): time the hypervisor takes
# from this machine, which makes rates swing by half between runs here, is not in it.
#
#   bash scripts/bench-web-breakdown.sh [SECONDS_PER_ROUND] [ROUNDS]
#
# SERVER=PATH measures that build of CookieSessions instead of building the repository's.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-5}

source scripts/web-server.sh
server=$(server_binary)
COOKIE=$(sealed_cookie "$server")
export COOKIE
start_server "$server" --mode client

# Each step must do what its line above says, or the differences mean nothing.
whoami=$(curl -sS -D - -H "Cookie: $COOKIE" "$base/whoami")
grep -q '"user":null' <<< "$whoami" || { echo "/whoami did not answer: $whoami" >&2; exit 1; }
grep -qi '^vary: cookie' <<< "$whoami" || { echo "/whoami did not open the session" >&2; exit 1; }
! grep -qi '^set-cookie' <<< "$whoami" || { echo "/whoami saved the session" >&2; exit 1; }
counter=$(curl -sS -D - -H "Cookie: $COOKIE" "$base/counter")
grep -q '"count":1' <<< "$counter" || { echo "/counter did not read the session: $counter" >&2; exit 1; }
grep -qi '^set-cookie: session=' <<< "$counter" || { echo "/counter did not re-seal the session" >&2; exit 1; }
plain=$(curl -sS -D - -H "Cookie: $COOKIE" "$base/plain")
! grep -qi '^set-cookie\|^vary' <<< "$plain" || { echo "/plain touched the session" >&2; exit 1; }

# The server's CPU time so far, in clock ticks (user + system).
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# "RATE CPU_MICROSECONDS_PER_REQUEST" for one wrk run with these arguments.
rate() {
    local output before after
    before=$(ticks)
    output=$(checked_wrk -t 1 -c 32 -d "${seconds}s" "$@")
    after=$(ticks)
    awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" \
        '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {printf "%s:%.1f", r, ticks / hz * 1e6 / n}' <<< "$output"
}
wrk -t 1 -c 32 -d 2s -s Benchmarks/web/cookie.lua "$base/counter" > /dev/null # warm-up
steps=("/plain without a cookie" "/plain with the cookie" "/whoami with the cookie" "/counter with the cookie")
for round in $(seq 1 "$rounds"); do
    results=(
        "$(rate "$base/plain")"
        "$(rate -s Benchmarks/web/cookie.lua "$base/plain")"
        "$(rate -s Benchmarks/web/cookie.lua "$base/whoami")"
        "$(rate -s Benchmarks/web/cookie.lua "$base/counter")"
    )
    echo "${results[*]}" >> "$work/results"
    echo "round $round (req/s:server CPU µs per request): ${results[*]}"
done
python3 - "$work/results" "${steps[@]}" <<'PY'
import statistics, sys
rounds = [[tuple(float(x) for x in field.split(":")) for field in line.split()] for line in open(sys.argv[1])]
steps = sys.argv[2:]
print("| route | median req/s | ÷ /plain with the cookie | server CPU µs per request | step |")
print("|---|---|---|---|---|")
for index, step in enumerate(steps):
    rate = statistics.median(r[index][0] for r in rounds)
    ratio = "" if index == 0 else "%.1f%%" % (100 * statistics.median(r[index][0] / r[1][0] for r in rounds))
    cpu = statistics.median(r[index][1] for r in rounds)
    # A step's cost: the median over rounds of the difference within each round.
    delta = "" if index == 0 else "+%.1f µs" % statistics.median(r[index][1] - r[index - 1][1] for r in rounds)
    print("| %s | %.0f | %s | %.1f | %s |" % (step, rate, ratio, cpu, delta))
PY
