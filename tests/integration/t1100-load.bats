#!/usr/bin/env bats
# layerbox load: every archive form (docker legacy, docker 25+, OCI archive, OCI layout
# directory; plain, gzip or zstd outer tar; file or stdin) gives the image ID, chain IDs and layer
# sizes that the fixture's .ids file computed independently with sha256sum and tar.

load helpers

id_of() {
    lb inspect --format '{{.Id}}' "$1"
}

# Every layer record of a fixture: layers/<chain>/meta.json has its DiffID and the unpacked size
# the fixture computed (sum of file sizes), and every blob is named by its content's digest.
check_store_against_ids() {
    local -a chains diffs sizes
    read -r -a chains <<<"$CHAIN_IDS"
    read -r -a diffs <<<"$DIFF_IDS"
    read -r -a sizes <<<"$LAYER_SIZES"
    local i meta
    for i in "${!chains[@]}"; do
        meta=$LB_ROOT/layers/${chains[i]#sha256:}/meta.json
        [ -f "$meta" ] || { echo "no layer record $meta" >&2; return 1; }
        assert_equal "$(jq -r .diff_id "$meta")" "${diffs[i]}" "diff_id of layer $i" || return 1
        assert_equal "$(jq -r .size "$meta")" "${sizes[i]}" "size of layer $i" || return 1
    done
    local f
    for f in "$LB_ROOT"/images/blobs/sha256/*; do
        assert_equal "$(sha256sum <"$f" | cut -d' ' -f1)" "$(basename "$f")" "blob name" || return 1
    done
    [ -z "$(ls -A "$LB_ROOT/tmp")" ] || { echo "tmp/ is not empty" >&2; return 1; }
}

@test "load of each busybox fixture form gives the fixture's image ID and layers" {
    load_fixture_ids busybox
    for form in busybox.docker.tar busybox.docker25.tar busybox.oci.tar busybox.oci; do
        rm -rf "$LB_ROOT"
        run lb load -i "$(fixture "$form")"
        assert_equal "$status" 0 "$form: $output"
        # docker-archives carry the tag; the OCI fixtures only say ref.name "latest", which names
        # no repository, so the image stays untagged (as docker does)
        case $form in
        *.docker*) assert_equal "$output" "Loaded image: $REPO_TAG" "$form" ;;
        *) assert_equal "$output" "Loaded image ID: $IMAGE_ID" "$form" ;;
        esac
        run id_of "$IMAGE_ID"
        assert_equal "$output" "$IMAGE_ID" "$form"
        check_store_against_ids
    done
}

@test "load of each three-layer fixture form gives the fixture's image ID, chain IDs and sizes" {
    load_fixture_ids three-layer
    for form in three-layer.docker.tar three-layer.docker25.tar three-layer.oci.tar \
        three-layer.oci three-layer.docker.tar.gz three-layer.docker.tar.zst; do
        rm -rf "$LB_ROOT"
        run lb load -i "$(fixture "$form")"
        assert_equal "$status" 0 "$form: $output"
        run id_of "$IMAGE_ID"
        assert_equal "$output" "$IMAGE_ID" "$form"
        check_store_against_ids
        run lb inspect --format '{{.Size}}' "$IMAGE_ID"
        assert_equal "$output" "$IMAGE_SIZE" "$form"
    done
}

@test "a docker-archive's generated manifest is docker 25's, byte for byte" {
    load_fixture_ids busybox
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    # the fixture's docker 25 archive holds the manifest docker writes; ours must be the same
    [ -f "$LB_ROOT/images/blobs/sha256/${DOCKER25_MANIFEST_DIGEST#sha256:}" ]
    run jq -r '.manifests[0].digest' "$LB_ROOT/images/index.json"
    assert_equal "$output" "$DOCKER25_MANIFEST_DIGEST"
}

@test "an OCI archive keeps its manifest and gzip layers as they were" {
    load_fixture_ids busybox
    lb load -i "$(fixture busybox.oci.tar)" >/dev/null
    run jq -r '.manifests[0].digest' "$LB_ROOT/images/index.json"
    assert_equal "$output" "$MANIFEST_DIGEST"
    cmp "$LB_ROOT/images/blobs/sha256/${LAYER_DIGESTS#sha256:}" \
        "$(fixture busybox.oci)/blobs/sha256/${LAYER_DIGESTS#sha256:}"
}

@test "load reads standard input: redirected, piped, and with -i -" {
    load_fixture_ids three-layer
    run lb load <"$(fixture three-layer.docker.tar.zst)"
    assert_equal "$status" 0
    assert_equal "$output" "Loaded image: $REPO_TAG"
    rm -rf "$LB_ROOT"
    run bash -c 'cat "$1" | "$LAYERBOX" --root "$LB_ROOT" load -i -' _ "$(fixture three-layer.oci.tar)"
    assert_equal "$status" 0
    assert_equal "$output" "Loaded image ID: $IMAGE_ID"
    check_store_against_ids
}

@test "load -q still prints docker's Loaded image lines" {
    load_fixture_ids busybox
    run lb load -q -i "$(fixture busybox.docker25.tar)"
    assert_equal "$status" 0
    assert_equal "$output" "Loaded image: $REPO_TAG"
    run lb load --quiet --input "$(fixture busybox.docker25.tar)"
    assert_equal "$output" "Loaded image: $REPO_TAG"
}

@test "loading the same archive twice changes nothing the second time" {
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    before=$(store_snapshot "$LB_ROOT")
    run lb load -i "$(fixture three-layer.docker.tar)"
    assert_equal "$status" 0
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "the same image from another archive form is the same image: one ID, names added" {
    load_fixture_ids busybox
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    lb load -i "$(fixture busybox.oci.tar)" >/dev/null
    run lb images -q --no-trunc
    assert_equal "$output" "$IMAGE_ID"
}

@test "a tag that moves to a new image is reported as docker does" {
    load_fixture_ids busybox
    old=$IMAGE_ID
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    lb tag "$REPO_TAG" layerbox-fixtures/three-layer:latest
    load_fixture_ids three-layer
    run lb load -i "$(fixture three-layer.docker.tar)"
    assert_equal "$status" 0
    assert_equal "${lines[0]}" "The image $REPO_TAG already exists, renaming the old one with ID $old to empty string"
    assert_equal "${lines[1]}" "Loaded image: $REPO_TAG"
    run id_of "$REPO_TAG"
    assert_equal "$output" "$IMAGE_ID"
}

@test "--explain narrates staging, hashing, verifying and publishing" {
    run --separate-stderr lb --explain load -i "$(fixture three-layer.oci.tar)"
    assert_equal "$status" 0
    assert_output_contains --stderr "[load] staged 'index.json'"
    assert_output_contains --stderr "hashed while writing"
    assert_output_contains --stderr "[load] format: OCI image layout"
    assert_output_contains --stderr "is gzip-compressed"
    assert_output_contains --stderr "DiffID matches rootfs.diff_ids[2]"
    assert_output_contains --stderr "[store] everything verified; took the store lock"
    assert_output_contains --stderr "[layer] unpacked 'blobs/sha256/"
    assert_output_contains --stderr "into tmp/layer-"
    assert_output_contains --stderr "[layer] synced the store's file system once (syncfs)"
    assert_output_contains --stderr "[store] stored blob"
    assert_output_contains --stderr "[layer] published layer"
    # and stdout is only the result
    assert_line_count 1
}

@test "load --help prints the usage and changes nothing" {
    run lb load --help
    assert_equal "$status" 0
    assert_output_contains "Usage:  layerbox load [OPTIONS]"
    assert_output_contains "--input"
    [ ! -e "$LB_ROOT" ]
}

@test "load with an unknown flag or an argument is a usage error (exit 125)" {
    must_fail -c 125 lb load --nope
    assert_one_line_error "unknown flag: --nope"
    must_fail -c 125 lb load "$(fixture busybox.docker.tar)"
    assert_one_line_error '"load" accepts no arguments'
    must_fail -c 125 lb load -i
    assert_one_line_error "flag needs an argument"
}

@test "load of a file that does not exist is a one-line error" {
    must_fail -c 1 lb load -i "$LB_TMP/nope.tar"
    assert_one_line_error "cannot open '$LB_TMP/nope.tar': No such file or directory"
}

@test "load from a terminal refuses like docker" {
    require_tool script
    run script -qec "$LAYERBOX --root $LB_ROOT load" /dev/null
    [ "$status" -ne 0 ]
    assert_output_contains "requested load from stdin, but stdin is empty"
}

# --- unpacking (issue 3): every layer lands in layers/<ChainID>/diff --------------------------

# The three-layer image's layers as fixtures/README.md describes them, one diff/ per ChainID,
# whiteouts in the vfs driver's format (the .wh. marker files themselves).
assert_three_layer_diffs_vfs() {
    local -a chains
    read -r -a chains <<<"$CHAIN_IDS"
    local l1=$LB_ROOT/layers/${chains[0]#sha256:}/diff l2=$LB_ROOT/layers/${chains[1]#sha256:}/diff
    local l3=$LB_ROOT/layers/${chains[2]#sha256:}/diff
    assert_equal "$(cd "$l1" && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort)" "data d
data/change.txt f
data/hard1.txt f
data/hard2.txt f
data/keep.txt f
data/link l
data/remove.txt f
data/run.sh f
etc d
etc/motd f
etc/os-release f
opaque d
opaque/old1 f
opaque/old2 f" "layer 1" || return 1
    assert_equal "$(cat "$l1/data/change.txt")" "change: version 1, from layer 1" || return 1
    assert_equal "$(cat "$l1/etc/motd")" "motd: from layer 1, deleted by layer 3" || return 1
    assert_equal "$(readlink "$l1/data/link")" keep.txt || return 1
    assert_equal "$(stat -c %i "$l1/data/hard1.txt")" "$(stat -c %i "$l1/data/hard2.txt")" \
        "hard1 and hard2 are one inode" || return 1
    assert_equal "$(stat -c %a "$l1/data/run.sh")" 644 "run.sh in layer 1" || return 1
    assert_equal "$(cd "$l2" && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort)" "data d
data/.wh.remove.txt f
data/change.txt f
data/new.txt f
opaque d
opaque/.wh..wh..opq f
opaque/fresh f" "layer 2" || return 1
    assert_equal "$(cat "$l2/data/change.txt")" "change: version 2, from layer 2" || return 1
    assert_equal "$(cat "$l2/data/new.txt")" "new: added by layer 2" || return 1
    assert_equal "$(cd "$l3" && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort)" "data d
data/run.sh f
data/third.txt f
etc d
etc/.wh.motd f" "layer 3" || return 1
    assert_equal "$(stat -c %a "$l3/data/run.sh")" 755 "run.sh in layer 3" || return 1
    assert_equal "$(cat "$l3/data/third.txt")" "third: added by layer 3"
}

# meta.json of each layer: its DiffID, its parent's ChainID and the size the fixture computed.
assert_layer_meta() {
    local -a chains diffs sizes
    read -r -a chains <<<"$CHAIN_IDS"
    read -r -a diffs <<<"$DIFF_IDS"
    read -r -a sizes <<<"$LAYER_SIZES"
    local i meta parent
    for i in "${!chains[@]}"; do
        meta=$LB_ROOT/layers/${chains[i]#sha256:}/meta.json
        [ -d "$LB_ROOT/layers/${chains[i]#sha256:}/diff" ] || { echo "no diff/ for layer $i" >&2; return 1; }
        assert_equal "$(jq -r .chain_id "$meta")" "${chains[i]}" "chain_id of layer $i" || return 1
        assert_equal "$(jq -r .diff_id "$meta")" "${diffs[i]}" "diff_id of layer $i" || return 1
        assert_equal "$(jq -r .size "$meta")" "${sizes[i]}" "size of layer $i" || return 1
        parent=null
        [ "$i" -eq 0 ] || parent=${chains[i - 1]}
        assert_equal "$(jq -r .parent "$meta")" "$parent" "parent of layer $i" || return 1
    done
}

@test "load unpacks each three-layer layer into layers/<ChainID>/diff, as the fixture says" {
    load_fixture_ids three-layer
    for form in three-layer.docker.tar three-layer.docker25.tar three-layer.oci.tar \
        three-layer.oci three-layer.docker.tar.zst; do
        rm -rf "$LB_ROOT"
        lb --storage-driver vfs info >/dev/null
        run lb load -i "$(fixture "$form")"
        assert_equal "$status" 0 "$form: $output"
        assert_three_layer_diffs_vfs
        assert_layer_meta
        first=${CHAIN_IDS%% *}
        assert_equal "$(jq -r .format "$LB_ROOT/layers/${first#sha256:}/meta.json")" files \
            "whiteout format of $form"
        assert_equal "$(ls -A "$LB_ROOT/tmp")" "" "tmp/ after loading $form"
    done
}

@test "with the overlay driver, whiteouts are 0/0 devices and the opaque marker an xattr" {
    require_overlay
    load_fixture_ids three-layer
    lb --storage-driver overlay info >/dev/null
    lb load -i "$(fixture three-layer.oci.tar)" >/dev/null
    local -a chains
    read -r -a chains <<<"$CHAIN_IDS"
    local l2=$LB_ROOT/layers/${chains[1]#sha256:}/diff l3=$LB_ROOT/layers/${chains[2]#sha256:}/diff
    assert_equal "$(stat -c '%F %t:%T' "$l2/data/remove.txt")" "character special file 0:0"
    assert_equal "$(stat -c '%F %t:%T' "$l3/etc/motd")" "character special file 0:0"
    [ ! -e "$l2/data/.wh.remove.txt" ] && [ ! -e "$l2/opaque/.wh..wh..opq" ]
    if command -v getfattr >/dev/null 2>&1; then
        assert_equal "$(getfattr --absolute-names -n trusted.overlay.opaque --only-values \
            "$l2/opaque")" y "opaque xattr"
    fi
    assert_equal "$(jq -r .format "$LB_ROOT/layers/${chains[1]#sha256:}/meta.json")" overlay
}

@test "loading an image whose blobs the store has skips them and unpacks nothing" {
    require_tool strace
    load_fixture_ids busybox
    for form in busybox.docker25.tar busybox.oci.tar; do
        rm -rf "$LB_ROOT"
        lb load -i "$(fixture "$form")" >/dev/null
        before=$(store_snapshot "$LB_ROOT")
        inode=$(stat -c %i "$LB_ROOT/layers/${CHAIN_IDS#sha256:}/diff")
        # No layer staging directory is made (strace sees every mkdir); the small files that are
        # not named by a digest (index.json, manifest.json...) are still staged to be read.
        run --separate-stderr strace -f -qq -e trace=mkdir,mkdirat -o "$LB_TMP/trace" \
            "$LAYERBOX" --root "$LB_ROOT" --explain load -i "$(fixture "$form")"
        assert_equal "$status" 0 "$form: $stderr"
        case $form in
        *.docker*) assert_equal "$output" "Loaded image: $REPO_TAG" "$form" ;;
        *) assert_equal "$output" "Loaded image ID: $IMAGE_ID" "$form" ;;
        esac
        if grep -E 'tmp/layer-' "$LB_TMP/trace" >&2; then
            echo "$form: the second load made a layer staging directory" >&2
            return 1
        fi
        grep -q 'mkdir' "$LB_TMP/trace" || { echo "strace saw no mkdir at all" >&2; return 1; }
        # docker 25 stores the layer uncompressed (named by its DiffID), OCI gzip-compressed
        blob=$LAYER_DIGESTS
        [[ $form != *docker25* ]] || blob=$DIFF_IDS
        assert_output_contains --stderr \
            "'blobs/sha256/${blob#sha256:}' is named by its digest and the store has that blob already: not read"
        [[ $stderr != *"[layer] unpacked"* ]] || { echo "$form: unpacked again" >&2; return 1; }
        assert_output_contains --stderr "already unpacked as layers/${CHAIN_IDS#sha256:}: shared"
        assert_equal "$(stat -c %i "$LB_ROOT/layers/${CHAIN_IDS#sha256:}/diff")" "$inode"
        assert_equal "$(store_snapshot "$LB_ROOT")" "$before" "store after the second load"
    done
}

# make_image DIR NAME LAYER...: a docker-archive (legacy layout) of the layer tars, its config
# naming their DiffIDs (sha256sum), written to DIR/NAME.tar. Prints nothing.
make_image() {
    local dir=$1 name=$2 i=0 l ids="" layers=""
    shift 2
    mkdir -p "$dir/$name" || return 1
    for l in "$@"; do
        i=$((i + 1))
        mkdir -p "$dir/$name/l$i" && cp "$l" "$dir/$name/l$i/layer.tar" || return 1
        ids+="${ids:+,}\"sha256:$(sha256sum <"$l" | cut -d' ' -f1)\""
        layers+="${layers:+,}\"l$i/layer.tar\""
    done
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
        "$ids" >"$dir/$name/config.json" || return 1
    printf '[{"Config":"config.json","RepoTags":["lb-test/%s:1"],"Layers":[%s]}]' \
        "$name" "$layers" >"$dir/$name/manifest.json" || return 1
    tar -C "$dir/$name" -cf "$dir/$name.tar" . || return 1
}

@test "two images sharing a base layer: the base is unpacked once, on disk once" {
    # a 4 MB base of incompressible bytes, so a second copy would show in du
    mkdir -p "$LB_TMP/base/opt" "$LB_TMP/top/etc"
    head -c 4194304 /dev/urandom >"$LB_TMP/base/opt/big.bin"
    echo "only in the second image" >"$LB_TMP/top/etc/top.txt"
    tar -C "$LB_TMP/base" --sort=name -cf "$LB_TMP/base.tar" .
    tar -C "$LB_TMP/top" --sort=name -cf "$LB_TMP/top.tar" .
    make_image "$LB_TMP" one "$LB_TMP/base.tar"
    make_image "$LB_TMP" two "$LB_TMP/base.tar" "$LB_TMP/top.tar"
    base=sha256:$(sha256sum <"$LB_TMP/base.tar" | cut -d' ' -f1)
    top=sha256:$(sha256sum <"$LB_TMP/top.tar" | cut -d' ' -f1)
    chain2=sha256:$(printf '%s %s' "$base" "$top" | sha256sum | cut -d' ' -f1)

    lb load -i "$LB_TMP/one.tar" >/dev/null
    kb1=$(du -sk "$LB_ROOT/layers" | cut -f1)
    run --separate-stderr lb --explain load -i "$LB_TMP/two.tar"
    assert_equal "$status" 0 "$stderr"
    assert_output_contains --stderr "already unpacked as layers/${base#sha256:}: shared"
    kb2=$(du -sk "$LB_ROOT/layers" | cut -f1)
    # one layer directory per ChainID: the base once, and the second image's top on it
    assert_equal "$(cd "$LB_ROOT/layers" && find . -mindepth 1 -maxdepth 1 -name '[0-9a-f]*' -printf '%P\n' |
        LC_ALL=C sort)" "$(printf '%s\n%s' "${base#sha256:}" "${chain2#sha256:}" | LC_ALL=C sort)"
    assert_equal "$(find "$LB_ROOT/layers" -name big.bin | wc -l)" 1 "copies of big.bin"
    [ $((kb2 - kb1)) -lt 1024 ] || { echo "layers/ grew by $((kb2 - kb1)) KB" >&2; return 1; }
    assert_equal "$(jq -r .parent "$LB_ROOT/layers/${chain2#sha256:}/meta.json")" "$base"
    cmp "$LB_ROOT/layers/${base#sha256:}/diff/opt/big.bin" "$LB_TMP/base/opt/big.bin"
    assert_equal "$(cat "$LB_ROOT/layers/${chain2#sha256:}/diff/etc/top.txt")" "only in the second image"
}
