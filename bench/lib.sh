# bench/lib.sh — shared helpers for the benchmark scripts (sourced, not run).
#
# Timings are medians of several runs taken side by side in ONE run of the script, and reported
# as ratios, because this machine is noisy: absolute seconds mean little, ratios mean more.

set -eu

: "${LAYERBOX:=$(cd "$(dirname "$0")/.." && pwd)/build/layerbox}"
: "${BENCH_RUNS:=5}"
BENCH_DIR=${BENCH_DIR:-$(mktemp -d /var/tmp/lb-bench.XXXXXX)}

have() { command -v "$1" >/dev/null 2>&1; }

# median_seconds PREPARE_CMD CMD: median wall time of CMD over $BENCH_RUNS runs (hyperfine),
# running PREPARE_CMD (untimed) before each run.
median_seconds() {
    prep=$1
    shift
    out="$BENCH_DIR/hf.json"
    hyperfine --style none --runs "$BENCH_RUNS" --warmup 1 --prepare "$prep" \
        --export-json "$out" "$*" >/dev/null 2>&1 || { echo "nan"; return; }
    sed -n 's/.*"median": *\([0-9.e+-]*\).*/\1/p' "$out" | head -n 1 | awk '{ printf "%.3f\n", $1 }'
}

# peak_rss_kb CMD...: the peak resident set size of CMD in KiB (GNU time).
peak_rss_kb() {
    /usr/bin/time -f '%M' -o "$BENCH_DIR/rss" "$@" >/dev/null 2>&1 || { echo "fail"; return; }
    tail -n 1 "$BENCH_DIR/rss"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0 || a == "nan" || b == "nan") print "n/a"; else printf "%.2f", a / b }'; }

row() { printf '%-58s %12s %10s\n' "$1" "$2" "$3"; }

# make_rootfs_tar OUT FILES KB: a tar of FILES incompressible files of KB KiB each (data/N/fI),
# so no tool gets a free ride from compression.
make_rootfs_tar() {
    out=$1 files=$2 kb=$3
    tree=$(mktemp -d "$BENCH_DIR/rootfs.XXXXXX")
    i=0
    while [ "$i" -lt "$files" ]; do
        d="$tree/data/$((i / 100))"
        mkdir -p "$d"
        head -c "$((kb * 1024))" /dev/urandom >"$d/f$i"
        i=$((i + 1))
    done
    tar -C "$tree" -cf "$out" .
    rm -rf "$tree"
}

# pooled_median_ms FILE: the median of the times (seconds, one per line) in FILE, in ms.
pooled_median_ms() {
    sort -g "$1" | awk '{ v[NR] = $1 }
        END { if (NR == 0) { print "nan"; exit }
              m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%.2f\n", m * 1000 }'
}

# alternate_rounds PREP FILE1 CMD1 FILE2 CMD2: ROUNDS (default 5) rounds of BENCH_RUNS runs of
# each command in turn, every run's time (seconds) appended to its file. Two commands of a few ms
# compared all-of-one-then-all-of-the-other compare two moments of this shared machine as much
# as the commands; alternating rounds and pooled medians (pooled_median_ms) compare like with like.
alternate_rounds() {
    prep=$1 f1=$2 c1=$3 f2=$4 c2=$5
    : >"$f1"
    : >"$f2"
    for r in $(seq "${ROUNDS:-5}"); do
        hyperfine --style none --runs "$BENCH_RUNS" --warmup 1 --prepare "$prep" \
            --export-json "$BENCH_DIR/hf.json" "$c1" >/dev/null 2>&1 &&
            jq -r '.results[0].times[]' "$BENCH_DIR/hf.json" >>"$f1"
        hyperfine --style none --runs "$BENCH_RUNS" --warmup 1 --prepare "$prep" \
            --export-json "$BENCH_DIR/hf.json" "$c2" >/dev/null 2>&1 &&
            jq -r '.results[0].times[]' "$BENCH_DIR/hf.json" >>"$f2"
    done
}
