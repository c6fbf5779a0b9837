#!/usr/bin/env bash
# The main job: builds and runs the demos of encrypted session pipelines, installing the system
# packages they need when they are missing.
#
#   bash scripts/demo.sh
#
# 1. FileSessions: an encrypted, compressed pipeline over files, step by step.
# 2. CookieSessions: a Hummingbird server keeping encrypted sessions in the client's cookie, driven
#    over HTTP with curl (counter, login, flash, a tampered cookie, logout); the server then stops.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh
ensure_packages "${CORE_PACKAGES[@]}" curl

swift build --product FileSessions
swift build --product CookieSessions
echo
echo "=== FileSessions: an encrypted session pipeline over files"
.build/debug/FileSessions "$@"

echo
echo "=== CookieSessions: encrypted client-cookie sessions over HTTP"
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
.build/debug/CookieSessions --port 0 --mode client > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$work/server.out" 2>/dev/null && break
    sleep 0.1
done
sed 's/^/server: /' "$work/server.err" "$work/server.out"
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server.out")
jar="$work/jar"

# One request with the cookie jar: prints the request, the JSON body and a summary of Set-Cookie.
request() {
    local method=$1 path=$2
    local headers="$work/headers"
    local body
    body=$(curl -sS -X "$method" -b "$jar" -c "$jar" -D "$headers" "$base$path")
    printf '%-6s %-28s -> %s\n' "$method" "$path" "$body"
    { grep -i '^set-cookie:' "$headers" || true; } | tr -d '\r' | while read -r _ cookie; do
        local name=${cookie%%=*} rest=${cookie#*=}
        local value=${rest%%;*}
        printf '         Set-Cookie: %s=<%d bytes sealed>%s\n' "$name" "${#value}" "${rest#"$value"}"
    done
}

request GET /counter
request GET /counter
request GET /counter
request GET /plain
request POST "/login?user=alice"
request GET /whoami
request POST "/flash?message=Saved"
request GET /flash
request GET /flash

echo "-- flipping one character of the sealed cookie: the server starts a fresh session, no error"
python3 - "$jar" <<'PY' 2>/dev/null || sed -i -E 's/(\tsession\t.{20})./\1x/' "$jar"
import sys
path = sys.argv[1]
lines = open(path).read().split("\n")
for i, line in enumerate(lines):
    fields = line.split("\t")
    if len(fields) == 7 and fields[5] == "session":
        value = fields[6]
        middle = len(value) // 2
        fields[6] = value[:middle] + ("x" if value[middle] != "x" else "y") + value[middle + 1:]
        lines[i] = "\t".join(fields)
open(path, "w").write("\n".join(lines))
PY
request GET /counter
request POST /logout
request GET /whoami
echo "-- the server logged why it ignored the tampered cookie (never the cookie itself):"
grep -h "session cookie ignored" "$work/server.out" "$work/server.err" | sed 's/^/server: /' || true
echo
echo "Start the server yourself: swift run CookieSessions --port 8080 --mode client   (or server, hybrid)"
echo "and open http://127.0.0.1:8080/"
