#!/usr/bin/env bats
# layerbox load of broken archives (fixtures/out/bad, each with exactly one defect, see
# fixtures/mkbad.sh): one error line naming the defect, exit 1, and a store byte-for-byte as it
# was — nothing published, nothing left in tmp/.

load helpers

setup() {
    lb_setup
    # a store with an image in it, so that "unchanged" covers blobs, layers and index.json
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
}

# bad_load NAME TEXT: loading bad/NAME fails with one line containing TEXT and changes nothing.
bad_load() {
    local before
    before=$(store_snapshot "$LB_ROOT") || return 1
    must_fail -c 1 lb load -i "$(fixture "bad/$1")" || return 1
    assert_one_line_error "$2" || return 1
    assert_equal "$output" "" "stdout of a failed load" || return 1
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before" "store after loading bad/$1"
}

@test "a truncated archive is refused and the store is unchanged" {
    bad_load truncated.tar "Truncated tar archive"
}

@test "a flipped byte inside a layer is caught by its DiffID" {
    load_fixture_ids busybox
    bad_load flipped-byte.tar "but the image config's rootfs.diff_ids[0] says $DIFF_IDS"
}

@test "an OCI blob one byte longer than its descriptor is refused" {
    load_fixture_ids busybox
    bad_load appended-byte.tar "blob $LAYER_DIGESTS is $((LAYER_BLOB_SIZES + 1)) bytes in the archive but the descriptor says $LAYER_BLOB_SIZES"
}

@test "a layer named in manifest.json but missing from the archive is refused" {
    load_fixture_ids busybox
    bad_load missing-blob.tar "layer '$V1_LAYER_IDS/layer.tar' is missing from"
}

@test "a layer path with '..' is refused before anything is looked up" {
    bad_load dotdot-layer.tar "layer path '../etc/passwd' contains a '..' component"
}

@test "an absolute layer path is refused" {
    bad_load absolute-layer.tar "layer path '/etc/passwd' is absolute"
}

@test "a config path with '..' is refused" {
    bad_load dotdot-config.tar "config path '../x.json' contains a '..' component"
}

@test "a manifest.json that is not JSON is refused" {
    bad_load bad-json.tar "manifest.json is not valid JSON"
}

@test "a manifest.json over the 8 MiB limit is refused" {
    bad_load huge-json.tar "manifest.json is too large ($((9 * 1024 * 1024)) bytes, limit $((8 * 1024 * 1024)))"
}

@test "random bytes are not an archive" {
    bad_load not-a-tar.bin "is not a tar archive"
}

@test "an empty file is not an archive" {
    bad_load empty.tar "is empty: not an image archive"
}

@test "a config whose diff_ids do not match the layer is refused" {
    load_fixture_ids busybox
    bad_load bad-diffid.tar "its DiffID (sha256 of the uncompressed tar) is $DIFF_IDS"
}

@test "an uppercase digest in index.json is refused" {
    bad_load bad-digest-oci.tar "index.json: manifests[0]: invalid digest"
}

@test "a gzip stream of text is not an image archive either" {
    bad_load layer-not-tar.tar "is not a tar archive"
}

@test "every bad archive also fails from standard input, leaving the store unchanged" {
    before=$(store_snapshot "$LB_ROOT")
    for f in "$FIXTURES"/bad/*; do
        run --separate-stderr bash -c '"$LAYERBOX" --root "$LB_ROOT" load <"$1"' _ "$f"
        [ "$status" -eq 1 ] || { echo "$f: exit $status: $stderr" >&2; return 1; }
        assert_one_line_error
    done
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "a bad archive into a fresh store leaves only the empty layout" {
    rm -rf "$LB_ROOT"
    lb images >/dev/null # creates the empty store
    before=$(store_snapshot "$LB_ROOT")
    for f in flipped-byte.tar missing-blob.tar appended-byte.tar bad-diffid.tar; do
        must_fail -c 1 lb load -i "$(fixture "bad/$f")"
    done
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}
