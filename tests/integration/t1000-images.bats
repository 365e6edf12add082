#!/usr/bin/env bats
# layerbox images: one row per name, <none> for an image without one, newest first, docker's
# columns and --format. Expected values come from the fixtures' .ids files, the fixtures' own
# config blobs (read with jq) and date arithmetic, never from layerbox's output.

load helpers

# docker's units.HumanDuration (go-units), rewritten in bash from its definition.
go_human_duration() {
    local s=$1 minutes hours
    minutes=$((s / 60))
    hours=$(((s + 1800) / 3600)) # int(d.Hours() + 0.5)
    if ((s < 1)); then echo "Less than a second"
    elif ((s == 1)); then echo "1 second"
    elif ((s < 60)); then echo "$s seconds"
    elif ((minutes == 1)); then echo "About a minute"
    elif ((minutes < 60)); then echo "$minutes minutes"
    elif ((hours == 1)); then echo "About an hour"
    elif ((hours < 48)); then echo "$hours hours"
    elif ((hours < 24 * 7 * 2)); then echo "$((hours / 24)) days"
    elif ((hours < 24 * 30 * 2)); then echo "$((hours / 24 / 7)) weeks"
    elif ((hours < 24 * 365 * 2)); then echo "$((hours / 24 / 30)) months"
    else echo "$((s / 3600 / 24 / 365)) years"
    fi
}

# "N units ago" for an RFC 3339 time, from date(1).
since() {
    echo "$(go_human_duration $(($(date +%s) - $(date -d "$1" +%s)))) ago"
}

# go-units HumanSizeWithPrecision(n, 3): decimal units, %.3g.
human_size() {
    awk -v n="$1" 'BEGIN { split("B kB MB GB TB PB", u, " "); i = 1
        while (n >= 1000 && i < 6) { n /= 1000; i++ }
        printf "%.3g%s\n", n, u[i] }'
}

# Lay out tab-separated lines as Go's tabwriter does with docker's settings (minwidth 10,
# padding 3, last cell not padded, widths in runes) when all lines have the same number of
# cells: an independent check of the table layout.
tabulate() {
    awk -F'\t' '
        function runes(s) { gsub(/[\200-\277]/, "", s); return length(s) }
        { n[NR] = NF; for (i = 1; i <= NF; i++) { c[NR, i] = $i; w = runes($i) + 3
              if (w < 10) w = 10; if (i < NF && w > W[i]) W[i] = w } }
        END { for (r = 1; r <= NR; r++) { line = ""
                  for (i = 1; i < n[r]; i++) { line = line c[r, i]
                      for (k = runes(c[r, i]); k < W[i]; k++) line = line " " }
                  print line c[r, n[r]] } }'
}

# The created time recorded in a fixture's config blob (its OCI layout copy).
fixture_created() {
    load_fixture_ids "$1" || return 1
    jq -r .created "$FIXTURES/$1.oci/blobs/sha256/${CONFIG_DIGEST#sha256:}"
}

load_busybox() {
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
}

load_three_layer() {
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
}

@test "images on an empty store prints only docker's header" {
    run lb images
    assert_equal "$status" 0
    assert_equal "$output" "$(printf 'REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n' | tabulate)"
}

@test "images shows a loaded image with its name, short ID, age and size" {
    load_busybox
    load_fixture_ids busybox
    created=$(fixture_created busybox)
    run lb images
    assert_equal "$status" 0
    expected=$(printf '%s\t%s\t%s\t%s\t%s\n' REPOSITORY TAG "IMAGE ID" CREATED SIZE \
        "${REPO_TAG%:*}" "${REPO_TAG##*:}" "${IMAGE_ID:7:12}" "$(since "$created")" \
        "$(human_size "$IMAGE_SIZE")" | tabulate)
    assert_equal "$output" "$expected"
}

@test "an image with three names shows three rows with the same image ID" {
    load_busybox
    load_fixture_ids busybox
    lb tag "$REPO_TAG" busybox
    lb tag "$REPO_TAG" example.com/team/tool:1.0
    run lb images --format '{{.Repository}} {{.Tag}} {{.ID}}'
    assert_equal "$status" 0
    id=${IMAGE_ID:7:12}
    assert_equal "$(sort <<<"$output")" "$(printf '%s\n' "busybox latest $id" \
        "example.com/team/tool 1.0 $id" "layerbox-fixtures/busybox latest $id" | sort)"
}

@test "images lists the newest image first" {
    load_busybox
    load_three_layer
    printf 'hello\n' >"$LB_TMP/f"
    tar -C "$LB_TMP" -cf "$LB_TMP/one.tar" f
    lb import "$LB_TMP/one.tar" fresh:now >/dev/null
    run lb images --format '{{.Repository}}'
    assert_equal "$status" 0
    # The fixtures share one creation time (2024-01-01); ties are broken by ID.
    load_fixture_ids busybox
    bb=$IMAGE_ID
    load_fixture_ids three-layer
    tl=$IMAGE_ID
    if [[ $bb < $tl ]]; then older="layerbox-fixtures/busybox layerbox-fixtures/three-layer"
    else older="layerbox-fixtures/three-layer layerbox-fixtures/busybox"; fi
    assert_equal "$(echo $output)" "fresh $older"
}

@test "images -q prints the ID of every row and --no-trunc prints full IDs" {
    load_busybox
    load_three_layer
    load_fixture_ids three-layer
    tl=$IMAGE_ID
    load_fixture_ids busybox
    bb=$IMAGE_ID
    lb tag "$REPO_TAG" second:tag
    run lb images -q
    assert_equal "$status" 0
    # Like docker: one line per row, so busybox (two names) twice.
    assert_equal "$(sort <<<"$output")" "$(printf '%s\n' "${bb:7:12}" "${bb:7:12}" "${tl:7:12}" | sort)"
    run lb images -q --no-trunc
    assert_equal "$(sort -u <<<"$output")" "$(printf '%s\n' "$bb" "$tl" | sort)"
    run lb images --no-trunc --format '{{.ID}}' second
    assert_equal "$output" "$bb"
}

@test "an image whose only name moved away shows as <none> <none> and is dangling" {
    load_busybox
    load_three_layer
    load_fixture_ids busybox
    bb=$IMAGE_ID
    name=$REPO_TAG
    load_fixture_ids three-layer
    tl=$IMAGE_ID
    lb tag "$tl" "$name" # busybox's only name now points at three-layer
    run lb images --format '{{.Repository}}|{{.Tag}}|{{.ID}}'
    assert_equal "$status" 0
    assert_equal "$(sort <<<"$output")" "$(printf '%s\n' "<none>|<none>|${bb:7:12}" \
        "${name%:*}|latest|${tl:7:12}" "layerbox-fixtures/three-layer|latest|${tl:7:12}" | sort)"
    run lb images -q --filter dangling=true
    assert_equal "$output" "${bb:7:12}"
    run lb images --filter dangling=false --format '{{.ID}}'
    assert_equal "$output" "$(printf '%s\n%s' "${tl:7:12}" "${tl:7:12}")"
}

@test "REPOSITORY[:TAG] matches familiar and full names, with or without the tag" {
    load_busybox
    load_fixture_ids busybox
    lb tag "$REPO_TAG" busybox:latest
    lb tag "$REPO_TAG" busybox:1.36
    for arg in busybox docker.io/library/busybox; do
        run lb images --format '{{.Repository}}:{{.Tag}}' "$arg"
        assert_equal "$status" 0
        assert_equal "$(sort <<<"$output")" "$(printf 'busybox:1.36\nbusybox:latest')" "images $arg"
    done
    for arg in busybox:1.36 docker.io/library/busybox:1.36 'busybox:1.*'; do
        run lb images --format '{{.Repository}}:{{.Tag}}' "$arg"
        assert_equal "$output" "busybox:1.36" "images $arg"
    done
    run lb images --filter 'reference=layerbox-fixtures/*' --format '{{.Repository}}'
    assert_equal "$output" "layerbox-fixtures/busybox"
    # A prefix is not a match (docker: "the value must be an exact match").
    run lb images --format '{{.Repository}}' busy
    assert_equal "$status" 0
    assert_equal "$output" ""
    run lb images busybox:nope
    assert_equal "$status" 0
    assert_line_count 1 # the header only
}

@test "--digests adds the manifest digest column" {
    # The OCI archive carries no docker name: the image loads untagged.
    lb load -i "$(fixture busybox.oci.tar)" >/dev/null
    load_fixture_ids busybox
    run lb images --digests
    assert_equal "$status" 0
    expected=$(printf '%s\t%s\t%s\t%s\t%s\t%s\n' REPOSITORY TAG DIGEST "IMAGE ID" CREATED SIZE \
        "<none>" "<none>" "$MANIFEST_DIGEST" "${IMAGE_ID:7:12}" \
        "$(since "$(fixture_created busybox)")" "$(human_size "$IMAGE_SIZE")" | tabulate)
    assert_equal "$output" "$expected"
    run lb images --digests --format 'table {{.ID}}'
    assert_equal "$output" "$(printf 'IMAGE ID\tDIGEST\n%s\t%s\n' "${IMAGE_ID:7:12}" \
        "$MANIFEST_DIGEST" | tabulate)"
}

@test "--format: table with headers, plain templates, json and every placeholder" {
    lb load -i "$(fixture three-layer.oci.tar)" >/dev/null
    load_fixture_ids three-layer
    lb tag "$IMAGE_ID" "$REPO_TAG"
    run lb images --format 'table {{.ID}}\t{{.Size}}'
    assert_equal "$status" 0
    assert_equal "$output" "$(printf 'IMAGE ID\tSIZE\n%s\t%s\n' "${IMAGE_ID:7:12}" \
        "$(human_size "$IMAGE_SIZE")" | tabulate)"
    created=$(fixture_created three-layer)
    run env TZ=UTC "$LAYERBOX" --root "$LB_ROOT" images --format \
        '{{.Repository}}|{{.Tag}}|{{.CreatedAt}}|{{.CreatedSince}}|{{.Size}}|{{.Containers}}|{{.Digest}}'
    assert_equal "$status" 0
    assert_equal "$output" "${REPO_TAG%:*}|latest|$(TZ=UTC date -d "$created" '+%Y-%m-%d %H:%M:%S +0000 UTC')|$(since "$created")|$(human_size "$IMAGE_SIZE")|N/A|$MANIFEST_DIGEST"
    run lb images --format json
    assert_equal "$status" 0
    assert_equal "$(jq -r '.ID + " " + .Repository + " " + .Tag' <<<"$output")" \
        "${IMAGE_ID:7:12} ${REPO_TAG%:*} latest"
}

@test "-a shows the same images when none is an intermediate image" {
    load_busybox
    load_three_layer
    run lb images
    plain=$output
    run lb images -a
    assert_equal "$status" 0
    assert_equal "$output" "$plain"
}

@test "an untagged parent of another image is intermediate: hidden unless -a" {
    load_busybox
    load_three_layer
    load_fixture_ids busybox
    bb=$IMAGE_ID
    bb_name=$REPO_TAG
    load_fixture_ids three-layer
    tl=$IMAGE_ID
    # Record busybox as three-layer's parent, as a build would: layerbox's parent annotation on
    # three-layer's descriptors in the OCI index (written here with jq, not by layerbox).
    index=$LB_ROOT/images/index.json
    jq --arg n "docker.io/$REPO_TAG" --arg p "$bb" '
        .manifests |= map(if .annotations["org.opencontainers.image.ref.name"] == $n
            then .annotations["io.layerbox.image.parent"] = $p else . end)' "$index" >"$LB_TMP/i"
    mv "$LB_TMP/i" "$index"
    grep -q io.layerbox.image.parent "$index"
    run lb images -q
    assert_equal "$(sort <<<"$output")" "$(printf '%s\n' "${bb:7:12}" "${tl:7:12}" | sort)"
    # Untagged, busybox is now an intermediate image.
    lb tag "$tl" "$bb_name"
    run lb images -q
    assert_equal "$(sort -u <<<"$output")" "${tl:7:12}"
    run lb images -a --format '{{.ID}} {{.Repository}}'
    assert_equal "$(sort <<<"$output")" "$(printf '%s\n' "${bb:7:12} <none>" \
        "${tl:7:12} ${bb_name%:*}" "${tl:7:12} layerbox-fixtures/three-layer" | sort)"
}

@test "bad filters, templates and arguments fail with one line and change nothing" {
    load_busybox
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb images --filter dangling=maybe
    assert_one_line_error "invalid filter 'dangling=maybe'"
    must_fail -c 1 lb images --filter colour=blue
    assert_one_line_error "invalid filter 'colour'"
    must_fail -c 125 lb images --filter dangling
    assert_one_line_error "bad format of filter"
    must_fail -c 1 lb images --format '{{.ID'
    assert_one_line_error "template"
    assert_equal "$output" ""
    must_fail -c 125 lb images a b
    assert_one_line_error "requires at most 1 argument"
    must_fail -c 125 lb images --bogus
    assert_one_line_error "unknown flag: --bogus"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}
