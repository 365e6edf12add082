#!/bin/bash
# tests/run-unit.sh — run cmocka unit-test binaries and add up their results.
#
#   tests/run-unit.sh [--valgrind] BIN...      (`make unit`, `make memcheck`)
#
# Prints one line per binary, then exactly one line `N passed, N failed` where N counts cmocka
# tests (from cmocka's "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)" lines). Exits 1
# if any test failed, a binary crashed, timed out, ran no test at all, or (with --valgrind)
# valgrind reported an error or a leak. Such a binary-level failure that no cmocka line counts
# (abort, valgrind error, no test run) counts as one failed. A failing binary's output is
# shown, indented.
#
# Environment: LB_UNIT_TIMEOUT (seconds per binary, default 300; 900 under valgrind),
# LB_TEST_KEEP=1 keeps the logs directory.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi # the Makefile runs us with sh
set -uo pipefail

usage() {
    echo "usage: $0 [--valgrind] BIN..." >&2
    exit 2
}

valgrind=0
bins=()
for arg in "$@"; do
    case "$arg" in
    --valgrind) valgrind=1 ;;
    -h | --help) usage ;;
    -*) echo "run-unit.sh: unknown option '$arg'" >&2 && usage ;;
    *) bins+=("$arg") ;;
    esac
done
if [ ${#bins[@]} -eq 0 ]; then
    echo "run-unit.sh: no test binaries given (is there a tests/unit/test_*.c?)" >&2
    echo "0 passed, 0 failed"
    exit 1
fi

# shellcheck disable=SC2054 # the commas are valgrind's
VALGRIND=(valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --track-fds=no
    --child-silent-after-fork=yes)
# --child-silent-after-fork: a test that forks would otherwise get the parent's whole heap
# reported as lost when the child exits; children that exec are not traced at all.
if [ $valgrind -eq 1 ]; then
    timeout_s=${LB_UNIT_TIMEOUT:-900}
    if ! command -v valgrind >/dev/null 2>&1; then
        echo "run-unit.sh: valgrind not found (make deps)" >&2
        exit 1
    fi
else
    timeout_s=${LB_UNIT_TIMEOUT:-300}
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/lb-unit.XXXXXX") || exit 1
cleanup() {
    if [ "${LB_TEST_KEEP:-}" = 1 ]; then
        echo "run-unit.sh: logs kept in $logdir" >&2
    else
        rm -rf "$logdir"
    fi
}
trap cleanup EXIT

# Show a failing binary's output, indented, without drowning the summary.
show_log() {
    local file=$1 max=60 n
    n=$(wc -l <"$file")
    if [ "$n" -gt $max ]; then
        echo "    | ... ($((n - max)) earlier lines; LB_TEST_KEEP=1 keeps $file)"
    fi
    tail -n $max "$file" | sed 's/^/    | /'
}

signal_name() {
    local n=$(($1 - 128)) name
    name=$(kill -l "$n" 2>/dev/null) || name="?"
    echo "signal $n, SIG$name"
}

total_pass=0
total_fail=0
bad_bins=0
for bin in "${bins[@]}"; do
    name=$(basename "$bin")
    log="$logdir/$name.log"
    vglog="$logdir/$name.valgrind"
    if [ ! -x "$bin" ]; then
        printf 'FAIL %-28s not an executable file: %s\n' "$name" "$bin"
        total_fail=$((total_fail + 1))
        bad_bins=$((bad_bins + 1))
        continue
    fi
    cmd=("$bin")
    if [ $valgrind -eq 1 ]; then
        cmd=("${VALGRIND[@]}" "--log-file=$vglog" "$bin")
    fi
    start=$SECONDS
    # CMOCKA_MESSAGE_OUTPUT=stdout: the summary lines we parse (not TAP, XML or subunit).
    # The outer 2>/dev/null silences bash's own "Aborted (core dumped)" job report.
    { CMOCKA_MESSAGE_OUTPUT=stdout timeout -k 10 "$timeout_s" "${cmd[@]}" </dev/null >"$log" 2>&1; } 2>/dev/null
    rc=$?
    secs=$((SECONDS - start))

    # cmocka: "[  PASSED  ] 3 test(s)." and, when some failed, "[  FAILED  ] 1 test(s), listed..."
    pass=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | tail -n 1)
    fail=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
    running=$(sed -n 's/^\[==========\] .*Running \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | tail -n 1)
    oks=$(grep -c '^\[       OK \]' "$log")
    pass=${pass:-}
    fail=${fail:-0}

    problem=""
    if [ -z "$pass" ]; then
        # No summary: the binary died in the middle (abort, timeout, exit) or is not cmocka.
        pass=$oks
        if [ -n "$running" ] && [ "$running" -gt "$oks" ]; then
            fail=$((running - oks))
        else
            fail=1
        fi
        if [ $rc -eq 124 ]; then
            problem="timed out after ${timeout_s}s"
        elif [ $rc -gt 128 ]; then
            problem="crashed ($(signal_name $rc)) after $oks test(s) passed"
        elif [ -z "$running" ]; then
            problem="no cmocka output (exit $rc)"
        else
            problem="stopped without a summary (exit $rc)"
        fi
    elif [ "$fail" -gt 0 ]; then
        problem="$fail test(s) failed"
    elif [ "$pass" -eq 0 ]; then
        problem="ran no test"
        fail=1
    elif [ $rc -eq 99 ] && [ $valgrind -eq 1 ]; then
        : # reported below from the valgrind log
    elif [ $rc -ne 0 ]; then
        problem="all tests passed but the binary exited $rc"
        fail=1
    fi

    vg_problem=""
    if [ $valgrind -eq 1 ]; then
        # valgrind writes one log per process (--log-file); a missing one means it never ran.
        errors=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9][0-9]*\) errors.*/\1/p' "$vglog" 2>/dev/null | tail -n 1)
        if [ -z "$errors" ]; then
            vg_problem="no valgrind summary"
        elif [ "$errors" -gt 0 ] || [ $rc -eq 99 ]; then
            vg_problem="valgrind: $errors error(s)/leak(s)"
        fi
        if [ -n "$vg_problem" ]; then
            # Memory errors fail the binary even when every cmocka assertion passed.
            [ "$fail" -eq 0 ] && fail=1
            problem="${problem:+$problem; }$vg_problem"
        fi
    fi

    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    if [ -z "$problem" ]; then
        printf 'ok   %-28s %3d passed (%ds)\n' "$name" "$pass" "$secs"
    else
        bad_bins=$((bad_bins + 1))
        printf 'FAIL %-28s %3d passed, %d failed: %s (%ds)\n' "$name" "$pass" "$fail" "$problem" "$secs"
        show_log "$log"
        if [ -n "$vg_problem" ] && [ -f "$vglog" ]; then
            echo "    | --- valgrind ---"
            # The interesting part of a valgrind log: errors and leak records, not the banner.
            grep -v -E '^==[0-9]+== (Memcheck|Copyright|Using Valgrind|Command:|Parent PID:|$)' \
                "$vglog" >"$vglog.short"
            show_log "$vglog.short"
        fi
    fi
done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$bad_bins" -eq 0 ]
