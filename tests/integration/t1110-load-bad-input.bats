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
    # creates the empty store and records its storage driver: load picks the driver (and records
    # it, as any command that needs one does) before it unpacks the first layer
    lb info >/dev/null
    before=$(store_snapshot "$LB_ROOT")
    for f in flipped-byte.tar missing-blob.tar appended-byte.tar bad-diffid.tar; do
        must_fail -c 1 lb load -i "$(fixture "bad/$f")"
    done
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "a bad layer in the middle of an archive leaves no layer, no blob, nothing in tmp/" {
    # layer 1 is good and new to the store (it is unpacked in the pass), layer 2 breaks the
    # layer rules (fixtures/out/evil/dotdot.tar: '../evil'), layer 3 is good
    local d=$LB_TMP/img ids="" i l
    mkdir -p "$d/l1" "$d/l2" "$d/l3" "$LB_TMP/new/data"
    echo "a layer the store does not have" >"$LB_TMP/new/data/new.txt"
    tar -C "$LB_TMP/new" -cf "$d/l1/layer.tar" .
    cp "$(fixture evil/dotdot.tar)" "$d/l2/layer.tar"
    cp "$(fixture three-layer-layer3.tar)" "$d/l3/layer.tar"
    for i in 1 2 3; do
        ids+="${ids:+,}\"sha256:$(sha256sum <"$d/l$i/layer.tar" | cut -d' ' -f1)\""
    done
    printf '{"os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' "$ids" >"$d/c.json"
    printf '[{"Config":"c.json","RepoTags":["bad/middle:1"],"Layers":["l1/layer.tar","l2/layer.tar","l3/layer.tar"]}]' \
        >"$d/manifest.json"
    tar -C "$d" -cf "$LB_TMP/middle.tar" .
    l1=$(sha256sum <"$d/l1/layer.tar" | cut -d' ' -f1)
    for store in existing fresh; do
        if [ $store = fresh ]; then
            rm -rf "$LB_ROOT"
            lb info >/dev/null
        fi
        before=$(store_snapshot "$LB_ROOT")
        must_fail -c 1 lb load -i "$LB_TMP/middle.tar"
        assert_one_line_error \
            "layer 2 of 3 ('l2/layer.tar'): entry '../evil': path leaves the layer ('..')"
        assert_equal "$(store_snapshot "$LB_ROOT")" "$before" "$store store after the load"
        [ ! -e "$LB_ROOT/layers/$l1" ] && [ ! -e "$LB_ROOT/images/blobs/sha256/$l1" ]
        assert_equal "$(ls -A "$LB_ROOT/tmp")" "" "tmp/"
    done
}
