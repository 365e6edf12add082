# tests/integration/helpers.bash — what every layerbox CLI test (bats) loads with `load helpers`.
#
# Each test gets its own store and scratch directory, both removed afterwards unless
# LB_TEST_KEEP=1:
#   $LB_ROOT   the test's store root (not created: layerbox creates it on first use, as it does
#              /var/lib/layerbox); also exported as LAYERBOX_ROOT so a bare "$LAYERBOX" call can
#              never touch the real store
#   $LB_TMP    an empty scratch directory (created)
# and these helpers:
#   lb ARGS...                      "$LAYERBOX" --root "$LB_ROOT" ARGS...
#   must_fail [-c CODE] CMD...      run CMD (bats `run --separate-stderr`); it must exit non-zero
#                                   and < 128 (a signal death is a crash, not a failure), and
#                                   exactly CODE with -c. Leaves $status, $output (stdout only),
#                                   $lines, $stderr, $stderr_lines as bats `run` does.
#   assert_one_line_error [TEXT]    $stderr (after must_fail / run --separate-stderr; else
#                                   $output) is exactly one non-empty line starting with
#                                   "layerbox: ", containing TEXT if given
#   store_snapshot DIR              stable listing of DIR: path, type, mode, uid:gid, size, sha256
#                                   (files) or target (symlinks), sorted; no times
#   require_root | require_overlay | require_tool NAME...
#                                   skip with the reason; a failure when LB_TEST_MUST_WORK=1
#   fixture NAME                    prints $FIXTURES/NAME (fails if it does not exist)
#   load_fixture_ids NAME           sources $FIXTURES/NAME.ids (variables describing a fixture)
#   assert_equal ACTUAL EXPECTED [WHAT]
#   assert_output_contains [--stderr] TEXT
#   assert_line_count N             $output has N lines (empty output = 0 lines)
#
# A .bats file that needs its own setup/teardown calls lb_setup / lb_teardown from them:
#   setup() { lb_setup; ...; }      teardown() { ...; lb_teardown; }
#
# Helpers report a failure on stderr and `return 1` explicitly (they never rely on `set -e`,
# which is off inside `if`, `!`, `||`), and use no pipes that could hide an exit code.

# shellcheck disable=SC2154 # status, output, stderr, lines are set by bats' run
bats_require_minimum_version 1.5.0 # run --separate-stderr

LB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${LAYERBOX:=$LB_REPO/build/layerbox}"
: "${FIXTURES:=$LB_REPO/fixtures/out}"
export LAYERBOX FIXTURES LB_REPO

# --- per-test store and scratch directory -------------------------------------------------

lb_setup() {
    local base=${LB_TEST_TMPDIR:-${TMPDIR:-/tmp}}
    LB_TEST_DIR=$(mktemp -d "$base/lb-test.XXXXXX") || {
        echo "lb_setup: cannot make a temp directory in '$base'" >&2
        return 1
    }
    LB_ROOT=$LB_TEST_DIR/root
    LB_TMP=$LB_TEST_DIR/tmp
    mkdir "$LB_TMP" || return 1
    export LB_TEST_DIR LB_ROOT LB_TMP
    export LAYERBOX_ROOT=$LB_ROOT
    unset LAYERBOX_EXPLAIN stderr stderr_lines
}

# Unmount whatever a test left mounted under DIR, deepest first (overlay roots, /proc, volumes),
# so that removing DIR cannot fail on a busy mount or recurse into a bind-mounted host path.
lb_unmount_under() {
    local dir=$1 mp rest
    local -a mounts=()
    [ -r /proc/self/mountinfo ] || return 0
    # mountinfo field 5 is the mount point, with spaces etc. written as octal escapes.
    while read -r _ _ _ _ mp rest; do
        mp=$(printf '%b' "$mp")
        case "$mp" in "$dir" | "$dir"/*) mounts+=("$mp") ;; esac
    done </proc/self/mountinfo
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
    done
}

# The setup of a container test file: a store with the busybox fixture loaded (needs overlay)
# and its fixture facts (IMAGE_ID, DIFF_IDS, ...) in the environment.
busybox_setup() {
    lb_setup
    require_overlay
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    load_fixture_ids busybox
}

# Remove every container of the store, running ones too, by its record (so a container ps would
# not list still goes): the first step of a container test's teardown.
remove_all_containers() {
    [ -n "${LB_ROOT:-}" ] && [ -d "$LB_ROOT/containers" ] || return 0
    local d
    for d in "$LB_ROOT"/containers/*; do
        [ -d "$d" ] && lb rm -f "${d##*/}" >/dev/null 2>&1
    done
    return 0
}

lb_teardown() {
    local dir=${LB_TEST_DIR:-}
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    if [ "${LB_TEST_KEEP:-}" = 1 ]; then
        echo "# LB_TEST_KEEP=1: kept $dir (store: $LB_ROOT)" >&3
        return 0
    fi
    lb_unmount_under "$dir"
    if ! rm -rf --one-file-system -- "$dir" 2>/dev/null; then
        # Read-only directories from a layer (non-root runs): make them writable and retry.
        chmod -R u+rwX -- "$dir" 2>/dev/null
        rm -rf --one-file-system -- "$dir" || {
            echo "lb_teardown: cannot remove '$dir' (something still mounted or busy?)" >&2
            return 1
        }
    fi
}

setup() {
    lb_setup
}

teardown() {
    lb_teardown
}

# --- running layerbox ---------------------------------------------------------------------

lb() {
    if [ ! -x "$LAYERBOX" ]; then
        echo "lb: LAYERBOX='$LAYERBOX' is not an executable (run 'make')" >&2
        # >= 128 so that `must_fail lb ...` cannot mistake "not built" for a proper failure.
        return 255
    fi
    "$LAYERBOX" --root "$LB_ROOT" "$@"
}

must_fail() {
    local code=""
    if [ "${1:-}" = "-c" ]; then
        code=${2:-}
        shift 2 || true
        if ! [[ $code =~ ^[0-9]+$ ]] || [ "$code" -lt 1 ] || [ "$code" -ge 128 ]; then
            echo "must_fail: -c wants an exit code from 1 to 127, got '$code'" >&2
            return 1
        fi
    fi
    if [ $# -eq 0 ]; then
        echo "must_fail: no command given" >&2
        return 1
    fi
    if [ -n "$code" ]; then
        # -N tells bats the code is expected (no "command not found" warning for 127); we check
        # it ourselves below, so its own verdict is ignored.
        run "-$code" --separate-stderr -- "$@" || true
    else
        run --separate-stderr -- "$@"
    fi
    if [ "$status" -eq 0 ]; then
        echo "must_fail: '$*' succeeded, a failure was expected" >&2
        echo "  stdout: $output" >&2
        return 1
    fi
    if [ "$status" -ge 128 ]; then
        local sig=$((status - 128)) name
        name=$(kill -l "$sig" 2>/dev/null) || name="?"
        echo "must_fail: '$*' died with status $status (signal $sig, SIG$name): a crash, not a failure" >&2
        echo "  stderr: $stderr" >&2
        return 1
    fi
    if [ -n "$code" ] && [ "$status" -ne "$code" ]; then
        echo "must_fail: '$*' exited $status, expected $code" >&2
        echo "  stderr: $stderr" >&2
        return 1
    fi
    return 0
}

# The text the last `run` captured as the error stream: $stderr if it was separated.
lb_error_text() {
    if [ "${stderr+set}" = set ]; then
        printf '%s' "$stderr"
    else
        printf '%s' "$output"
    fi
}

assert_one_line_error() {
    local text where=stderr
    [ "${stderr+set}" = set ] || where=output
    text=$(lb_error_text)
    if [ -z "$text" ]; then
        echo "assert_one_line_error: $where is empty, expected one 'layerbox: ...' line" >&2
        return 1
    fi
    if [[ $text == *$'\n'* ]]; then
        echo "assert_one_line_error: $where has more than one line:" >&2
        printf '%s\n' "$text" >&2
        return 1
    fi
    if [[ $text != "layerbox: "?* ]]; then
        echo "assert_one_line_error: $where does not start with 'layerbox: ': $text" >&2
        return 1
    fi
    if [ $# -gt 0 ] && [[ $text != *"$1"* ]]; then
        echo "assert_one_line_error: '$text' does not contain '$1'" >&2
        return 1
    fi
    return 0
}

# --- store snapshots ----------------------------------------------------------------------

# One line per entry, sorted by path: "PATH TYPE MODE UID:GID DETAIL" where DETAIL is
# "SIZE SHA256" for a regular file, "-> TARGET" for a symlink, "MAJOR:MINOR" for a device and
# "-" otherwise. Times are left out (the lock file's mtime and directories' mtimes change on
# every command); directory sizes too (they depend on the file system). DIR itself is ".".
store_snapshot() {
    local dir=${1:?store_snapshot DIR}
    if [ ! -e "$dir" ]; then
        echo "(absent)"
        return 0
    fi
    local tmp
    tmp=$(mktemp -d "${LB_TEST_DIR:-${TMPDIR:-/tmp}}/.snapshot.XXXXXX") || return 1
    # %P relative path ("" for DIR itself), %y type, %m mode, %U:%G owner, %s size, %l target.
    if ! find "$dir" -printf '%P\t%y\t%m\t%U:%G\t%s\t%l\n' >"$tmp/entries"; then
        echo "store_snapshot: cannot list '$dir'" >&2
        rm -rf "$tmp"
        return 1
    fi
    # Contents of regular files, and device numbers (overlay whiteouts are 0:0 char devices).
    if ! (cd "$dir" && find . -type f -exec sha256sum -- {} + >"$tmp/sums" &&
        find . \( -type c -o -type b \) -exec stat -c '%t:%T %n' -- {} + >"$tmp/devs"); then
        echo "store_snapshot: cannot read the files of '$dir'" >&2
        rm -rf "$tmp"
        return 1
    fi
    if ! LC_ALL=C awk -F'\t' '
        FILENAME == ARGV[1] {  # "HASH  ./path"
            sum[substr($0, 69)] = substr($0, 1, 64); next
        }
        FILENAME == ARGV[2] {  # "MAJOR:MINOR ./path"
            i = index($0, " "); dev[substr($0, i + 3)] = substr($0, 1, i - 1); next
        }
        {
            path = ($1 == "") ? "." : $1
            detail = "-"
            if ($2 == "f") detail = $5 " " sum[path]
            else if ($2 == "l") detail = "-> " $6
            else if ($2 == "c" || $2 == "b") detail = dev[path]
            printf "%s %s %s %s %s\n", path, $2, $3, $4, detail
        }' "$tmp/sums" "$tmp/devs" "$tmp/entries" >"$tmp/lines"; then
        echo "store_snapshot: cannot format the listing of '$dir'" >&2
        rm -rf "$tmp"
        return 1
    fi
    LC_ALL=C sort "$tmp/lines"
    local rc=$?
    rm -rf "$tmp"
    return $rc
}

# --- requirements: skip, or fail under LB_TEST_MUST_WORK=1 -------------------------------

lb_skip() {
    if [ "${LB_TEST_MUST_WORK:-}" = 1 ]; then
        echo "LB_TEST_MUST_WORK=1 and this test would skip: $*" >&2
        return 1
    fi
    skip "$*"
}

require_root() {
    [ "$(id -u)" -eq 0 ] || lb_skip "needs root"
}

require_tool() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || lb_skip "needs $t (not installed; see 'make deps')" || return 1
    done
}

# overlayfs mountable where the test's store lives (overlay cannot use an overlay as upper dir,
# and only root can mount it here).
require_overlay() {
    require_root || return 1
    local probe=$LB_TMP/.overlay-probe err
    mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged" || return 1
    if err=$(mount -t overlay overlay \
        -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>&1); then
        umount "$probe/merged"
        rm -rf "$probe"
        return 0
    fi
    rm -rf "$probe"
    lb_skip "needs overlayfs under $LB_TEST_DIR: $err"
}

# --- fixtures -----------------------------------------------------------------------------

fixture() {
    local f=$FIXTURES/${1:?fixture NAME}
    if [ ! -e "$f" ]; then
        echo "fixture: '$1' not found in $FIXTURES (run 'make fixtures')" >&2
        return 1
    fi
    printf '%s\n' "$f"
}

load_fixture_ids() {
    local f=$FIXTURES/${1:?load_fixture_ids NAME}.ids
    if [ ! -r "$f" ]; then
        echo "load_fixture_ids: '$f' not found (run 'make fixtures')" >&2
        return 1
    fi
    # shellcheck disable=SC1090
    source "$f"
}

# --- assertions ---------------------------------------------------------------------------

assert_equal() {
    if [ "$1" != "$2" ]; then
        echo "assert_equal${3:+ ($3)}: values differ" >&2
        echo "  actual:   $1" >&2
        echo "  expected: $2" >&2
        return 1
    fi
}

assert_output_contains() {
    local text=$output where=output
    if [ "${1:-}" = "--stderr" ]; then
        shift
        text=${stderr-}
        where=stderr
    fi
    if [[ $text != *"$1"* ]]; then
        echo "assert_output_contains: $where does not contain '$1':" >&2
        printf '%s\n' "$text" >&2
        return 1
    fi
}

assert_line_count() {
    local n=0
    if [ -n "$output" ]; then
        local nl=${output//[!$'\n']/}
        n=$((${#nl} + 1))
    fi
    if [ "$n" -ne "$1" ]; then
        echo "assert_line_count: output has $n line(s), expected $1:" >&2
        printf '%s\n' "$output" >&2
        return 1
    fi
}
