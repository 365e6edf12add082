#!/bin/sh
# bench/run-container.sh — issue 4's targets for the runtime:
#   * `layerbox run --rm IMAGE /bin/true` (the busybox rootfs): median ≤ 2 × bench/floor (clone +
#     private / + overlay + pivot_root + /proc + exec and nothing else: the physical floor), at
#     least 10 × faster than `podman run --rm` of the same image (podman set to runc), and faster
#     than `runc run` of an already-prepared bundle of the same rootfs;
#   * `create` from a 500 MB image (FILES files of KB KiB + the busybox rootfs) takes the same
#     time (± 10 %) as from the 2 MB busybox image, with the overlay driver;
#   * peak RSS of `layerbox run` ≤ 8 MB.
# A tool or command that is missing is reported as skipped; the others still run. Needs root.
# Usage: bench/run-container.sh [FILES] [FILE_KB]   (defaults 5000 100)
. "$(dirname "$0")/lib.sh"

files=${1:-5000}
kb=${2:-100}
top=$(cd "$(dirname "$0")/.." && pwd)
: "${ROOTFS_TAR:=$top/fixtures/out/busybox-rootfs.tar}"
: "${FLOOR:=$top/build/bench/floor}"
B=$BENCH_DIR
IMG=lb-bench/bb:1
BIG=lb-bench/big:1
PODMAN_IMG=localhost/lb-bench-bb:1
RUNC="runc --root $B/runc-state"
lb() { "$LAYERBOX" --root "$B/store" "$@"; }

cleanup() {
    if [ -n "${podman_imported:-}" ]; then podman rmi -f "$PODMAN_IMG" >/dev/null 2>&1 || true; fi
    $RUNC delete -f lbbench >/dev/null 2>&1 || true
    if [ -n "${lb_create:-}" ]; then lb rm -f lbbench-create >/dev/null 2>&1 || true; fi
    # Whatever a failed run left mounted under the bench dir goes before the rm -rf.
    awk -v b="$B/" 'index($5, b) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" != 0 ]; then
    echo "bench/run-container.sh: needs root (namespaces, overlay mounts): skipped"
    exit 0
fi
[ -f "$ROOTFS_TAR" ] || { echo "bench/run-container.sh: no $ROOTFS_TAR (run 'make fixtures')" >&2; exit 1; }
echo "bench/run-container.sh: $BENCH_RUNS runs each, big image $files files of $kb KB, in $B"

# median_ms PREPARE_CMD CMD: lib.sh's median_seconds in milliseconds with two decimals (a start
# takes a few ms: seconds rounded to 1 ms would make the ratios to the floor +-25 %).
median_ms() {
    prep=$1
    shift
    hyperfine --style none --runs "$BENCH_RUNS" --warmup 1 --prepare "$prep" \
        --export-json "$B/hf.json" "$*" >/dev/null 2>&1 || { echo "nan"; return; }
    sed -n 's/.*"median": *\([0-9.e+-]*\).*/\1/p' "$B/hf.json" | head -n 1 | awk '{ printf "%.2f\n", $1 * 1000 }'
}

# check WHAT CMD...: run CMD once before timing it, so a broken row says why instead of "nan".
check() {
    what=$1
    shift
    if ! "$@" >"$B/check.out" 2>&1; then
        echo "$what: '$*' failed, row skipped:"
        sed 's/^/    /' "$B/check.out" | head -n 5
        return 1
    fi
}

# The floor: built by `make bench`; when run alone, compiled here with $CC.
if [ ! -x "$FLOOR" ]; then
    FLOOR=$B/floor
    ${CC:-cc} -O2 -static -o "$FLOOR" "$top/bench/floor.c" 2>/dev/null ||
        ${CC:-cc} -O2 -o "$FLOOR" "$top/bench/floor.c"
    echo "built $FLOOR with ${CC:-cc} (make bench builds build/bench/floor)"
fi
mkdir -p "$B/lower" "$B/scratch"
tar -C "$B/lower" -xf "$ROOTFS_TAR"

row "what" "median ms" "x floor"
check "floor" "$FLOOR" "$B/lower" "$B/scratch" || exit 1
t_lb=
if "$LAYERBOX" run --help >/dev/null 2>&1; then
    lb import "$ROOTFS_TAR" "$IMG" >/dev/null
    if check "layerbox run" lb run --rm "$IMG" /bin/true; then
        # the floor and layerbox in alternating rounds: the ratio is the target
        alternate_rounds true "$B/floor.times" "$FLOOR $B/lower $B/scratch" \
            "$B/lb.times" "$LAYERBOX --root $B/store run --rm $IMG /bin/true"
        t_floor=$(pooled_median_ms "$B/floor.times")
        t_lb=$(pooled_median_ms "$B/lb.times")
    fi
else
    echo "layerbox run not available: skipped"
fi
[ -n "$t_lb" ] || t_floor=$(median_ms "true" "$FLOOR $B/lower $B/scratch")
row "bench/floor (clone+overlay+pivot_root+/proc+exec)" "$t_floor" "1.00"
[ -n "$t_lb" ] && row "layerbox run --rm IMAGE /bin/true" "$t_lb" "$(ratio "$t_lb" "$t_floor")"

t_pm=
if have podman; then
    podman import -q "$ROOTFS_TAR" "$PODMAN_IMG" >/dev/null && podman_imported=1
    if check "podman run" podman run --rm "$PODMAN_IMG" /bin/true; then
        t_pm=$(median_ms "true" "podman run --rm $PODMAN_IMG /bin/true")
        row "podman run --rm IMAGE /bin/true (runtime: $(podman info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null || echo '?'))" "$t_pm" "$(ratio "$t_pm" "$t_floor")"
    fi
else
    echo "podman not installed: skipped"
fi

t_runc=
if have runc; then
    # runc spec's defaults, then what this machine needs (/work/shared/peers.md): no terminal, no
    # rlimits; the command is /bin/true. The bundle's rootfs is its own copy of the same tree.
    mkdir -p "$B/bundle" "$B/runc-state"
    cp -a "$B/lower" "$B/bundle/rootfs"
    (cd "$B/bundle" && runc spec)
    sed -i -e 's/"terminal": true/"terminal": false/' -e 's/^\([[:space:]]*\)"sh"$/\1"\/bin\/true"/' \
        -e '/"rlimits": \[/,/^[[:space:]]*\],\{0,1\}$/d' "$B/bundle/config.json"
    if check "runc run" $RUNC run -b "$B/bundle" lbbench; then
        t_runc=$(median_ms "true" "$RUNC run -b $B/bundle lbbench")
        row "runc run (prepared bundle, same rootfs)" "$t_runc" "$(ratio "$t_runc" "$t_floor")"
    fi
else
    echo "runc not installed: skipped"
fi

echo
if [ -n "$t_lb" ]; then
    echo "layerbox run / floor = $(ratio "$t_lb" "$t_floor") (target <= 2)"
    [ -n "$t_pm" ] && echo "podman run / layerbox run = $(ratio "$t_pm" "$t_lb") (target >= 10)"
    [ -n "$t_runc" ] && echo "layerbox run / runc run = $(ratio "$t_lb" "$t_runc") (target < 1)"
else
    echo "layerbox run not measured: no ratios against the targets"
    [ -n "$t_pm" ] && echo "podman run / floor = $(ratio "$t_pm" "$t_floor")"
    [ -n "$t_runc" ] && echo "runc run / floor = $(ratio "$t_runc" "$t_floor")"
fi

echo
if "$LAYERBOX" create --help >/dev/null 2>&1; then
    lb_create=1
    lb images -q "$IMG" >/dev/null 2>&1 || lb import "$ROOTFS_TAR" "$IMG" >/dev/null
    # The big image: the busybox rootfs with FILES x KB KiB of incompressible data appended.
    make_rootfs_tar "$B/data.tar" "$files" "$kb"
    cp "$ROOTFS_TAR" "$B/big.tar"
    tar -Af "$B/big.tar" "$B/data.tar"
    rm -f "$B/data.tar"
    lb import "$B/big.tar" "$BIG" >/dev/null
    rm -f "$B/big.tar"
    echo "driver: $(lb info --format '{{.Driver}}' 2>/dev/null || echo '?')"
    if "$LAYERBOX" rm --help >/dev/null 2>&1; then
        prep="$LAYERBOX --root $B/store rm -f lbbench-create >/dev/null 2>&1 || true"
        name="--name lbbench-create"
    else
        prep=true name= # no rm yet: the containers pile up in the scratch store
    fi
    # (hyperfine's prepare removes the checked container before the first run)
    if check "layerbox create" lb create $name "$IMG" /bin/true; then
        # A create is ~4 ms, a third of it fsyncs whose latency drifts on a shared disk.
        alternate_rounds "$prep" "$B/small.times" "$LAYERBOX --root $B/store create $name $IMG /bin/true" \
            "$B/big.times" "$LAYERBOX --root $B/store create $name $BIG /bin/true"
        t_small=$(pooled_median_ms "$B/small.times")
        t_big=$(pooled_median_ms "$B/big.times")
        row "what" "median ms" "x 2 MB"
        row "layerbox create (2 MB image)" "$t_small" "1.00"
        row "layerbox create ($((files * kb / 1000)) MB image)" "$t_big" "$(ratio "$t_big" "$t_small")"
        echo "create big / create small = $(ratio "$t_big" "$t_small") (target 0.90 .. 1.10)"
    fi
else
    echo "layerbox create not available: skipped"
fi

echo
echo "peak RSS (target <= 8192 KiB):"
row "bench/floor (reference)" "$(peak_rss_kb "$FLOOR" "$B/lower" "$B/scratch") KiB" ""
if [ -n "$t_lb" ]; then
    row "layerbox run --rm IMAGE /bin/true" "$(peak_rss_kb "$LAYERBOX" --root "$B/store" run --rm "$IMG" /bin/true) KiB" ""
else
    echo "layerbox run not available: skipped"
fi
