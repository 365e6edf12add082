#!/usr/bin/env bats
# Interop with podman and skopeo: archives they wrote load with the image ID podman showed
# (fixtures/interop/ids.env), and archives layerbox writes are read by them with the same ID.
# Podman images get unique names and are removed afterwards.

load helpers

setup() {
    lb_setup
    INTEROP=$LB_REPO/fixtures/interop
    # shellcheck source=/dev/null
    source "$INTEROP/ids.env"
    PODMAN_NAME=localhost/lb-t9000-$$-${BATS_TEST_NUMBER}
    PODMAN_IMAGES=()
}

teardown() {
    local n
    for n in "${PODMAN_IMAGES[@]}"; do
        podman rmi -f "$n" >/dev/null 2>&1 || true
    done
    lb_teardown
}

# An image of our own to hand to the peers: the busybox rootfs with a unique name.
make_image() {
    lb import -c 'CMD ["/bin/sh"]' "$(fixture busybox-rootfs.tar.gz)" "$PODMAN_NAME:1"
}

@test "podman's docker-archive loads with podman's image ID and name" {
    run lb load -i "$INTEROP/podman-docker-archive.tar"
    assert_equal "$status" 0
    assert_equal "$output" "Loaded image: $REPO_TAG"
    run lb inspect --format '{{.Id}}' "$REPO_TAG"
    assert_equal "$output" "$IMAGE_ID"
    meta=$LB_ROOT/layers/${DIFF_ID#sha256:}/meta.json
    assert_equal "$(jq -r .diff_id "$meta")" "$DIFF_ID"
}

@test "podman's and skopeo's OCI archives load with the same image ID" {
    run lb load -i "$INTEROP/podman-oci-archive.tar"
    assert_equal "$status" 0
    assert_equal "$output" "Loaded image: $REPO_TAG"
    run jq -r '.manifests[0].digest' "$LB_ROOT/images/index.json"
    assert_equal "$output" "$PODMAN_OCI_MANIFEST_DIGEST"
    rm -rf "$LB_ROOT"
    # skopeo's ref.name "lb-interop:1" has no '/': not a full name, so the image is untagged
    run lb load -i "$INTEROP/skopeo-oci-archive.tar"
    assert_equal "$status" 0
    assert_equal "$output" "Loaded image ID: $IMAGE_ID"
    run jq -r '.manifests[0].digest' "$LB_ROOT/images/index.json"
    assert_equal "$output" "$SKOPEO_OCI_MANIFEST_DIGEST"
}

@test "podman load of layerbox's docker-archive shows the same image ID" {
    require_tool podman
    id=$(make_image)
    lb save -o "$LB_TMP/d.tar" "$PODMAN_NAME:1"
    PODMAN_IMAGES+=("$PODMAN_NAME:1")
    run podman load -i "$LB_TMP/d.tar"
    assert_equal "$status" 0 "podman load: $output"
    run podman image inspect --format '{{.Id}}' "$PODMAN_NAME:1"
    assert_equal "$status" 0
    assert_equal "sha256:$output" "$id"
}

@test "podman load of layerbox's oci-archive shows the same image ID" {
    require_tool podman
    id=$(make_image)
    lb save --format oci-archive -o "$LB_TMP/o.tar" "$PODMAN_NAME:1"
    PODMAN_IMAGES+=("$id")
    run podman load -i "$LB_TMP/o.tar"
    assert_equal "$status" 0 "podman load: $output"
    run podman image inspect --format '{{.Id}}' "${id#sha256:}"
    assert_equal "$status" 0
    assert_equal "sha256:$output" "$id"
}

@test "skopeo reads layerbox's docker-archive and oci-archive: same config, same ID" {
    require_tool skopeo
    lb load -i "$(fixture three-layer.oci.tar)" >/dev/null
    load_fixture_ids three-layer
    lb tag "$IMAGE_ID" "$REPO_TAG"
    lb save -o "$LB_TMP/d.tar" "$REPO_TAG"
    lb save --format oci-archive -o "$LB_TMP/o.tar" "$REPO_TAG"
    run skopeo inspect --raw --config "docker-archive:$LB_TMP/d.tar"
    assert_equal "$status" 0 "skopeo: $output"
    assert_equal "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" "$IMAGE_ID"
    run skopeo inspect --raw --config "oci-archive:$LB_TMP/o.tar:latest"
    assert_equal "$status" 0 "skopeo: $output"
    assert_equal "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" "$IMAGE_ID"
    # and skopeo sees the layers docker-archive must carry: the plain DiffIDs
    run skopeo inspect "docker-archive:$LB_TMP/d.tar"
    assert_equal "$status" 0
    assert_equal "$(jq -r '.Layers | join(" ")' <<<"$output")" "$DIFF_IDS"
}

@test "skopeo copies layerbox's docker-archive to an OCI archive that layerbox loads back" {
    require_tool skopeo
    make_image >/dev/null
    lb save -o "$LB_TMP/d.tar" "$PODMAN_NAME:1"
    run skopeo copy "docker-archive:$LB_TMP/d.tar" "oci-archive:$LB_TMP/copy.tar:$PODMAN_NAME:1"
    assert_equal "$status" 0 "skopeo copy: $output"
    # skopeo gzips the layer and rewrites the config as an OCI config: the image it wrote has
    # the ID of that config, which we read from its index and manifest
    mkdir "$LB_TMP/copy"
    tar -xf "$LB_TMP/copy.tar" -C "$LB_TMP/copy"
    m=$(jq -r '.manifests[0].digest' "$LB_TMP/copy/index.json")
    want=$(jq -r .config.digest "$LB_TMP/copy/blobs/sha256/${m#sha256:}")
    run "$LAYERBOX" --root "$LB_TMP/other" load -i "$LB_TMP/copy.tar"
    assert_equal "$status" 0
    assert_equal "$output" "Loaded image: $PODMAN_NAME:1"
    run "$LAYERBOX" --root "$LB_TMP/other" inspect --format '{{.Id}}' "$PODMAN_NAME:1"
    assert_equal "$output" "$want"
    diff_id=sha256:$(sha256sum <"$(fixture busybox-rootfs.tar)" | cut -d' ' -f1)
    run jq -r '.rootfs.diff_ids[0]' "$LB_TMP/copy/blobs/sha256/${want#sha256:}"
    assert_equal "$output" "$diff_id"
}
