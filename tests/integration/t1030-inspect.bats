#!/usr/bin/env bats
# layerbox inspect: a JSON array of docker-shaped objects, 4-space indented; --format runs a Go
# template per image; a missing image is reported after what was found, exit 1. Expected values
# come from the fixtures' .ids files and config blobs (read with jq).

load helpers

setup() {
    lb_setup
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
}

@test "inspect prints a JSON array whose object matches the fixture" {
    load_fixture_ids three-layer
    run lb inspect "$REPO_TAG"
    assert_equal "$status" 0
    assert_equal "$(jq -r 'length' <<<"$output")" 1
    assert_equal "$(jq -r '.[0].Id' <<<"$output")" "$IMAGE_ID"
    assert_equal "$(jq -r '.[0].RepoTags | join(" ")' <<<"$output")" "$REPO_TAG"
    assert_equal "$(jq -r '.[0].RootFS.Type' <<<"$output")" "layers"
    assert_equal "$(jq -r '.[0].RootFS.Layers | join(" ")' <<<"$output")" "$DIFF_IDS"
    assert_equal "$(jq -r '.[0].Size' <<<"$output")" "$IMAGE_SIZE"
    assert_equal "$(jq -r '.[0].Architecture + "/" + .[0].Os' <<<"$output")" "$ARCH/linux"
    # Config, Created and the rest as the fixture's own config blob says.
    config=$FIXTURES/three-layer.oci/blobs/sha256/${CONFIG_DIGEST#sha256:}
    assert_equal "$(jq -c '.[0].Config.Cmd' <<<"$output")" "$(jq -c '.config.Cmd' "$config")"
    assert_equal "$(jq -c '.[0].Config.Env' <<<"$output")" "$(jq -c '.config.Env' "$config")"
    assert_equal "$(jq -r '.[0].Config.WorkingDir' <<<"$output")" "$(jq -r '.config.WorkingDir' "$config")"
    assert_equal "$(jq -r '.[0].Created' <<<"$output")" "$(jq -r '.created' "$config")"
}

@test "inspect indents with 4 spaces like docker" {
    load_fixture_ids busybox
    run lb inspect "$IMAGE_ID"
    assert_equal "$status" 0
    assert_equal "${lines[0]}" "["
    assert_equal "${lines[1]}" "    {"
    assert_equal "${lines[2]}" "        \"Id\": \"$IMAGE_ID\","
    assert_equal "${lines[${#lines[@]} - 1]}" "]"
    # Byte for byte what jq prints with a 4-space indent (same keys, same order).
    assert_equal "$output" "$(jq --indent 4 . <<<"$output")"
}

@test "inspect of several images keeps the order of the arguments" {
    load_fixture_ids busybox
    bb=$IMAGE_ID
    load_fixture_ids three-layer
    tl=$IMAGE_ID
    run lb inspect "${tl:7:6}" "$bb" "${tl#sha256:}"
    assert_equal "$status" 0
    assert_equal "$(jq -r '.[].Id' <<<"$output")" "$(printf '%s\n%s\n%s' "$tl" "$bb" "$tl")"
}

@test "--format runs the template once per image" {
    load_fixture_ids busybox
    bb=$IMAGE_ID
    bb_layers=$DIFF_IDS
    load_fixture_ids three-layer
    run lb inspect --format '{{.Id}} {{len .RootFS.Layers}}' "$bb" "$IMAGE_ID"
    assert_equal "$status" 0
    assert_equal "$output" "$(printf '%s 1\n%s 3' "$bb" "$IMAGE_ID")"
    run lb inspect -f '{{json .RootFS.Layers}}' "$bb"
    assert_equal "$(jq -r 'join(" ")' <<<"$output")" "$bb_layers"
    run lb inspect -f '{{range .RootFS.Layers}}{{.}}{{"\n"}}{{end}}' "$IMAGE_ID"
    assert_equal "$(echo $output)" "$DIFF_IDS"
    run lb inspect -f '{{.Config.WorkingDir}}' "$IMAGE_ID"
    assert_equal "$output" "/data"
}

@test "a missing image: what was found is printed, one error line per missing one, exit 1" {
    load_fixture_ids busybox
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb inspect "$REPO_TAG" nosuch
    assert_equal "$(jq -r '.[].Id' <<<"$output")" "$IMAGE_ID"
    assert_one_line_error "no such object: 'nosuch'"
    must_fail -c 1 lb inspect nosuch
    assert_equal "$output" "[]"
    assert_one_line_error "no such object: 'nosuch'"
    must_fail -c 1 lb inspect -f '{{.Id}}' one two
    assert_equal "$output" ""
    assert_equal "$stderr" "$(printf "layerbox: no such object: 'one'\nlayerbox: no such object: 'two'")"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "bad templates and arguments fail with one line and change nothing" {
    load_fixture_ids busybox
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb inspect --format '{{.Id' "$REPO_TAG"
    assert_one_line_error "template"
    assert_equal "$output" ""
    must_fail -c 125 lb inspect
    assert_one_line_error "\"inspect\" requires at least 1 argument"
    must_fail -c 125 lb inspect --format
    assert_one_line_error "flag needs an argument"
    must_fail -c 125 lb inspect --bogus "$REPO_TAG"
    assert_one_line_error "unknown flag: --bogus"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}
