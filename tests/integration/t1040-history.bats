#!/usr/bin/env bats
# layerbox history: the config's history newest first; the image ID on the top row and
# <missing> below; CREATED BY cut to 45 characters with "…"; a step that made a layer shows that
# layer's size, an empty_layer step 0B; -H=false prints RFC 3339 times and bytes. Expected values
# come from the fixture's own config blob (jq), its .ids file and date arithmetic.

load helpers

# docker's units.HumanDuration (go-units), rewritten in bash from its definition.
go_human_duration() {
    local s=$1 minutes hours
    minutes=$((s / 60))
    hours=$(((s + 1800) / 3600))
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

since() {
    echo "$(go_human_duration $(($(date +%s) - $(date -d "$1" +%s)))) ago"
}

human_size() {
    awk -v n="$1" 'BEGIN { split("B kB MB GB TB PB", u, " "); i = 1
        while (n >= 1000 && i < 6) { n /= 1000; i++ }
        printf "%.3g%s\n", n, u[i] }'
}

# docker's Ellipsis(s, 45) on ASCII text.
cut45() {
    if [ "${#1}" -le 45 ]; then echo "$1"; else echo "${1:0:44}…"; fi
}

# Go tabwriter with docker's settings, for lines with the same number of cells (see t1000).
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

setup() {
    lb_setup
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
    load_fixture_ids three-layer
    CONFIG=$FIXTURES/three-layer.oci/blobs/sha256/${CONFIG_DIGEST#sha256:}
    read -r -a SIZES <<<"$LAYER_SIZES"
}

# The expected rows, newest first, as tab-separated cells: ID, created, created by, size,
# comment. $1: human (true/false), $2: truncate (true/false).
expected_rows() {
    local human=$1 trunc=$2 n i k created by size id
    n=$(jq '.history | length' "$CONFIG")
    # Which layer each step made: count the non-empty steps, oldest first.
    local -a layer_of=()
    k=0
    for ((i = 0; i < n; i++)); do
        if [ "$(jq ".history[$i].empty_layer // false" "$CONFIG")" = true ]; then
            layer_of[i]=-1
        else
            layer_of[i]=$k
            k=$((k + 1))
        fi
    done
    for ((i = n - 1; i >= 0; i--)); do
        created=$(jq -r ".history[$i].created" "$CONFIG")
        by=$(jq -r ".history[$i].created_by" "$CONFIG")
        if ((layer_of[i] < 0)); then size=0; else size=${SIZES[layer_of[i]]}; fi
        if [ "$human" = true ]; then
            created=$(since "$created")
            size=$(human_size "$size")
        fi
        [ "$trunc" = true ] && by=$(cut45 "$by")
        if ((i == n - 1)); then
            if [ "$trunc" = true ]; then id=${IMAGE_ID:7:12}; else id=$IMAGE_ID; fi
        else
            id="<missing>"
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$created" "$by" "$size" \
            "$(jq -r ".history[$i].comment // \"\"" "$CONFIG")"
    done
}

@test "history shows each step newest first, with layer sizes and <missing> below the top" {
    run lb history "$REPO_TAG"
    assert_equal "$status" 0
    expected=$({ printf 'IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT\n'; expected_rows true true; } | tabulate)
    assert_equal "$output" "$expected"
    assert_line_count $(($(jq '.history | length' "$CONFIG") + 1))
    # The fixture has an empty_layer step (CMD) on top: 0B.
    [[ ${lines[1]} == *"   0B   "* ]]
}

@test "history truncates CREATED BY to 45 characters with an ellipsis unless --no-trunc" {
    longest=$(jq -r '[.history[].created_by] | max_by(length)' "$CONFIG")
    [ "${#longest}" -gt 45 ] # the fixture has a step worth cutting
    run lb history --format '{{.CreatedBy}}' "$REPO_TAG"
    assert_equal "$status" 0
    [[ $output == *"${longest:0:44}…"* ]]
    [[ $output != *"$longest"* ]]
    run lb history --no-trunc --format '{{.CreatedBy}}' "$REPO_TAG"
    [[ $output == *"$longest"* ]]
    run lb history --no-trunc "$REPO_TAG"
    expected=$({ printf 'IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT\n'; expected_rows true false; } | tabulate)
    assert_equal "$output" "$expected"
}

@test "history -H=false prints RFC 3339 times and sizes in bytes" {
    run lb history -H=false "$REPO_TAG"
    assert_equal "$status" 0
    expected=$({ printf 'IMAGE\tCREATED AT\tCREATED BY\tSIZE\tCOMMENT\n'; expected_rows false true; } | tabulate)
    assert_equal "$output" "$expected"
    run lb history --human=false --format '{{.CreatedSince}} {{.Size}}' "$REPO_TAG"
    assert_equal "$(tail -n 1 <<<"$output")" "$(jq -r '.history[0].created' "$CONFIG") ${SIZES[0]}"
}

@test "history -q prints the ID column" {
    run lb history -q "${IMAGE_ID:7:4}"
    assert_equal "$status" 0
    n=$(jq '.history | length' "$CONFIG")
    assert_equal "$output" "$(echo "${IMAGE_ID:7:12}"; for ((i = 1; i < n; i++)); do echo "<missing>"; done)"
    run lb history -q --no-trunc "$REPO_TAG"
    assert_equal "${lines[0]}" "$IMAGE_ID"
}

@test "history of a missing image and bad options fail with one line and change nothing" {
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb history nosuch
    assert_one_line_error "no such image: 'nosuch'"
    assert_equal "$output" ""
    must_fail -c 125 lb history -H=maybe "$REPO_TAG"
    assert_one_line_error "invalid argument \"maybe\" for \"-H, --human\" flag"
    must_fail -c 125 lb history
    assert_one_line_error "\"history\" requires exactly 1 argument"
    must_fail -c 125 lb history "$REPO_TAG" other
    assert_one_line_error "requires exactly 1 argument"
    must_fail -c 1 lb history --format '{{.Size' "$REPO_TAG"
    assert_one_line_error "template"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "a recorded parent still in the store gives the next row its ID, as docker shows" {
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    bb=$(jq -r .config.digest "$FIXTURES/busybox.oci/blobs/sha256/$(jq -r '.manifests[0].digest' \
        "$FIXTURES/busybox.oci/index.json" | cut -d: -f2)")
    # The parent annotation a build would write, added with jq to three-layer's descriptor.
    index=$LB_ROOT/images/index.json
    jq --arg n "docker.io/$REPO_TAG" --arg p "$bb" '
        .manifests |= map(if .annotations["org.opencontainers.image.ref.name"] == $n
            then .annotations["io.layerbox.image.parent"] = $p else . end)' "$index" >"$LB_TMP/i"
    mv "$LB_TMP/i" "$index"
    run lb history -q "$REPO_TAG"
    assert_equal "$status" 0
    n=$(jq '.history | length' "$CONFIG")
    assert_equal "$output" "$(echo "${IMAGE_ID:7:12}"; echo "${bb:7:12}"
        for ((i = 2; i < n; i++)); do echo "<missing>"; done)"
}
