#!/bin/sh
# bench/export.sh — issue 5's target for export: `layerbox export` of a 500 MB container (5,000
# files of 100 KB, one layer, stopped: its root is mounted and unmounted inside the timing)
# takes ≤ 1.3 × `bsdtar -cf` of the same merged directory (the image mounted with
# `layerbox image mount`, read through the same overlayfs). Both write a tar file next to the
# store; GNU tar is timed too when present. Needs root (overlay).
# Usage: bench/export.sh [FILES] [FILE_KB]   (defaults 5000 100)
. "$(dirname "$0")/lib.sh"

files=${1:-5000}
kb=${2:-100}
B=$BENCH_DIR
lb() { "$LAYERBOX" --root "$B/s" "$@"; }
cleanup() {
    lb image umount bench/base:1 >/dev/null 2>&1 || true
    lb rm -f c >/dev/null 2>&1 || true
    rm -rf "$B"
}
trap cleanup EXIT
echo "bench/export.sh: $files files of $kb KB, $BENCH_RUNS runs each, in $B"

make_rootfs_tar "$B/rootfs.tar" "$files" "$kb"
lb import "$B/rootfs.tar" bench/base:1 >/dev/null
rm -f "$B/rootfs.tar"
echo "driver: $(lb info --format '{{.Driver}}' 2>/dev/null || echo '?')"
lb create --name c bench/base:1 /none >/dev/null
merged=$(lb image mount bench/base:1)

t_bsd=$(median_seconds "rm -f $B/bsd.tar" "bsdtar -cf $B/bsd.tar -C $merged .")
t_lb=$(median_seconds "rm -f $B/lb.tar" "$LAYERBOX --root $B/s export -o $B/lb.tar c")
row "what" "median s" "ratio"
row "bsdtar -cf of the merged directory" "$t_bsd" "1.00"
row "layerbox export -o (stopped: mount + tar + umount)" "$t_lb" "$(ratio "$t_lb" "$t_bsd")"
if have tar; then
    t_gnu=$(median_seconds "rm -f $B/gnu.tar" "tar -cf $B/gnu.tar -C $merged .")
    row "GNU tar -cf of the merged directory" "$t_gnu" "$(ratio "$t_gnu" "$t_bsd")"
fi
echo "layerbox export / bsdtar -cf = $(ratio "$t_lb" "$t_bsd") (target <= 1.30)"
echo "tar sizes: layerbox $(stat -c %s "$B/lb.tar"), bsdtar $(stat -c %s "$B/bsd.tar") bytes"
echo
row "peak RSS of layerbox export" "$(peak_rss_kb "$LAYERBOX" --root "$B/s" export -o "$B/lb.tar" c) KiB" ""
