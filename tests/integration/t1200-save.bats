#!/usr/bin/env bats
# layerbox save: docker-archive is docker 25's layout with plain layers (compared file by file with
# the fixture's independently assembled docker 25 archive), oci-archive keeps the blobs as
# stored; both load back with the same image ID; shared layers are written once; output goes to
# -o through a temp file (nothing left behind on failure) or to a redirected stdout.

load helpers

id_of() {
    lb inspect --format '{{.Id}}' "$1"
}

# Extract a tar into a new directory; prints the directory.
untar() {
    local d
    d=$(mktemp -d "$LB_TMP/x.XXXXXX") || return 1
    tar -xf "$1" -C "$d" || return 1
    echo "$d"
}

@test "save of busybox is, file for file, the fixture's docker 25 archive" {
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    load_fixture_ids busybox
    lb save -o "$LB_TMP/bb.tar" "$REPO_TAG"
    ours=$(untar "$LB_TMP/bb.tar")
    theirs=$(untar "$(fixture busybox.docker25.tar)")
    diff -r "$ours" "$theirs"
    # the layer is named by its DiffID, and the manifest is the one the fixture computed
    [ -f "$ours/blobs/sha256/${DIFF_IDS#sha256:}" ]
    [ -f "$ours/blobs/sha256/${DOCKER25_MANIFEST_DIGEST#sha256:}" ]
}

@test "save of a gzip-layered image writes plain layers named by their DiffIDs" {
    lb load -i "$(fixture three-layer.oci.tar)" >/dev/null
    load_fixture_ids three-layer
    lb save -o "$LB_TMP/tl.tar" "$IMAGE_ID"
    d=$(untar "$LB_TMP/tl.tar")
    theirs=$(untar "$(fixture three-layer.docker25.tar)")
    for diff in $DIFF_IDS; do
        hex=${diff#sha256:}
        assert_equal "$(sha256sum <"$d/blobs/sha256/$hex" | cut -d' ' -f1)" "$hex"
    done
    run jq -r '.[0].Layers | join(" ")' "$d/manifest.json"
    assert_equal "$output" "$(for x in $DIFF_IDS; do printf 'blobs/sha256/%s ' "${x#sha256:}"; done | sed 's/ $//')"
    # saved by ID: untagged, as docker does
    run jq -c '.[0].RepoTags' "$d/manifest.json"
    assert_equal "$output" "null"
    [ ! -e "$d/repositories" ]
    # the same blobs as docker 25 writes for this image
    diff -r "$d/blobs" "$theirs/blobs"
}

@test "save then load into another store gives the same IDs (both formats)" {
    lb load -i "$(fixture busybox.oci.tar)" >/dev/null
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    load_fixture_ids busybox
    bb=$IMAGE_ID
    load_fixture_ids three-layer
    tl=$IMAGE_ID
    for fmt in docker-archive oci-archive; do
        lb save --format "$fmt" -o "$LB_TMP/$fmt.tar" "$bb" layerbox-fixtures/three-layer
        run "$LAYERBOX" --root "$LB_TMP/other-$fmt" load -i "$LB_TMP/$fmt.tar"
        assert_equal "$status" 0
        assert_equal "${lines[0]}" "Loaded image ID: $bb" "$fmt"
        assert_equal "${lines[1]}" "Loaded image: layerbox-fixtures/three-layer:latest" "$fmt"
        run "$LAYERBOX" --root "$LB_TMP/other-$fmt" inspect --format '{{.Id}}' layerbox-fixtures/three-layer
        assert_equal "$output" "$tl" "$fmt"
        run "$LAYERBOX" --root "$LB_TMP/other-$fmt" inspect --format '{{.Id}}' "$bb"
        assert_equal "$output" "$bb" "$fmt"
    done
}

@test "oci-archive keeps blobs as stored and names images with both annotations" {
    lb load -i "$(fixture busybox.oci.tar)" >/dev/null
    load_fixture_ids busybox
    lb tag "$IMAGE_ID" "$REPO_TAG"
    lb save --format oci-archive -o "$LB_TMP/o.tar" "$REPO_TAG"
    d=$(untar "$LB_TMP/o.tar")
    diff -r "$d/blobs" "$(fixture busybox.oci)/blobs"
    diff "$d/oci-layout" "$(fixture busybox.oci)/oci-layout"
    run jq -r '.manifests[0] | [.digest, .annotations["io.containerd.image.name"], .annotations["org.opencontainers.image.ref.name"]] | join(" ")' "$d/index.json"
    assert_equal "$output" "$MANIFEST_DIGEST docker.io/$REPO_TAG latest"
    [ ! -e "$d/manifest.json" ]
}

@test "two images sharing a base layer: the layer is written once" {
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    load_fixture_ids busybox
    # an import of the same root file system has the same DiffID: a shared layer
    lb import -c 'CMD ["/bin/true"]' "$(fixture busybox-rootfs.tar.gz)" second:1 >/dev/null
    for fmt in docker-archive oci-archive; do
        lb save --format "$fmt" -o "$LB_TMP/two.tar" "$REPO_TAG" second:1
        run tar -tf "$LB_TMP/two.tar"
        n=$(grep -c "^blobs/sha256/${DIFF_IDS#sha256:}\$" <<<"$output")
        assert_equal "$n" 1 "$fmt: entries of the shared layer"
        run jq '.manifests | length' <(tar -xOf "$LB_TMP/two.tar" index.json)
        assert_equal "$output" 2 "$fmt"
    done
}

@test "save is deterministic: the same bytes twice, mtime 0, owner 0:0" {
    lb load -i "$(fixture three-layer.oci.tar)" >/dev/null
    load_fixture_ids three-layer
    lb save -o "$LB_TMP/a.tar" "$IMAGE_ID"
    sleep 1
    lb save -o "$LB_TMP/b.tar" "$IMAGE_ID"
    cmp "$LB_TMP/a.tar" "$LB_TMP/b.tar"
    run tar --numeric-owner -tvf "$LB_TMP/a.tar"
    run grep -v ' 0/0 .* 1970-01-01 00:00 ' <<<"$output"
    assert_equal "$output" ""
}

@test "save without -o writes to a redirected stdout" {
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    load_fixture_ids busybox
    lb save "$REPO_TAG" >"$LB_TMP/out.tar"
    lb save -o "$LB_TMP/file.tar" "$REPO_TAG"
    cmp "$LB_TMP/out.tar" "$LB_TMP/file.tar"
}

@test "save refuses to write to a terminal, like docker" {
    require_tool script
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    run script -qec "$LAYERBOX --root $LB_ROOT save layerbox-fixtures/busybox" /dev/null
    [ "$status" -ne 0 ]
    assert_output_contains "cowardly refusing to save to a terminal. Use the -o flag or redirect"
}

@test "save of a repository named without a tag saves all its tags, as docker does" {
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    load_fixture_ids busybox
    lb tag "$REPO_TAG" multi:b
    lb tag "$REPO_TAG" multi:a
    lb tag "$REPO_TAG" other:a
    lb save -o "$LB_TMP/all.tar" multi
    run jq -r '.[].RepoTags[]' <(tar -xOf "$LB_TMP/all.tar" manifest.json)
    assert_equal "$output" "multi:a
multi:b"
    lb save -o "$LB_TMP/one.tar" multi:b
    run jq -r '.[].RepoTags[]' <(tar -xOf "$LB_TMP/one.tar" manifest.json)
    assert_equal "$output" "multi:b"
    # a repository with no tag here is still an unknown image
    must_fail -c 1 lb save -o "$LB_TMP/none.tar" nosuchrepo
    assert_one_line_error "no such image: 'nosuchrepo'"
    [ ! -e "$LB_TMP/none.tar" ]
}

@test "save of an unknown image fails and writes no file" {
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    must_fail -c 1 lb save -o "$LB_TMP/x.tar" layerbox-fixtures/busybox nosuch:image
    assert_one_line_error "no such image: 'nosuch:image'"
    assert_equal "$(ls -A "$LB_TMP")" ""
}

@test "save to an unwritable -o is a clear error and leaves nothing behind" {
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    must_fail -c 1 lb save -o "$LB_TMP/no/such/dir/x.tar" layerbox-fixtures/busybox
    assert_one_line_error "cannot write '$LB_TMP/no/such/dir/x.tar': No such file or directory"
    touch "$LB_TMP/file"
    must_fail -c 1 lb save -o "$LB_TMP/file/x.tar" layerbox-fixtures/busybox
    assert_one_line_error "cannot write '$LB_TMP/file/x.tar': Not a directory"
    assert_equal "$(ls -A "$LB_TMP")" "file"
}

@test "a save that fails halfway removes its temp file and keeps an existing -o" {
    lb load -i "$(fixture three-layer.oci.tar)" >/dev/null
    load_fixture_ids three-layer
    echo previous >"$LB_TMP/out.tar"
    # corrupt the last gzip layer in the store: it no longer decompresses to its DiffID
    read -r -a digests <<<"$LAYER_DIGESTS"
    blob=$LB_ROOT/images/blobs/sha256/${digests[2]#sha256:}
    gzip -c /etc/hostname >"$blob"
    must_fail -c 1 lb save -o "$LB_TMP/out.tar" "$IMAGE_ID"
    assert_one_line_error "not to its DiffID"
    assert_equal "$(ls -A "$LB_TMP")" "out.tar"
    assert_equal "$(cat "$LB_TMP/out.tar")" "previous"
}

@test "save usage errors: no image, unknown flag, unknown format (exit 125)" {
    must_fail -c 125 lb save -o "$LB_TMP/x.tar"
    assert_one_line_error '"save" requires at least 1 argument'
    must_fail -c 125 lb save --nope x
    assert_one_line_error "unknown flag: --nope"
    must_fail -c 125 lb save --format zip -o "$LB_TMP/x.tar" x
    assert_one_line_error "unknown archive format 'zip'"
    assert_equal "$(ls -A "$LB_TMP")" ""
}

@test "save --help prints the usage" {
    run lb save --help
    assert_equal "$status" 0
    assert_output_contains "Usage:  layerbox save [OPTIONS] IMAGE [IMAGE...]"
    assert_output_contains "--format"
}
