#!/usr/bin/env bash
# Runs one libFuzzer target for a while.
#
#   bash scripts/fuzz.sh --list            names the targets
#   bash scripts/fuzz.sh NAME SECONDS      builds NAME with -sanitize=fuzzer,address and runs it
#
# Every target lives in one product, SessionFuzz, built into .build-fuzz; SESSION_FUZZ_TARGET
# chooses the target at run time, so one instrumented build serves them all. The run starts from the committed
# seed corpus (Fuzz/Corpus/NAME, made from the known-answer vectors) and keeps what it finds in
# .build-fuzz/corpus/NAME; a crash is written to fuzz-artifacts/ and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(json binary plist-binary plist-xml)
product=SessionFuzz

if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "${targets[@]}"
    exit 0
fi
if [ $# -ne 2 ] || [[ " ${targets[*]} " != *" $1 "* ]]; then
    echo "usage: scripts/fuzz.sh --list | NAME SECONDS  (NAME: ${targets[*]})" >&2
    exit 2
fi
name=$1
seconds=$2

source scripts/system-packages.sh
ensure_packages "${CORE_PACKAGES[@]}"

build() {
    # The sanitizers go to the compiler as one flag. Given as two (`--sanitize=fuzzer
    # --sanitize=address`), the compiler driver keeps only the last, and SwiftPM orders them
    # differently from run to run: each build then recompiled everything, with either coverage or
    # AddressSanitizer but never both. `--sanitize=fuzzer` alone makes SwiftPM build the
    # executable for libFuzzer's `main`. Whole-module optimization (on in release builds) is
    # turned off: under it swiftc drops the fuzzer's coverage instrumentation.
    swift build -c release --product "$product" --scratch-path .build-fuzz --sanitize=fuzzer \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -no-whole-module-optimization 2>&1 |
        grep -vE '^\[[0-9]+/[0-9]+\]' || true
}
instrumented() {
    # (Not `readelf | grep -q`: under pipefail, grep -q closing the pipe early fails the check.)
    local sections symbols
    [ -x "$binary" ] || return 1
    sections=$(readelf -S "$binary" 2>/dev/null) && [[ "$sections" == *__sancov_cntrs* ]] || return 1
    symbols=$(nm "$binary" 2>/dev/null) && [[ "$symbols" == *__asan_report_load* ]]
}
binary=.build-fuzz/release/$product
build
# A harness without coverage feedback would only pretend to fuzz, and one without AddressSanitizer
# would miss memory errors: check that the binary carries libFuzzer's counters and ASan's checks.
instrumented || { echo "build of $product failed or lacks coverage or AddressSanitizer instrumentation" >&2; exit 1; }

corpus=.build-fuzz/corpus/$name
mkdir -p "$corpus" fuzz-artifacts
echo "== fuzzing $name for ${seconds}s"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
SESSION_FUZZ_TARGET=$name SWIFT_BACKTRACE=enable=no "$binary" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="fuzz-artifacts/$name-" "$corpus" "Fuzz/Corpus/$name" 2>&1 | tee "$log" || status=$?
[ "$status" -eq 0 ] || exit "$status"
# libFuzzer reports covered edges as "cov: N"; without them the target never reached the decoder.
grep -q ' cov: ' "$log" || { echo "the $name run reported no coverage: the harness is not fuzzing" >&2; exit 1; }
