#!/usr/bin/env bash
# run.sh - runs each libFuzzer harness of tests/fuzz for a while (make fuzz):
# on a copy of its seed corpus under OUTDIR, never on tests/fuzz/corpus
# itself; fails if any harness finds a crash, leak, hang or broken
# invariant, and prints per harness executions, exec/s, cov, ft and the
# size of the corpus it ends with.
#
#   tests/fuzz/run.sh BUILDDIR [SECONDS [JOBS [OUTDIR [HARNESS...]]]]
#
# BUILDDIR: a tree configured with -DKX_FUZZ=ON and built (target
# fuzzers). SECONDS per harness (default 60); JOBS harnesses at once
# (default 1); OUTDIR (default BUILDDIR/fuzz-run, emptied first) gets
# per harness corpus/, artifacts/ (what it found) and log. A found input
# replays with: BUILDDIR/tests/fuzz/fuzz_H OUTDIR/H/artifacts/crash-...
set -euo pipefail

build=${1:?usage: run.sh BUILDDIR [SECONDS [JOBS [OUTDIR [HARNESS...]]]]}
secs=${2:-60}
jobs=${3:-1}
out=${4:-$build/fuzz-run}
shift $(( $# < 4 ? $# : 4 ))
src=$(cd "$(dirname "$0")" && pwd)
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(record body params weights taxo)
case $secs$jobs in *[!0-9]*) echo "run.sh: SECONDS and JOBS are whole numbers" >&2; exit 2;; esac

for h in "${harnesses[@]}"; do
    [ -x "$build/tests/fuzz/fuzz_$h" ] || {
        echo "run.sh: no $build/tests/fuzz/fuzz_$h (build the target fuzzers)" >&2
        exit 2
    }
done
# OUTDIR is emptied: only ever a directory (or nothing), never a file or a
# device that a mistyped argument names.
if [ -e "$out" ] && { [ ! -d "$out" ] || [ -L "$out" ]; }; then
    echo "run.sh: OUTDIR $out exists and is not a directory" >&2
    exit 2
fi
case $(cd "$(dirname "$out")" 2>/dev/null && pwd)/$(basename "$out") in
    /|/dev|/dev/*|/proc|/proc/*|/sys|/sys/*)
        echo "run.sh: OUTDIR $out is a system folder" >&2; exit 2;;
esac
rm -rf "$out"
mkdir -p "$out"

run_one() {
    local h=$1 d=$out/$1 dict=()
    mkdir -p "$d/corpus" "$d/artifacts"
    cp -R "$src/corpus/$h/." "$d/corpus/"
    [ -f "$src/$h.dict" ] && dict=(-dict="$src/$h.dict")
    # -timeout: an input that takes 10 s is a hang; 2 GB is an out of
    # memory. The fuzzer stops at the first crash and exits non-zero.
    set +e
    TMPDIR=$d "$build/tests/fuzz/fuzz_$h" -max_total_time="$secs" \
        -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$d/artifacts/" "${dict[@]}" "$d/corpus" \
        >"$d/log" 2>&1
    echo $? >"$d/rc"
    set -e
}

echo "fuzzing ${harnesses[*]}: ${secs} s each, $jobs at a time, in $out"
running=0
for h in "${harnesses[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$h" &
    running=$((running + 1))
done
wait

fail=0
printf '%-8s %12s %8s %7s %7s %7s %9s  %s\n' harness executions exec/s cov ft \
    corpus bytes result
for h in "${harnesses[@]}"; do
    d=$out/$h
    rc=$(cat "$d/rc" 2>/dev/null || echo 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log" | tail -1)
    # the last status line: "#N DONE cov: C ft: F corp: ..." (or the
    # last progress line if the run stopped early)
    last=$(grep -E '^#[0-9]+' "$d/log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    ncorp=$(find "$d/corpus" -type f | wc -l)
    bytes=$(du -sb "$d/corpus" | cut -f1)
    found=$(find "$d/artifacts" -type f | wc -l)
    result=ok
    if [ "$rc" != 0 ] || [ "$found" != 0 ]; then
        result="FAILED (exit $rc; $found input(s) in $d/artifacts)"
        fail=1
    fi
    printf '%-8s %12s %8s %7s %7s %7s %9s  %s\n' "$h" "${execs:-?}" \
        "${rate:-?}" "${cov:-?}" "${ft:-?}" "$ncorp" "$bytes" "$result"
done
if [ "$fail" != 0 ]; then
    for h in "${harnesses[@]}"; do
        d=$out/$h
        [ "$(cat "$d/rc" 2>/dev/null || echo 1)" = 0 ] && continue
        echo "---- $h: the end of $d/log"
        grep -v -E '^#[0-9]+|^INFO:|^\s*$' "$d/log" | tail -40
        for a in "$d"/artifacts/*; do
            [ -f "$a" ] && echo "replay: $build/tests/fuzz/fuzz_$h $a"
        done
    done
    exit 1
fi
