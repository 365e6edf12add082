#!/bin/bash
# tests/run-tutorials.sh — run the tutorials as tests, so that what students read keeps working.
#
#   tests/run-tutorials.sh [-v] CHAPTER.md...         (`make tutorials`: tutorials/*.md)
#
# The convention for a chapter (also in docs/testing.md):
#
# - Every fenced block tagged ```sh is executed, in order, in ONE bash session per chapter, so a
#   variable set or a `cd` made in one block is still there in the next.
# - Each block runs with `set -e`: a failing command fails the chapter (its later blocks do not
#   run). A block tagged ```sh {expect-fail} must fail instead: exit 1..127 (>= 128 is a crash);
#   ```sh {expect-fail=N} wants exactly status N. Such a block runs in a subshell, so what it
#   sets or changes (variables, cd) does not reach the next block.
# - A block tagged ```expected directly after a sh block (only blank lines between) lists lines
#   that must each appear in that block's output (stdout and stderr together), in this order,
#   other lines may come in between. An expected line matches a whole output line (trailing
#   blanks ignored); `...` in it matches any text, e.g. `busybox   latest   ...   4 seconds ago`.
# - Other blocks (```text, ```console, ```json, ...) are shown to students and not run. Write an
#   interactive session (run -it) as ```console.
# - The session has: `layerbox` on PATH (it is $LAYERBOX); LAYERBOX_ROOT exported to a fresh
#   store root in a temp directory (not created yet: layerbox creates it); a fresh temp working
#   directory as the current directory; $FIXTURES (the built fixtures: images, tarballs);
#   stdin from /dev/null. Everything is removed afterwards unless LB_TEST_KEEP=1.
# - A chapter with no sh block fails (it would pass without testing anything), and so do an
#   unterminated fence, an expected block that follows no sh block, and an unknown {attribute}.
#
# Prints one line per chapter (ok, or FAIL with the block, its line and what went wrong, then
# the block's output indented) and finally `N passed, N failed`; exits 1 if any chapter failed.
# Environment: LAYERBOX (default build/layerbox), FIXTURES (default fixtures/out),
# LB_TUTORIAL_TIMEOUT (seconds per chapter, default 300), LB_TEST_KEEP=1.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi # the Makefile runs us with sh
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
verbose=0
chapters=()
for arg in "$@"; do
    case "$arg" in
    -v | --verbose) verbose=1 ;;
    -h | --help)
        sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "run-tutorials.sh: unknown option '$arg'" >&2
        exit 2
        ;;
    *) chapters+=("$arg") ;;
    esac
done

LAYERBOX=${LAYERBOX:-$REPO/build/layerbox}
case "$LAYERBOX" in /*) ;; *) LAYERBOX=$PWD/$LAYERBOX ;; esac
if [ ! -x "$LAYERBOX" ] || [ -d "$LAYERBOX" ]; then
    echo "run-tutorials.sh: LAYERBOX='$LAYERBOX' is not an executable (run 'make')" >&2
    exit 2
fi
FIXTURES=${FIXTURES:-$REPO/fixtures/out}
case "$FIXTURES" in /*) ;; *) FIXTURES=$PWD/$FIXTURES ;; esac
timeout_s=${LB_TUTORIAL_TIMEOUT:-300}

if [ ${#chapters[@]} -eq 0 ]; then
    echo "run-tutorials.sh: no chapter given" >&2
    echo "0 passed, 0 failed"
    exit 1
fi

# --- parsing ------------------------------------------------------------------------------

# parse_chapter FILE DIR: split FILE's sh blocks into DIR/N.sh (N = 1, 2, ...), with
# DIR/N.line (line of the opening fence), DIR/N.expect_fail ("" / "any" / a status) and
# DIR/N.expected when an expected block follows. On a malformed chapter prints the reason on
# stdout and returns 1.
parse_chapter() {
    local file=$1 dir=$2
    local lineno=0 line in_fence=0 fence="" indent=0 open_line=0 kind="" target=""
    local info lang attrs n=0
    # "sh" right after an sh block closed with only blank lines since; else "".
    local can_expect=""
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line=${line%$'\r'}
        if [ $in_fence -eq 0 ]; then
            if [[ $line =~ ^([[:space:]]*)(\`\`\`+)[[:space:]]*([^\`]*)$ ]]; then
                indent=${#BASH_REMATCH[1]}
                fence=${BASH_REMATCH[2]}
                info=${BASH_REMATCH[3]}
                info=${info%"${info##*[![:space:]]}"}
                lang=${info%%[[:space:]\{]*}
                attrs=""
                if [[ $info == *"{"* ]]; then
                    attrs=${info#*\{}
                    if [[ $attrs != *"}" ]]; then
                        echo "line $lineno: malformed attributes in '$info' (want {expect-fail})"
                        return 1
                    fi
                    attrs=${attrs%\}}
                    attrs=${attrs//[[:space:]]/}
                fi
                in_fence=1
                open_line=$lineno
                case "$lang" in
                sh)
                    n=$((n + 1))
                    kind="sh"
                    target=$dir/$n.sh
                    : >"$target"
                    echo "$lineno" >"$dir/$n.line"
                    case "$attrs" in
                    "") echo "" >"$dir/$n.expect_fail" ;;
                    expect-fail) echo "any" >"$dir/$n.expect_fail" ;;
                    expect-fail=[0-9]*)
                        local want=${attrs#expect-fail=}
                        if ! [[ $want =~ ^[0-9]+$ ]] || [ "$want" -lt 1 ] || [ "$want" -gt 255 ]; then
                            echo "line $lineno: {$attrs}: want a status from 1 to 255"
                            return 1
                        fi
                        echo "$want" >"$dir/$n.expect_fail"
                        ;;
                    *)
                        echo "line $lineno: unknown attribute {$attrs} on a sh block (known: {expect-fail}, {expect-fail=N})"
                        return 1
                        ;;
                    esac
                    ;;
                expected)
                    if [ -z "$can_expect" ] || [ $n -eq 0 ]; then
                        echo "line $lineno: an expected block must directly follow a sh block"
                        return 1
                    fi
                    kind=expected
                    target=$dir/$n.expected
                    : >"$target"
                    ;;
                *)
                    if [ "$lang" = bash ] || [ "$lang" = shell ]; then
                        echo "run-tutorials.sh: $file:$lineno: a \`\`\`$lang block is not run (tag it \`\`\`sh to run it)" >&2
                    fi
                    kind=other
                    target=/dev/null
                    ;;
                esac
                can_expect=""
            elif [[ $line == *[![:space:]]* ]]; then
                can_expect=""
            fi
        else
            if [[ $line =~ ^[[:space:]]*(\`\`\`+)[[:space:]]*$ ]] && [ ${#BASH_REMATCH[1]} -ge ${#fence} ]; then
                in_fence=0
                [ "$kind" = sh ] && can_expect="sh"
                continue
            fi
            # Drop the fence's own indentation (a block inside a list item).
            local i=0
            while [ $i -lt "$indent" ] && [ "${line:0:1}" = " " ]; do
                line=${line:1}
                i=$((i + 1))
            done
            printf '%s\n' "$line" >>"$target"
        fi
    done <"$file"
    if [ $in_fence -eq 1 ]; then
        echo "line $open_line: unterminated code fence"
        return 1
    fi
    if [ $n -eq 0 ]; then
        echo "no \`\`\`sh block: a chapter must run something"
        return 1
    fi
    local k
    for ((k = 1; k <= n; k++)); do
        if [ -f "$dir/$k.expected" ] && ! grep -q '[^[:space:]]' "$dir/$k.expected"; then
            echo "line $(cat "$dir/$k.line"): the expected block after this sh block is empty"
            return 1
        fi
    done
}

# --- matching expected lines --------------------------------------------------------------

# check_expected EXPECTED OUTPUT: every non-blank line of EXPECTED matches a line of OUTPUT, in
# order; `...` matches any text. Prints the first line not found and returns 1.
check_expected() {
    LC_ALL=C awk '
        function rtrim(s) { sub(/[ \t\r]+$/, "", s); return s }
        function matches(line, pat,    n, p, i, pos, j, rest) {
            n = split(pat, p, /\.\.\./)
            if (n == 1) return line == pat
            if (substr(line, 1, length(p[1])) != p[1]) return 0
            pos = length(p[1]) + 1
            for (i = 2; i < n; i++) {
                j = index(substr(line, pos), p[i])
                if (j == 0) return 0
                pos += j - 1 + length(p[i])
            }
            rest = substr(line, pos)
            return length(rest) >= length(p[n]) && \
                   substr(rest, length(rest) - length(p[n]) + 1) == p[n]
        }
        FILENAME == ARGV[1] { if ($0 ~ /[^ \t\r]/) want[++nw] = rtrim($0); next }
        { out[++no] = rtrim($0) }
        END {
            o = 1
            for (w = 1; w <= nw; w++) {
                while (o <= no && !matches(out[o], want[w])) o++
                if (o > no) { print want[w]; exit 1 }
                o++
            }
        }' "$1" "$2"
}

# --- running a chapter --------------------------------------------------------------------

unmount_under() {
    local dir=$1 mp rest i
    local -a mounts=()
    while read -r _ _ _ _ mp rest; do
        mp=$(printf '%b' "$mp")
        case "$mp" in "$dir" | "$dir"/*) mounts+=("$mp") ;; esac
    done </proc/self/mountinfo
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
    done
}

show_output() {
    local file=$1 max=40 n
    [ -s "$file" ] || {
        echo "    | (no output)"
        return
    }
    n=$(wc -l <"$file")
    if [ "$n" -gt $max ]; then
        echo "    | ... ($((n - max)) earlier lines)"
    fi
    tail -n $max "$file" | sed 's/^/    | /'
}

# run_chapter FILE: prints the verdict line (and details); returns 1 if the chapter failed.
run_chapter() {
    local file=$1 tmp
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/lb-tutorial.XXXXXX") || return 1
    mkdir -p "$tmp/blocks" "$tmp/out" "$tmp/bin" "$tmp/work" "$tmp/state"
    local verdict="" detail_file="" problem
    if [ ! -r "$file" ]; then
        verdict="cannot read the file"
    elif ! problem=$(parse_chapter "$file" "$tmp/blocks"); then
        verdict=$problem
    fi
    # parse_chapter ran in a subshell (for its message): count the blocks again.
    local n=0
    while [ -f "$tmp/blocks/$((n + 1)).sh" ]; do n=$((n + 1)); done

    if [ -z "$verdict" ]; then
        ln -s "$LAYERBOX" "$tmp/bin/layerbox"
        # The session script: blocks in order, each one's output in out/N.
        local s=$tmp/session.sh k
        # A failing command under `set -e` ends the session: state/current then names the block.
        {
            printf 'cd %q || exit 1\nset +e\n' "$tmp/work"
            for ((k = 1; k <= n; k++)); do
                printf 'echo %d >%q\n' "$k" "$tmp/state/current"
                if [ -n "$(cat "$tmp/blocks/$k.expect_fail")" ]; then
                    printf '( set -e; . %q ) >%q 2>&1\n' "$tmp/blocks/$k.sh" "$tmp/out/$k"
                    printf 'echo $? >%q\n' "$tmp/state/$k.rc"
                else
                    printf 'set -e\n{ . %q; } >%q 2>&1\nset +e\n' "$tmp/blocks/$k.sh" "$tmp/out/$k"
                    printf 'echo 0 >%q\n' "$tmp/state/$k.rc"
                fi
            done
            printf 'echo done >%q\nexit 0\n' "$tmp/state/current"
        } >"$s"
        local rc
        (
            export PATH="$tmp/bin:$PATH" LAYERBOX_ROOT="$tmp/root" FIXTURES
            unset LAYERBOX_EXPLAIN
            exec timeout -k 10 "$timeout_s" bash --norc --noprofile "$s" </dev/null >"$tmp/session.out" 2>&1
        )
        rc=$?
        local current
        current=$(cat "$tmp/state/current" 2>/dev/null || echo 1)

        for ((k = 1; k <= n; k++)); do
            local where want_fail brc
            where="block $k (line $(cat "$tmp/blocks/$k.line"))"
            want_fail=$(cat "$tmp/blocks/$k.expect_fail")
            if [ ! -f "$tmp/state/$k.rc" ]; then
                # The session stopped in this block.
                detail_file=$tmp/out/$k
                if [ "$current" = "$k" ] && [ $rc -eq 124 ]; then
                    verdict="$where: timed out (${timeout_s}s for the chapter)"
                elif [ "$current" = "$k" ] && [ $rc -gt 128 ]; then
                    verdict="$where: a command failed (exit $rc, SIG$(kill -l $((rc - 128)) 2>/dev/null || echo "?"))"
                elif [ "$current" = "$k" ] && [ $rc -ne 0 ]; then
                    verdict="$where: a command failed (exit $rc)"
                else
                    verdict="$where: the session ended here (exit $rc; an 'exit' in the block?)"
                fi
                [ -s "$tmp/session.out" ] && cat "$tmp/session.out" >>"$detail_file"
                break
            fi
            brc=$(cat "$tmp/state/$k.rc")
            if [ "$want_fail" = any ] && { [ "$brc" -eq 0 ] || [ "$brc" -ge 128 ]; }; then
                if [ "$brc" -eq 0 ]; then
                    verdict="$where: tagged expect-fail but succeeded"
                else
                    verdict="$where: tagged expect-fail and died with status $brc (a crash?)"
                fi
                detail_file=$tmp/out/$k
                break
            fi
            if [ -n "$want_fail" ] && [ "$want_fail" != any ] && [ "$brc" -ne "$want_fail" ]; then
                verdict="$where: tagged expect-fail=$want_fail but exited $brc"
                detail_file=$tmp/out/$k
                break
            fi
            if [ -f "$tmp/blocks/$k.expected" ]; then
                local missing
                if ! missing=$(check_expected "$tmp/blocks/$k.expected" "$tmp/out/$k"); then
                    verdict="$where: missing expected line '$missing'"
                    detail_file=$tmp/out/$k
                    break
                fi
            fi
        done
        if [ -z "$verdict" ] && [ "$current" != "done" ]; then
            verdict="the session did not finish (exit $rc)"
            detail_file=$tmp/session.out
        fi
    fi

    local status=0
    if [ -z "$verdict" ]; then
        echo "ok   $file ($n sh blocks)"
    else
        echo "FAIL $file: $verdict"
        [ -n "$detail_file" ] && show_output "$detail_file"
        status=1
    fi
    if [ $verbose -eq 1 ]; then
        for ((k = 1; k <= n; k++)); do
            [ -f "$tmp/out/$k" ] || continue
            echo "  --- block $k output ---"
            sed 's/^/    /' "$tmp/out/$k"
        done
    fi
    if [ "${LB_TEST_KEEP:-}" = 1 ]; then
        echo "    (LB_TEST_KEEP=1: kept $tmp)"
    else
        unmount_under "$tmp"
        rm -rf --one-file-system "$tmp" 2>/dev/null || {
            chmod -R u+rwX "$tmp" 2>/dev/null
            rm -rf --one-file-system "$tmp" || echo "run-tutorials.sh: cannot remove $tmp" >&2
        }
    fi
    return $status
}

passed=0
failed=0
for chapter in "${chapters[@]}"; do
    if run_chapter "$chapter"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
