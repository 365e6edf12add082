#!/usr/bin/env bats
# How a command-line argument finds an image, in docker's order: a full ID ("sha256:<hex>" or the
# 64 hex alone), then a name (normalised: "busybox" is docker.io/library/busybox:latest), then a
# unique ID prefix; an ambiguous prefix is an error listing the candidates. And what is not a
# reference at all: every bad input is a one-line error, a non-zero exit, and no change.

load helpers

setup() {
    lb_setup
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    load_fixture_ids busybox
    BB_ID=$IMAGE_ID
    BB_NAME=$REPO_TAG
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    load_fixture_ids three-layer
    TL_ID=$IMAGE_ID
    TL_NAME=$REPO_TAG
}

# The image ID an argument resolves to.
resolve() {
    lb inspect --format '{{.Id}}' "$1"
}

@test "a full ID resolves with or without sha256:" {
    run resolve "$BB_ID"
    assert_equal "$output" "$BB_ID"
    run resolve "${TL_ID#sha256:}"
    assert_equal "$output" "$TL_ID"
}

@test "a name resolves in its familiar and its full form, :latest by default" {
    lb tag "$BB_NAME" busybox
    for arg in busybox busybox:latest library/busybox docker.io/library/busybox \
        docker.io/library/busybox:latest index.docker.io/library/busybox "docker.io/$BB_NAME" \
        "${BB_NAME%:latest}"; do
        run resolve "$arg"
        assert_equal "$status" 0 "resolve $arg"
        assert_equal "$output" "$BB_ID" "resolve $arg"
    done
    must_fail -c 1 resolve busybox:other
    assert_one_line_error "no such object: 'busybox:other'"
}

@test "name@digest resolves by the manifest digest" {
    # The OCI fixture's manifest digest is known independently (.ids); its archive carries no
    # docker name, so it loads untagged and is named here.
    lb rmi "$TL_NAME" >/dev/null
    lb load -i "$(fixture three-layer.oci.tar)" >/dev/null
    load_fixture_ids three-layer
    lb tag "$TL_ID" "$TL_NAME"
    run resolve "${TL_NAME%:*}@$MANIFEST_DIGEST"
    assert_equal "$status" 0
    assert_equal "$output" "$TL_ID"
    run resolve "$TL_NAME@$MANIFEST_DIGEST"
    assert_equal "$output" "$TL_ID"
    must_fail -c 1 lb inspect "${TL_NAME%:*}@sha256:$(printf '0%.0s' {1..64})"
    assert_one_line_error "no such object"
}

@test "a unique ID prefix resolves, down to one hex character" {
    for n in 1 4 12 63; do
        # Only a prefix that no other image shares: the two fixtures' IDs differ early.
        if [ "${BB_ID:7:n}" != "${TL_ID:7:n}" ]; then
            run resolve "${BB_ID:7:n}"
            assert_equal "$output" "$BB_ID" "prefix of $n"
            run resolve "sha256:${TL_ID:7:n}"
            assert_equal "$output" "$TL_ID" "sha256: prefix of $n"
        fi
    done
    [ "${BB_ID:7:1}" != "${TL_ID:7:1}" ] # the fixtures' IDs differ in their first character
    run resolve "${TL_ID:7:1}"
    assert_equal "$output" "$TL_ID"
}

@test "a name wins over an ID prefix it looks like" {
    prefix=${TL_ID:7:4}
    lb tag "$BB_NAME" "$prefix" # a name made only of hex characters
    run resolve "$prefix"
    assert_equal "$output" "$BB_ID"
    run resolve "${TL_ID:7:5}"
    assert_equal "$output" "$TL_ID"
}

@test "an ambiguous ID prefix is an error naming the candidates" {
    # Import tiny archives until two image IDs share their first hex character. The fixtures
    # already hold two characters, so with 16 possible ones a collision is certain within 15
    # imports (and usually comes after a handful).
    declare -A seen=([${BB_ID:7:1}]=$BB_ID [${TL_ID:7:1}]=$TL_ID)
    first="" second=""
    for i in $(seq 1 17); do
        mkdir -p "$LB_TMP/r$i"
        echo "$i" >"$LB_TMP/r$i/f"
        tar -C "$LB_TMP/r$i" -cf "$LB_TMP/r$i.tar" f
        run lb import "$LB_TMP/r$i.tar"
        assert_equal "$status" 0 "import $i"
        id=$(lb inspect --format '{{.Id}}' "${output##*:}")
        c=${id:7:1}
        if [ -n "${seen[$c]:-}" ]; then
            first=${seen[$c]}
            second=$id
            break
        fi
        seen[$c]=$id
    done
    [ -n "$second" ] || {
        echo "no two IDs shared a first character" >&2
        false
    }
    # The longest common prefix of the two, computed here.
    n=0
    while [ "${first:7+n:1}" = "${second:7+n:1}" ]; do n=$((n + 1)); done
    prefix=${first:7:n}
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb inspect "$prefix"
    assert_one_line_error "ambiguous"
    assert_output_contains --stderr "${first:7:12}"
    assert_output_contains --stderr "${second:7:12}"
    must_fail -c 1 lb rmi "$prefix"
    assert_one_line_error "ambiguous"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
    # One more character settles it.
    run resolve "${first:7:n+1}"
    assert_equal "$output" "$first"
}

@test "invalid references are one-line errors that change nothing" {
    before=$(store_snapshot "$LB_ROOT")
    long_tag=$(printf 't%.0s' {1..129})
    long_name=$(printf 'a%.0s' {1..256})
    for bad in "Busybox" "busybox:$long_tag" "" "a:b:c" "-x" "$long_name" "a//b" "busybox:" \
        "/leading" "trailing/" "a..b" "a/B"; do
        for cmd in "tag $BB_NAME" inspect history rmi; do
            # shellcheck disable=SC2086
            must_fail -c 1 lb $cmd -- "$bad"
            assert_one_line_error "invalid reference format"
        done
    done
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "invalid digests are one-line errors that change nothing" {
    before=$(store_snapshot "$LB_ROOT")
    zeros=$(printf '0%.0s' {1..64})
    for bad in "busybox@sha256:abc" "busybox@sha256:$(printf 'A%.0s' {1..64})" "busybox@sha256:" \
        "busybox@md5:d41d8cd98f00b204e9800998ecf8427e" "busybox@sha256:../../etc/passwd" \
        "busybox@${zeros}" "busybox@sha256:${zeros}0"; do
        must_fail -c 1 lb inspect "$bad"
        assert_one_line_error "invalid reference format"
        must_fail -c 1 lb tag "$BB_NAME" "$bad"
        assert_one_line_error
    done
    # A well-formed digest that nothing has is simply not found.
    must_fail -c 1 lb inspect "busybox@sha256:$zeros"
    assert_one_line_error "no such object"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "an ID that is not in the store is 'no such image'" {
    before=$(store_snapshot "$LB_ROOT")
    zeros=$(printf '0%.0s' {1..64})
    must_fail -c 1 lb inspect "sha256:$zeros"
    assert_one_line_error "no such object: 'sha256:$zeros'"
    must_fail -c 1 lb inspect "$zeros"
    assert_one_line_error "no such object"
    must_fail -c 1 lb inspect "sha256:$(printf 'f%.0s' {1..65})"
    assert_one_line_error
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}
