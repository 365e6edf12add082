#!/bin/sh
# bench/load.sh — issue 2's targets for the image store:
#   * `load` of a 500 MB single-layer docker-archive (5,000 files of 100 KB) takes ≤ 1.2 × the
#     time of `sha256sum` of the same file (one streaming hash, one copy of the blob), and less
#     than `podman load` of the same archive;
#   * peak RSS of `load`, `save` and `import` ≤ 32 MB whatever the archive size.
# Usage: bench/load.sh [FILES] [FILE_KB]   (defaults 5000 100)
. "$(dirname "$0")/lib.sh"

files=${1:-5000}
kb=${2:-100}
trap 'rm -rf "$BENCH_DIR"' EXIT
echo "bench/load.sh: $files files of $kb KB, $BENCH_RUNS runs each, in $BENCH_DIR"

make_rootfs_tar "$BENCH_DIR/rootfs.tar" "$files" "$kb"

# A docker-archive of it: import into a scratch store, save.
"$LAYERBOX" --root "$BENCH_DIR/src" import "$BENCH_DIR/rootfs.tar" bench/big:1 >/dev/null
"$LAYERBOX" --root "$BENCH_DIR/src" save -o "$BENCH_DIR/big.tar" bench/big:1
size=$(stat -c %s "$BENCH_DIR/big.tar")
echo "archive: $((size / 1000000)) MB"

t_sha=$(median_seconds "true" "sha256sum $BENCH_DIR/big.tar")
t_lb=$(median_seconds "rm -rf $BENCH_DIR/dst" "$LAYERBOX --root $BENCH_DIR/dst load -q -i $BENCH_DIR/big.tar")
row "what" "median s" "ratio"
row "sha256sum big.tar" "$t_sha" "1.00"
row "layerbox load -i big.tar" "$t_lb" "$(ratio "$t_lb" "$t_sha")"
if have podman; then
    # podman names the image docker.io/bench/big:1; removing it by ID (the same ID, which is the
    # point of the interop) before each run makes every run a full load.
    id=$("$LAYERBOX" --root "$BENCH_DIR/src" images -q --no-trunc bench/big:1)
    t_pm=$(median_seconds "podman rmi -f $id >/dev/null 2>&1 || true" \
        "podman load -q -i $BENCH_DIR/big.tar")
    podman rmi -f "$id" >/dev/null 2>&1 || true
    row "podman load -i big.tar" "$t_pm" "$(ratio "$t_pm" "$t_sha")"
    echo "layerbox load / podman load = $(ratio "$t_lb" "$t_pm") (target < 1)"
else
    echo "podman not installed: podman load not measured"
fi
echo "layerbox load / sha256sum = $(ratio "$t_lb" "$t_sha") (target <= 1.2)"

echo
echo "peak RSS (target <= 32768 KiB):"
rm -rf "$BENCH_DIR/dst"
row "layerbox load" "$(peak_rss_kb "$LAYERBOX" --root "$BENCH_DIR/dst" load -q -i "$BENCH_DIR/big.tar") KiB" ""
row "layerbox save" "$(peak_rss_kb "$LAYERBOX" --root "$BENCH_DIR/dst" save -o "$BENCH_DIR/again.tar" bench/big:1) KiB" ""
rm -f "$BENCH_DIR/again.tar"
row "layerbox import" "$(peak_rss_kb "$LAYERBOX" --root "$BENCH_DIR/imp" import "$BENCH_DIR/rootfs.tar" bench/imp:1) KiB" ""
