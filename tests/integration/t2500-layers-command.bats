#!/usr/bin/env bats
# layerbox layers IMAGE: the layer stack, bottom layer first, with each layer's chain ID, DiffID,
# size, and the paths it adds, changes and deletes (whiteouts named). Expected chain IDs are
# computed here with sha256sum from the DiffIDs (the OCI formula), and checked against the
# fixture's .ids too; the counts come from the layer tars' own listings (tar -t) and from
# fixtures/README.md's description of the three-layer image, never from layerbox's output.
#
# The tests marked "(needs unpacking)" need load/import to unpack layers into the store.

load helpers

IMAGE=layerbox-fixtures/three-layer

# go-units HumanSizeWithPrecision(n, 3): decimal units, %.3g.
human_size() {
    awk -v n="$1" 'BEGIN { split("B kB MB GB TB PB", u, " "); i = 1
        while (n >= 1000 && i < 6) { n /= 1000; i++ }
        printf "%.3g%s\n", n, u[i] }'
}

# Go's tabwriter with docker's settings (minwidth 10, padding 3, last cell not padded, widths
# in runes), for lines that all have the same number of cells (as in t1000).
tabulate() {
    awk -F'\t' '
        function runes(s) { gsub(/[\200-\277]/, "", s); return length(s) }
        { n[NR] = NF; for (i = 1; i <= NF; i++) { c[NR, i] = $i; w = runes($i) + 3
              if (w < 10) w = 10; if (i < NF && w > W[i]) W[i] = w } }
        END { for (r = 1; r <= NR; r++) { line = ""
                  for (i = 1; i < n[r]; i++) { line = line c[r, i]
                      for (k = runes(c[r, i]); k < W[i]; k++) line = line " " }
                  print line c[r, n[r]] } }'
}

# ChainID(L1) = DiffID(L1); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
chain_ids_of() {
    local chain="" d sum
    for d in "$@"; do
        if [ -z "$chain" ]; then
            chain=$d
        else
            sum=$(printf '%s %s' "$chain" "$d" | sha256sum) || return 1
            chain="sha256:${sum%% *}"
        fi
        echo "$chain"
    done
}

# Whiteouts of a layer tar, from its listing: "/dir/name" for each ".wh.name" entry (not the
# opaque marker), comma-separated, in tar order (the fixture tars are sorted by name).
tar_whiteouts() {
    local list out="" p base dir
    list=$(tar -tf "$1") || return 1
    while IFS= read -r p; do
        base=${p##*/}
        case "$base" in
        .wh..wh..opq) ;;
        .wh.*)
            dir=${p%"$base"}
            out+="${out:+, }/$dir${base#.wh.}"
            ;;
        esac
    done <<<"$list"
    printf '%s\n' "$out"
}

tar_count() { # entries of a tar matching an extended regex
    local list
    list=$(tar -tf "$1") || return 1
    grep -cE "$2" <<<"$list"
}

setup() {
    lb_setup
    load_fixture_ids three-layer
    read -r -a DIFFS <<<"$DIFF_IDS"
    read -r -a SIZES <<<"$LAYER_SIZES"
    mapfile -t CHAINS < <(chain_ids_of "${DIFFS[@]}")
    L1=$(fixture three-layer-layer1.tar)
    L2=$(fixture three-layer-layer2.tar)
    L3=$(fixture three-layer-layer3.tar)
}

@test "the chain IDs computed here agree with the fixture's" {
    assert_equal "${#CHAINS[@]}" 3
    assert_equal "${CHAINS[*]}" "$CHAIN_IDS"
}

@test "layers lists the chain IDs and DiffIDs bottom first, numbered from 1" {
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    run --separate-stderr lb layers --no-trunc --format '{{.Index}} {{.ChainID}} {{.DiffID}}' \
        "$IMAGE"
    assert_equal "$status" 0
    assert_equal "$output" "$(printf '1 %s %s\n2 %s %s\n3 %s %s' \
        "${CHAINS[0]}" "${DIFFS[0]}" "${CHAINS[1]}" "${DIFFS[1]}" "${CHAINS[2]}" "${DIFFS[2]}")"
    # Truncated: 12 hex characters, no "sha256:".
    run --separate-stderr lb layers --format '{{.ChainID}} {{.DiffID}}' "$IMAGE"
    assert_equal "$status" 0
    assert_equal "${lines[2]}" "$(cut -c8-19 <<<"${CHAINS[2]}") $(cut -c8-19 <<<"${DIFFS[2]}")"
    assert_line_count 3
}

@test "layers shows what each layer adds, changes and deletes (needs unpacking)" {
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    run --separate-stderr lb layers --no-trunc \
        --format '{{.Index}}|{{.Added}}|{{.Changed}}|{{.Deleted}}|{{.Opaques}}|{{.Whiteouts}}' \
        "$IMAGE"
    assert_equal "$status" 0
    assert_equal "$stderr" "" "no warning: every layer is unpacked"
    # Layer 1 sits on nothing: every entry of its tar (directories too) is added.
    local added1
    added1=$(tar_count "$L1" '.')
    assert_equal "$added1" 14 "README: 3 directories and 11 files, links and hard links"
    # Layer 2 (README): adds data/new.txt and opaque/fresh; changes data/change.txt; deletes
    # data/remove.txt (.wh.remove.txt); makes opaque/ opaque. data/ and opaque/ are in the tar
    # only as parents: same mode and owner as below, so not changed.
    # Layer 3 (README): adds data/third.txt; changes data/run.sh (mode 0644 → 0755); deletes
    # etc/motd.
    assert_equal "$(tar_count "$L2" '/\.wh\.\.wh\.\.opq$')" 1
    assert_equal "$(tar_count "$L3" '/\.wh\.\.wh\.\.opq$')" 0
    assert_equal "$output" "$(printf '1|%s|0|0|0|%s\n2|2|1|%s|1|%s\n3|1|1|%s|0|%s' \
        "$added1" "$(tar_whiteouts "$L1")" \
        "$(tar_count "$L2" '/\.wh\.[^.]')" "$(tar_whiteouts "$L2")" \
        "$(tar_count "$L3" '/\.wh\.[^.]')" "$(tar_whiteouts "$L3")")"
    assert_equal "$(tar_whiteouts "$L2")" "/data/remove.txt"
    assert_equal "$(tar_whiteouts "$L3")" "/etc/motd"
}

@test "the default table has docker's layout (needs unpacking)" {
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    run --separate-stderr lb layers "$IMAGE"
    assert_equal "$status" 0
    local i short=() dshort=()
    for i in 0 1 2; do
        short[i]=$(cut -c8-19 <<<"${CHAINS[i]}")
        dshort[i]=$(cut -c8-19 <<<"${DIFFS[i]}")
    done
    assert_equal "$output" "$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        '#' 'CHAIN ID' 'DIFF ID' SIZE ADDED CHANGED DELETED WHITEOUTS \
        1 "${short[0]}" "${dshort[0]}" "$(human_size "${SIZES[0]}")" 14 0 0 '' \
        2 "${short[1]}" "${dshort[1]}" "$(human_size "${SIZES[1]}")" 2 1 1 /data/remove.txt \
        3 "${short[2]}" "${dshort[2]}" "$(human_size "${SIZES[2]}")" 1 1 1 /etc/motd | tabulate)"
}

@test "a long whiteout list is cut with … unless --no-trunc (needs unpacking)" {
    mkdir -p "$LB_TMP/rootfs/some/deep/directory"
    local i expected=""
    for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
        : >"$LB_TMP/rootfs/some/deep/directory/.wh.file-$i"
        expected+="${expected:+, }/some/deep/directory/file-$i"
    done
    tar -C "$LB_TMP/rootfs" --sort=name -cf "$LB_TMP/wh.tar" .
    lb import "$LB_TMP/wh.tar" whiteouts:test >/dev/null
    run --separate-stderr lb layers --format '{{.Deleted}}|{{.Whiteouts}}' whiteouts:test
    assert_equal "$status" 0
    # docker's Ellipsis(s, 40): 39 runes and "…".
    assert_equal "$output" "12|${expected:0:39}…"
    run --separate-stderr lb layers --no-trunc --format '{{.Deleted}}|{{.Whiteouts}}' whiteouts:test
    assert_equal "$status" 0
    assert_equal "$output" "12|$expected"
}

@test "layers that are not unpacked show - and one warning line" {
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    # Take the top layer out of the store, as if it had never been unpacked.
    rm -rf -- "$LB_ROOT/layers/${CHAINS[2]#sha256:}"
    run --separate-stderr lb layers \
        --format '{{.Index}}|{{.Size}}|{{.Added}}|{{.Changed}}|{{.Deleted}}|{{.Whiteouts}}' "$IMAGE"
    assert_equal "$status" 0
    assert_equal "${lines[2]}" "3|-|-|-|-|-"
    assert_line_count 3
    # One line on stderr, saying so (1 of 3 once load unpacks, 3 of 3 before).
    assert_equal "${#stderr_lines[@]}" 1
    local re="^layerbox: warning: [13] of 3 layers of '$IMAGE' are not unpacked in this store"
    [[ ${stderr_lines[0]} =~ $re ]] || {
        echo "unexpected warning: $stderr" >&2
        return 1
    }
    # The chain IDs do not depend on unpacking.
    run --separate-stderr lb layers --no-trunc --format '{{.ChainID}}' "$IMAGE"
    assert_equal "${lines[2]}" "${CHAINS[2]}"
}

@test "layers of an unknown image fails with one line" {
    must_fail -c 1 lb layers no-such-image
    assert_one_line_error "no such image: 'no-such-image'"
}

@test "layers --help prints its usage" {
    run --separate-stderr lb layers --help
    assert_equal "$status" 0
    assert_output_contains "Usage:  layerbox layers [OPTIONS] IMAGE"
    assert_output_contains "--no-trunc"
    assert_output_contains ".Whiteouts"
    assert_equal "$stderr" ""
}

@test "layers with a bad flag or the wrong number of arguments is a usage error" {
    must_fail -c 125 lb layers --bogus "$IMAGE"
    assert_one_line_error "unknown flag: --bogus"
    must_fail -c 125 lb layers
    assert_one_line_error "\"layers\" requires exactly 1 argument"
    must_fail -c 125 lb layers a b
    assert_one_line_error "\"layers\" requires exactly 1 argument"
    must_fail -c 125 lb layers --format
    assert_one_line_error "flag needs an argument: --format"
}

@test "layers with a broken template fails without printing a table" {
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    must_fail -c 1 lb layers --format '{{.Index' "$IMAGE"
    assert_equal "$output" ""
    assert_one_line_error "template"
}
