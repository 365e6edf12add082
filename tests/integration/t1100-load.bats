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
    assert_output_contains --stderr "[store] stored blob"
    assert_output_contains --stderr "[store] recorded layer"
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
