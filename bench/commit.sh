#!/bin/sh
# bench/commit.sh — issue 5's commit target: `commit` of a container that changed CHANGED files
# of 4 KB costs the same (± 20 %) on a 500 MB image (FILES files of KB KiB + the busybox rootfs)
# as on the 2 MB busybox image: the cost follows the change, not the image (overlay: the diff
# walks the writable layer only, and the parent's layers are listed, not copied).
# Each timed commit makes a new layer: the image it made is removed (untimed) before the next.
# The two commits are timed in COMMIT_ROUNDS (default 5) alternating rounds of BENCH_RUNS each,
# and compared by their pooled medians (disk latency drifts more between two moments than the
# images differ). Needs root (containers).
# Usage: bench/commit.sh [FILES] [FILE_KB] [CHANGED]   (defaults 5000 100 1000)
. "$(dirname "$0")/lib.sh"

files=${1:-5000}
kb=${2:-100}
changed=${3:-1000}
top=$(cd "$(dirname "$0")/.." && pwd)
: "${ROOTFS_TAR:=$top/fixtures/out/busybox-rootfs.tar}"
B=$BENCH_DIR
IMG=lb-bench/bb:1
BIG=lb-bench/big:1
lb() { "$LAYERBOX" --root "$B/store" "$@"; }

cleanup() {
    for c in lbbench-small lbbench-big; do lb rm -f "$c" >/dev/null 2>&1 || true; done
    awk -v b="$B/" 'index($5, b) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" != 0 ]; then
    echo "bench/commit.sh: needs root (containers): skipped"
    exit 0
fi
[ -f "$ROOTFS_TAR" ] || { echo "bench/commit.sh: no $ROOTFS_TAR (run 'make fixtures')" >&2; exit 1; }
echo "bench/commit.sh: $BENCH_RUNS runs x ${COMMIT_ROUNDS:-5} rounds, big image $files files of $kb KB, $changed files of 4 KB changed, in $B"

lb import "$ROOTFS_TAR" "$IMG" >/dev/null
make_rootfs_tar "$B/data.tar" "$files" "$kb"
cp "$ROOTFS_TAR" "$B/big.tar"
tar -Af "$B/big.tar" "$B/data.tar"
rm -f "$B/data.tar"
lb import "$B/big.tar" "$BIG" >/dev/null
rm -f "$B/big.tar"
echo "driver: $(lb info --format '{{.Driver}}' 2>/dev/null || echo '?')"

# The same change in both: CHANGED new files of 4 KB of random data.
change="mkdir /chg; i=0; while [ \$i -lt $changed ]; do head -c 4096 /dev/urandom > /chg/f\$i; i=\$((i + 1)); done"
lb run --name lbbench-small "$IMG" sh -c "$change"
lb run --name lbbench-big "$BIG" sh -c "$change"
# The 500 MB just written is still being flushed: without this, the first commits' syncfs pays it.
sync

# The prepare removes the image the previous commit made and syncs (untimed): a commit ends with
# one syncfs, which would otherwise pay for flushing that removal too.
ROUNDS=${COMMIT_ROUNDS:-5} alternate_rounds \
    "$LAYERBOX --root $B/store rmi lb-bench/out:small lb-bench/out:big >/dev/null 2>&1; sync" \
    "$B/small.times" "$LAYERBOX --root $B/store commit lbbench-small lb-bench/out:small" \
    "$B/big.times" "$LAYERBOX --root $B/store commit lbbench-big lb-bench/out:big"
t_small=$(pooled_median_ms "$B/small.times")
t_big=$(pooled_median_ms "$B/big.times")
row "what" "median ms" "x 2 MB"
row "layerbox commit, $changed x 4 KB changed (2 MB image)" "$t_small" "1.00"
row "layerbox commit, $changed x 4 KB changed ($((files * kb / 1000)) MB image)" "$t_big" "$(ratio "$t_big" "$t_small")"
echo "commit big / commit small = $(ratio "$t_big" "$t_small") (target 0.80 .. 1.20)"
