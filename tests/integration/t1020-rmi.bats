#!/usr/bin/env bats
# layerbox rmi: docker's semantics. A name with other names left is only untagged; the last name
# (or the ID of an image with one name) untags and deletes, freeing blobs and layer records no
# other image uses; the ID of an image with several names needs -f; a missing image is reported
# and the others are still removed (exit 1 at the end).

load helpers

setup() {
    lb_setup
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    load_fixture_ids busybox
    BB_ID=$IMAGE_ID
    BB_NAME=$REPO_TAG
    BB_CHAINS=$CHAIN_IDS
}

blob_count() {
    find "$LB_ROOT/images/blobs/sha256" -type f | wc -l
}

@test "removing one of two names only untags" {
    lb tag "$BB_NAME" other:1
    before=$(store_snapshot "$LB_ROOT/images/blobs")
    run lb rmi other:1
    assert_equal "$status" 0
    assert_equal "$output" "Untagged: other:1"
    assert_equal "$(store_snapshot "$LB_ROOT/images/blobs")" "$before" "blobs untouched"
    run lb inspect --format '{{.Id}}' "$BB_NAME"
    assert_equal "$output" "$BB_ID"
    must_fail -c 1 lb inspect other:1
}

@test "removing the last name deletes the image, its blobs and its layer records" {
    # Independently: what the store holds before (the config blob is the image ID's file, each
    # layer has a record under layers/<chain ID>).
    mapfile -t blobs < <(find "$LB_ROOT/images/blobs/sha256" -type f)
    [ "${#blobs[@]}" -ge 3 ]
    [ -f "$LB_ROOT/images/blobs/sha256/${CONFIG_DIGEST#sha256:}" ]
    for c in $BB_CHAINS; do [ -d "$LB_ROOT/layers/${c#sha256:}" ]; done
    run lb rmi "$BB_NAME"
    assert_equal "$status" 0
    assert_equal "$output" "$(printf 'Untagged: %s\nDeleted: %s' "$BB_NAME" "$BB_ID")"
    for b in "${blobs[@]}"; do [ ! -e "$b" ]; done
    for c in $BB_CHAINS; do [ ! -e "$LB_ROOT/layers/${c#sha256:}" ]; done
    assert_equal "$(blob_count)" 0
    run lb images -q
    assert_equal "$output" ""
}

@test "a familiar name untags the full name it stands for" {
    lb tag "$BB_NAME" busybox
    run lb rmi docker.io/library/busybox:latest
    assert_equal "$output" "Untagged: busybox:latest"
    lb tag "$BB_NAME" busybox
    run lb rmi busybox
    assert_equal "$output" "Untagged: busybox:latest"
}

@test "an ID (or unique prefix) of an image with one name untags and deletes it" {
    hex=${BB_ID#sha256:}
    run lb rmi "${hex:0:5}"
    assert_equal "$status" 0
    assert_equal "$output" "$(printf 'Untagged: %s\nDeleted: %s' "$BB_NAME" "$BB_ID")"
    assert_equal "$(blob_count)" 0
}

@test "an ID of an image with several names is a conflict unless -f" {
    lb tag "$BB_NAME" second:2
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb rmi "$BB_ID"
    assert_one_line_error "conflict: unable to delete ${BB_ID:7:12} (must be forced) - image is referenced in multiple repositories"
    assert_equal "$output" ""
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"

    run lb rmi -f "$BB_ID"
    assert_equal "$status" 0
    # Both names go (in the store's order), then the image.
    assert_equal "$(printf '%s\n' "${lines[0]}" "${lines[1]}" | sort)" \
        "$(printf '%s\n' "Untagged: $BB_NAME" "Untagged: second:2" | sort)"
    assert_equal "${lines[2]}" "Deleted: $BB_ID"
    assert_equal "${#lines[@]}" 3
    assert_equal "$(blob_count)" 0
}

@test "an untagged image is deleted by ID with only a Deleted line" {
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    load_fixture_ids three-layer
    lb tag "$IMAGE_ID" "$BB_NAME" # busybox loses its only name
    run lb rmi "${BB_ID#sha256:}"
    assert_equal "$status" 0
    assert_equal "$output" "Deleted: $BB_ID"
}

@test "a layer shared by several images stays until the last of them goes" {
    # three-layer's first layer, imported twice more: three images share one layer blob (the
    # docker-archive and import both store it uncompressed, so its name is its sha256).
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    load_fixture_ids three-layer
    cp "$(fixture three-layer-layer1.tar)" "$LB_TMP/l.tar"
    lb import "$LB_TMP/l.tar" first:1 >/dev/null
    sleep 1.1 # a different "created" second, so a different config and image ID
    lb import "$LB_TMP/l.tar" second:1 >/dev/null
    layer=$(sha256sum "$LB_TMP/l.tar")
    layer=${layer%% *}
    blob=$LB_ROOT/images/blobs/sha256/$layer
    [ -f "$blob" ]
    lb rmi first:1 >/dev/null
    [ -f "$blob" ]
    [ -d "$LB_ROOT/layers/$layer" ]
    lb rmi second:1 >/dev/null
    [ -f "$blob" ]
    lb rmi "$REPO_TAG" >/dev/null
    [ ! -e "$blob" ]
    [ ! -e "$LB_ROOT/layers/$layer" ]
}

@test "a missing image is reported, the others are still removed, and the exit code is 1" {
    lb tag "$BB_NAME" keep:1
    must_fail -c 1 lb rmi nosuch keep:1
    assert_one_line_error "no such image: 'nosuch'"
    assert_equal "$output" "Untagged: keep:1"
    must_fail -c 1 lb rmi nosuch1 "$BB_NAME" nosuch2
    assert_equal "$output" "$(printf 'Untagged: %s\nDeleted: %s' "$BB_NAME" "$BB_ID")"
    assert_equal "$stderr" "$(printf "layerbox: no such image: 'nosuch1'\nlayerbox: no such image: 'nosuch2'")"
}

@test "bad arguments fail with one line and change nothing" {
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 125 lb rmi
    assert_one_line_error "\"rmi\" requires at least 1 argument"
    must_fail -c 125 lb rmi --bogus "$BB_NAME"
    assert_one_line_error "unknown flag: --bogus"
    must_fail -c 1 lb rmi Busybox
    assert_one_line_error "invalid reference format"
    must_fail -c 1 lb rmi ""
    assert_one_line_error "invalid reference format"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}
