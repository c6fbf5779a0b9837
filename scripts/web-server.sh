# Sourced by the web benchmark scripts (bench-web.sh, bench-web-ab.sh, bench-web-breakdown.sh):
# a random key for the run, a scratch directory, CookieSessions servers started on a free port of
# 127.0.0.1 and stopped when the script ends, and wrk runs that fail on a failed request; it
# installs what they need (the libraries, wrk and curl) when missing.
source scripts/system-packages.sh
ensure_packages "${CORE_PACKAGES[@]}" wrk curl
export SESSION_KEYS="1:$(head -c 32 /dev/urandom | base64 -w0)"
work=$(mktemp -d)
pid=
base=
cleanup() {
    [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT

# start_server BINARY [ARGUMENT ...]: starts the server and sets pid and base
# (http://127.0.0.1:PORT). One that has not said where it listens within 30 s fails the run, with
# what it wrote to stderr.
start_server() {
    "$1" --port 0 --quiet "${@:2}" > "$work/out" 2> "$work/err" &
    pid=$!
    for _ in $(seq 1 300); do grep -q "listening on" "$work/out" && break; sleep 0.1; done
    base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" || true)
    if [ -z "$base" ]; then
        echo "$1 did not start listening within 30 s ($(kill -0 "$pid" 2>/dev/null && echo running || echo exited)):" >&2
        cat "$work/err" >&2
        exit 1
    fi
}

# stop_server: stops the server start_server started.
stop_server() {
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    pid=
}

# sealed_cookie BINARY: the Cookie header of a client-mode session holding the 1 KiB reference
# session (Tests/Fixtures/session_1k.json), sealed under SESSION_KEYS.
sealed_cookie() {
    "$1" --mode client --seal-session Tests/Fixtures/session_1k.json 2>/dev/null
}

# server_binary: the CookieSessions to measure: SERVER=PATH when set, else the repository's,
# built in release mode.
server_binary() {
    if [ -n "${SERVER:-}" ]; then
        echo "$SERVER"
        return
    fi
    swift build -c release --product CookieSessions 2>&1 | grep -E "error|Compiling CookieSessions|Build" >&2 || true
    echo .build/release/CookieSessions
}

# checked_wrk ARGUMENT ...: wrk's report of one run; a run with failed requests (non-2xx answers,
# socket errors) fails the script, with the report.
checked_wrk() {
    local output
    output=$(wrk "$@")
    if grep -q "Non-2xx\|Socket errors" <<< "$output"; then
        echo "wrk saw failed requests ($*):" >&2
        echo "$output" >&2
        exit 1
    fi
    echo "$output"
}
