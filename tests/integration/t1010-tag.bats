#!/usr/bin/env bats
# layerbox tag SOURCE TARGET: a tag is a pointer in images/index.json. Tagging copies no blob and
# never changes an image ID; a name that pointed elsewhere moves. A bad TARGET or a missing
# SOURCE is a one-line error (exit 1, as docker) that changes nothing.

load helpers

setup() {
    lb_setup
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    load_fixture_ids busybox
    BB_ID=$IMAGE_ID
    BB_NAME=$REPO_TAG
}

# The image ID a name resolves to, through inspect.
id_of() {
    lb inspect --format '{{.Id}}' "$1"
}

# The store's blobs: a tag must leave them untouched.
blob_listing() {
    store_snapshot "$LB_ROOT/images/blobs"
}

@test "tag by name adds a name to the same image, with :latest by default" {
    blobs=$(blob_listing)
    run lb tag "$BB_NAME" mybox
    assert_equal "$status" 0
    assert_equal "$output" "" "tag prints nothing"
    run id_of mybox:latest
    assert_equal "$output" "$BB_ID"
    run id_of docker.io/library/mybox:latest
    assert_equal "$output" "$BB_ID"
    assert_equal "$(blob_listing)" "$blobs" "no blob was written or removed"
    # The name is an OCI ref.name annotation in index.json, next to the old one.
    run jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(" ")' \
        "$LB_ROOT/images/index.json"
    assert_equal "$output" "docker.io/${BB_NAME} docker.io/library/mybox:latest"
}

@test "tag accepts a full ID, a bare ID and a unique ID prefix as SOURCE" {
    hex=${BB_ID#sha256:}
    lb tag "$BB_ID" by-full-id:1
    lb tag "$hex" by-hex:1
    lb tag "${hex:0:12}" by-prefix:1
    lb tag "${hex:0:3}" by-short-prefix:1
    for n in by-full-id:1 by-hex:1 by-prefix:1 by-short-prefix:1; do
        run id_of "$n"
        assert_equal "$output" "$BB_ID" "$n"
    done
}

@test "tag keeps registry, port, path and tag as given" {
    lb tag "$BB_NAME" localhost:5000/team/tool:v1.2-rc_3
    lb tag "$BB_NAME" quay.io/org/app
    run lb images --format '{{.Repository}} {{.Tag}}'
    assert_equal "$(sort <<<"$output")" "$(printf '%s\n' "layerbox-fixtures/busybox latest" \
        "localhost:5000/team/tool v1.2-rc_3" "quay.io/org/app latest" | sort)"
}

@test "tagging a name that belongs to another image moves it" {
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    load_fixture_ids three-layer
    TL_ID=$IMAGE_ID
    lb tag "$BB_NAME" shared:1
    run id_of shared:1
    assert_equal "$output" "$BB_ID"
    lb tag "$TL_ID" shared:1
    run id_of shared:1
    assert_equal "$output" "$TL_ID"
    # busybox keeps its other name.
    run lb inspect --format '{{json .RepoTags}}' "$BB_ID"
    assert_equal "$output" "[\"${BB_NAME}\"]"
    # Moving busybox's last name leaves it untagged but still in the store.
    lb tag "$TL_ID" "$BB_NAME"
    run lb inspect --format '{{json .RepoTags}}' "$BB_ID"
    assert_equal "$status" 0
    assert_equal "$output" "[]"
}

@test "tagging the same name twice is harmless" {
    lb tag "$BB_NAME" again
    snap=$(store_snapshot "$LB_ROOT/images")
    lb tag "$BB_NAME" again:latest
    assert_equal "$(store_snapshot "$LB_ROOT/images")" "$snap"
}

@test "a missing SOURCE is 'no such image', exit 1, and changes nothing" {
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb tag nosuch:1 target
    assert_one_line_error "no such image: 'nosuch:1'"
    must_fail -c 1 lb tag 0000000000000000000000000000000000000000000000000000000000000000 target
    assert_one_line_error "no such image"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "an invalid TARGET is 'invalid reference format', exit 1, and changes nothing" {
    before=$(store_snapshot "$LB_ROOT")
    long_tag=$(printf 'x%.0s' {1..129})
    for bad in "Busybox" "a:b:c" "" "-x" "name:$long_tag" "a//b" "name:" ":tag" \
        "$(printf 'a%.0s' {1..256})"; do
        must_fail -c 1 lb tag "$BB_NAME" -- "$bad"
        assert_one_line_error "invalid reference format"
    done
    must_fail -c 1 lb tag "$BB_NAME" "busybox@sha256:$(printf '0%.0s' {1..64})"
    assert_one_line_error "refusing to create a tag with a digest reference"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "tag needs exactly two arguments and knows --help" {
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 125 lb tag "$BB_NAME"
    assert_one_line_error "\"tag\" requires exactly 2 arguments"
    must_fail -c 125 lb tag a b c
    assert_one_line_error "requires exactly 2 arguments"
    must_fail -c 125 lb tag -x "$BB_NAME" y
    assert_one_line_error "unknown shorthand flag: 'x'"
    run lb tag --help
    assert_equal "$status" 0
    [[ ${lines[0]} == "Usage:  layerbox tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]" ]]
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}
