#!/bin/sh
# bench/unpack.sh — issue 3's targets for layers:
#   * unpacking a 500 MB single-layer image (5,000 files of 100 KB) with both digests verified
#     (`layerbox load`) takes ≤ 1.25 × `bsdtar -xf` of the same uncompressed tar alone, and less
#     than `podman load` and `umoci unpack` of the same image;
#   * loading a second image that shares the 500 MB base layer takes < 10 % of the first load,
#     and adds no second copy of the base on disk (du);
#   * peak RSS ≤ 32 MB.
# Usage: bench/unpack.sh [FILES] [FILE_KB]   (defaults 5000 100)
. "$(dirname "$0")/lib.sh"

files=${1:-5000}
kb=${2:-100}
trap 'rm -rf "$BENCH_DIR"' EXIT
echo "bench/unpack.sh: $files files of $kb KB, $BENCH_RUNS runs each, in $BENCH_DIR"
B=$BENCH_DIR
lb() { "$LAYERBOX" "$@"; }

make_rootfs_tar "$B/rootfs.tar" "$files" "$kb"
lb --root "$B/src" import "$B/rootfs.tar" bench/base:1 >/dev/null
lb --root "$B/src" save -o "$B/base.tar" bench/base:1
echo "driver: $(lb --root "$B/src" info --format '{{.Driver}}' 2>/dev/null || echo '?')"

# The second image: the same base layer plus one small layer, assembled by hand (sha256sum, no
# layerbox in the loop), loaded into a scratch store and saved in docker 25's layout.
mkdir -p "$B/two/base" "$B/two/top" "$B/toptree"
echo "second image" >"$B/toptree/hello.txt"
tar -C "$B/toptree" -cf "$B/two/top/layer.tar" .
cp "$B/rootfs.tar" "$B/two/base/layer.tar"
d1=$(sha256sum <"$B/rootfs.tar" | cut -d' ' -f1)
d2=$(sha256sum <"$B/two/top/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]},"history":[{"created_by":"base"},{"created_by":"top"}]}' \
    "$d1" "$d2" >"$B/two/config.json"
printf '[{"Config":"config.json","RepoTags":["bench/two:1"],"Layers":["base/layer.tar","top/layer.tar"]}]' \
    >"$B/two/manifest.json"
tar -C "$B/two" -cf "$B/two-legacy.tar" manifest.json config.json base/layer.tar top/layer.tar
rm -rf "$B/two"
lb --root "$B/src" load -q -i "$B/two-legacy.tar" >/dev/null
lb --root "$B/src" save -o "$B/two.tar" bench/two:1
rm -f "$B/two-legacy.tar"

t_bsd=$(median_seconds "rm -rf $B/x && mkdir $B/x" "bsdtar -xf $B/rootfs.tar -C $B/x")
t_lb=$(median_seconds "rm -rf $B/dst" "$LAYERBOX --root $B/dst load -q -i $B/base.tar")
row "what" "median s" "ratio"
row "bsdtar -xf rootfs.tar (no hashing)" "$t_bsd" "1.00"
row "layerbox load -i base.tar (hash x2 + unpack)" "$t_lb" "$(ratio "$t_lb" "$t_bsd")"
if have podman; then
    id=$(lb --root "$B/src" images -q --no-trunc bench/base:1)
    t_pm=$(median_seconds "podman rmi -f $id >/dev/null 2>&1 || true" "podman load -q -i $B/base.tar")
    podman rmi -f "$id" >/dev/null 2>&1 || true
    row "podman load -i base.tar" "$t_pm" "$(ratio "$t_pm" "$t_bsd")"
fi
if have umoci && have skopeo; then
    skopeo copy -q docker-archive:"$B/base.tar" oci:"$B/oci:base" >/dev/null
    t_um=$(median_seconds "rm -rf $B/bundle" "umoci unpack --image $B/oci:base $B/bundle")
    rm -rf "$B/bundle" "$B/oci"
    row "umoci unpack (same image, OCI layout)" "$t_um" "$(ratio "$t_um" "$t_bsd")"
fi
echo "layerbox load / bsdtar -xf = $(ratio "$t_lb" "$t_bsd") (target <= 1.25)"
[ -n "${t_pm:-}" ] && echo "layerbox load / podman load = $(ratio "$t_lb" "$t_pm") (target < 1)"
[ -n "${t_um:-}" ] && echo "layerbox load / umoci unpack = $(ratio "$t_lb" "$t_um") (target < 1)"

echo
rm -rf "$B/dst"
lb --root "$B/dst" load -q -i "$B/base.tar" >/dev/null
du1=$(du -sk "$B/dst" | cut -f1)
t_two=$(median_seconds "$LAYERBOX --root $B/dst rmi bench/two:1 >/dev/null 2>&1 || true" \
    "$LAYERBOX --root $B/dst load -q -i $B/two.tar")
lb --root "$B/dst" rmi bench/two:1 >/dev/null 2>&1 || true
lb --root "$B/dst" load -q -i "$B/two.tar" >/dev/null
du2=$(du -sk "$B/dst" | cut -f1)
row "load of a 2nd image sharing the base" "$t_two" "$(ratio "$t_two" "$t_lb") of 1st"
echo "second load / first load = $(ratio "$t_two" "$t_lb") (target < 0.10)"
echo "store size: $du1 KiB after the base, $du2 KiB after the second image (+$((du2 - du1)) KiB; the base is $(( $(stat -c %s "$B/rootfs.tar") / 1024 )) KiB)"

echo
echo "peak RSS (target <= 32768 KiB):"
rm -rf "$B/dst"
row "layerbox load (500 MB layer)" "$(peak_rss_kb "$LAYERBOX" --root "$B/dst" load -q -i "$B/base.tar") KiB" ""
row "layerbox import (500 MB layer)" "$(peak_rss_kb "$LAYERBOX" --root "$B/imp" import "$B/rootfs.tar" bench/imp:1) KiB" ""
