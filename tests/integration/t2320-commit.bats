#!/usr/bin/env bats
# layerbox commit: a container's writable layer becomes one new layer over its image's, which are
# shared as they are. The store is read with jq and sha256sum (the OCI layout), not through
# layerbox's own output, and the new images are run to see their files.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
    PODMAN_IMAGES=()
}

teardown() {
    local n
    for n in "${PODMAN_IMAGES[@]}"; do
        podman rmi -f "$n" >/dev/null 2>&1 || true
    done
    remove_all_containers
    lb_teardown
}

blob() { # DIGEST → path of the blob
    echo "$LB_ROOT/images/blobs/sha256/${1#sha256:}"
}

# The manifest digest index.json gives for an image ID (its config digest).
manifest_of() {
    local d
    for d in $(jq -r '.manifests[].digest' "$LB_ROOT/images/index.json" | sort -u); do
        if [ "$(jq -r .config.digest "$(blob "$d")")" = "$1" ]; then
            echo "$d"
            return 0
        fi
    done
    echo "no manifest for $1 in index.json" >&2
    return 1
}

# Commit container $1 (more args: options, REPO:TAG) and check the output is one image ID.
commit() {
    run --separate-stderr lb commit "$@"
    assert_equal "$status" 0 "commit $*: $stderr" || return 1
    [[ $output =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "not an image ID: $output" >&2; return 1; }
    [ -f "$(blob "$output")" ] || { echo "no config blob for $output" >&2; return 1; }
}

@test "commit keeps added, changed and deleted files, an opaque directory and a hardlink" {
    lb run --name c1 "$BUSYBOX" sh -c 'echo added > /added; echo extra >> /etc/group;
        rm /bin/ls; rm -rf /home; mkdir -p /home/new; echo n > /home/new/f;
        echo h > /h1; ln /h1 /h2'
    commit c1 mine:gen1
    local id=$output
    run --separate-stderr lb run --rm mine:gen1 sh -c 'cat /added; tail -n 1 /etc/group;
        test -e /bin/ls || echo ls-gone; ls /home; cat /home/new/f;
        stat -c %h /h1; test "$(stat -c %i /h1)" = "$(stat -c %i /h2)" && echo same-inode;
        head -n 1 /etc/passwd'
    assert_equal "$status" 0 "$stderr"
    assert_equal "${lines[0]}" added
    assert_equal "${lines[1]}" extra
    assert_equal "${lines[2]}" ls-gone
    assert_equal "${lines[3]}" new # /home/lbuser is hidden by the opaque directory
    assert_equal "${lines[4]}" n
    assert_equal "${lines[5]}" 2
    assert_equal "${lines[6]}" same-inode
    [[ ${lines[7]} == root:* ]] || { echo "unchanged /etc/passwd lost: ${lines[7]}" >&2; return 1; }
    assert_equal "${#lines[@]}" 8

    # The changeset tar itself: whiteout, opaque marker, hardlink (read with tar, not layerbox).
    local m layer
    m=$(manifest_of "$id")
    layer=$(jq -r '.layers[-1].digest' "$(blob "$m")")
    run tar -tvf "$(blob "$layer")"
    assert_equal "$status" 0
    assert_output_contains "bin/.wh.ls"
    assert_output_contains "home/.wh..wh..opq"
    assert_output_contains "h2 link to h1"
}

@test "the new image has the parent's layers byte for byte plus one uncompressed layer" {
    lb run --name c1 "$BUSYBOX" sh -c 'echo x > /x'
    commit c1 mine:1
    local id=$output m pm
    m=$(manifest_of "$id")
    pm=$(manifest_of "$IMAGE_ID")
    assert_equal "$(jq '.layers | length' "$(blob "$m")")" 2
    assert_equal "$(jq -c '.layers[0]' "$(blob "$m")")" "$(jq -c '.layers[0]' "$(blob "$pm")")"
    # (the fixture's docker-archive layer is a plain tar: its blob digest is its DiffID)
    assert_equal "$(jq -r '.layers[0].digest' "$(blob "$m")")" "$DIFF_IDS"
    local cfg
    cfg=$(blob "$id")
    assert_equal "$(jq -r '.rootfs.diff_ids | length' "$cfg")" 2
    assert_equal "$(jq -r '.rootfs.diff_ids[0]' "$cfg")" "$DIFF_IDS"
    # uncompressed: blob digest = DiffID = sha256 of the bytes; size as stored
    local new
    new=$(jq -r '.layers[1].digest' "$(blob "$m")")
    assert_equal "$(jq -r '.layers[1].mediaType' "$(blob "$m")")" \
        application/vnd.oci.image.layer.v1.tar
    assert_equal "$(jq -r '.rootfs.diff_ids[1]' "$cfg")" "$new"
    assert_equal "sha256:$(sha256sum < "$(blob "$new")" | cut -d' ' -f1)" "$new"
    assert_equal "$(jq -r '.layers[1].size' "$(blob "$m")")" "$(stat -c %s "$(blob "$new")")"
    assert_equal "sha256:$(sha256sum < "$cfg" | cut -d' ' -f1)" "$id"
    assert_equal "$(jq -r .config.digest "$(blob "$m")")" "$id"
    # the layer is unpacked under its ChainID = sha256(parent chain + " " + DiffID)
    local chain
    chain=$(printf '%s %s' "$CHAIN_IDS" "$new" | sha256sum | cut -d' ' -f1)
    [ -d "$LB_ROOT/layers/$chain/diff" ] || { echo "layers/$chain missing" >&2; return 1; }
    assert_equal "$(cat "$LB_ROOT/layers/$chain/diff/x")" x
}

@test "an empty diff still makes a layer, an empty tar" {
    lb create --name c0 "$BUSYBOX" true >/dev/null
    commit c0
    local id=$output m new
    m=$(manifest_of "$id")
    assert_equal "$(jq '.layers | length' "$(blob "$m")")" 2
    new=$(jq -r '.layers[1].digest' "$(blob "$m")")
    run tar -tf "$(blob "$new")"
    assert_equal "$status" 0
    assert_equal "$output" ""
    # untagged: index.json has a descriptor without a name
    assert_equal "$(jq -r --arg m "$m" '[.manifests[] | select(.digest == $m)
        | .annotations["org.opencontainers.image.ref.name"]] | .[0]' "$LB_ROOT/images/index.json")" null
    run lb images
    assert_output_contains "<none>"
}

@test "three generations share their lower blobs and the store grows by the new layers only" {
    lb run --name g1 "$BUSYBOX" sh -c 'head -c 100000 /dev/urandom > /g1'
    commit g1 gen:1
    local id1=$output
    lb run --name g2 gen:1 sh -c 'head -c 100000 /dev/urandom > /g2'
    commit g2 gen:2
    local id2=$output
    lb run --name g3 gen:2 sh -c 'head -c 100000 /dev/urandom > /g3'
    local before after
    before=$(du -sb "$LB_ROOT/images" "$LB_ROOT/layers" | awk '{s += $1} END {print s}')
    commit g3 gen:3
    local id3=$output
    after=$(du -sb "$LB_ROOT/images" "$LB_ROOT/layers" | awk '{s += $1} END {print s}')
    local m1 m2 m3
    m1=$(blob "$(manifest_of "$id1")")
    m2=$(blob "$(manifest_of "$id2")")
    m3=$(blob "$(manifest_of "$id3")")
    assert_equal "$(jq -c '[.layers[].digest]' "$m1")" "$(jq -c '[.layers[:2][].digest]' "$m2")"
    assert_equal "$(jq -c '.layers[:2]' "$m2")" "$(jq -c '.layers[:2]' "$m3")"
    assert_equal "$(jq -c '.layers[:1]' "$m1")" "$(jq -c '.layers[:1]' "$m3")"
    assert_equal "$(jq '.layers | length' "$m3")" 4
    assert_equal "$(jq -c '.rootfs.diff_ids[:3]' "$(blob "$id3")")" \
        "$(jq -c '.rootfs.diff_ids' "$(blob "$id2")")"
    # one blob per distinct layer: 4 layer blobs in all
    local n
    n=$(jq -r '.layers[].digest' "$m1" "$m2" "$m3" | sort -u | wc -l)
    assert_equal "$n" 4
    # growth: the 100 kB file twice (blob + unpacked layer) plus metadata, not the 2.8 MB base
    local grew=$((after - before))
    [ "$grew" -ge 200000 ] && [ "$grew" -lt 400000 ] ||
        { echo "the store grew by $grew bytes" >&2; return 1; }
    run --separate-stderr lb run --rm gen:3 sh -c 'wc -c < /g1; wc -c < /g2; wc -c < /g3'
    assert_equal "${lines[*]}" "100000 100000 100000"
}

@test "inspect shows Parent, the -c changes in Config, and -m/-a in the history" {
    lb run --name c1 "$BUSYBOX" sh -c 'echo hi > /f'
    commit -m "my message" -a "Ann <ann@x>" -c 'CMD ["x"]' -c 'ENV A=1' c1 mine:1
    local id=$output
    run --separate-stderr lb inspect mine:1
    assert_equal "$status" 0
    assert_equal "$(jq -r '.[0].Parent' <<<"$output")" "$IMAGE_ID"
    assert_equal "$(jq -c '.[0].Config.Cmd' <<<"$output")" '["x"]'
    assert_equal "$(jq -r '.[0].Config.Env | index("A=1") != null' <<<"$output")" true
    assert_equal "$(jq -r '.[0].Author' <<<"$output")" "Ann <ann@x>"
    # the config blob itself (not layerbox's view of it)
    local cfg
    cfg=$(blob "$id")
    assert_equal "$(jq -r '.history[-1].comment' "$cfg")" "my message"
    assert_equal "$(jq -r '.history[-1].author' "$cfg")" "Ann <ann@x>"
    assert_equal "$(jq -r '.history[-1].created_by' "$cfg")" "sh -c echo hi > /f"
    assert_equal "$(jq -r '.container' "$cfg")" "$(lb inspect -f '{{.Id}}' c1)"
    assert_equal "$(jq -r '.author' "$cfg")" "Ann <ann@x>"
    assert_equal "$(jq '.history | length' "$cfg")" "$(($(jq '.history | length' "$(blob "$IMAGE_ID")") + 1))"
    # the parent is recorded on the index.json descriptor
    local m
    m=$(manifest_of "$id")
    assert_equal "$(jq -r --arg m "$m" '[.manifests[] | select(.digest == $m)][0]
        .annotations["io.layerbox.image.parent"]' "$LB_ROOT/images/index.json")" "$IMAGE_ID"
    run --separate-stderr lb run --rm mine:1 sh -c 'echo $A; cat /f'
    assert_equal "${lines[*]}" "1 hi"
}

@test "a running container is committed (paused, then thawed) and keeps running" {
    lb run -d --name r1 "$BUSYBOX" sh -c 'echo up > /up; while true; do echo t >> /tick; sleep 0.05; done' >/dev/null
    local id i
    id=$(lb inspect -f '{{.Id}}' r1)
    for i in $(seq 100); do [ -s "$LB_ROOT/containers/$id/diff/tick" ] && break; sleep 0.05; done
    commit r1 run:1
    # thawed: it goes on writing
    local n1 n2
    n1=$(wc -l < "$LB_ROOT/containers/$id/diff/tick")
    sleep 0.5
    n2=$(wc -l < "$LB_ROOT/containers/$id/diff/tick")
    [ "$n2" -gt "$n1" ] || { echo "the container stopped ticking ($n1 → $n2)" >&2; return 1; }
    assert_equal "$(lb inspect -f '{{.State.Status}}' r1)" running
    # the freezer group made for the commit is gone again
    [ ! -e "/sys/fs/cgroup/freezer/layerbox/$id" ] || { echo "freezer group left" >&2; return 1; }
    run --separate-stderr lb run --rm run:1 cat /up
    assert_equal "$output" up
    commit --pause=false r1 run:2
    commit -p=false r1 run:3
    assert_equal "$(lb inspect -f '{{.State.Status}}' r1)" running
}

@test "commit, save, podman load: podman runs the image and sees the files" {
    require_tool podman
    lb run --name c1 "$BUSYBOX" sh -c 'echo from-layerbox > /file; rm /etc/group'
    local name=localhost/lb-t2320-$$-$BATS_TEST_NUMBER:1
    commit c1 "$name"
    lb save -o "$LB_TMP/s.tar" "$name"
    PODMAN_IMAGES+=("$name")
    run podman load -i "$LB_TMP/s.tar"
    assert_equal "$status" 0 "podman load: $output"
    run podman run --rm --network none "$name" sh -c 'cat /file; test -e /etc/group || echo gone'
    assert_equal "$status" 0 "podman run: $output"
    assert_equal "${lines[*]}" "from-layerbox gone"
}

@test "bad input is one line, non-zero, and changes nothing" {
    lb create --name c1 "$BUSYBOX" true >/dev/null
    local before
    before=$(store_snapshot "$LB_ROOT")
    must_fail lb commit nosuch
    assert_one_line_error "no such container"
    must_fail lb commit -c 'FROB x' c1 mine:1
    assert_one_line_error "FROB"
    must_fail lb commit c1 'Bad:Tag'
    assert_one_line_error "invalid reference"
    must_fail lb commit c1 "mine@sha256:$(printf '%064d' 0)"
    assert_one_line_error
    must_fail -c 125 lb commit --pause=maybe c1
    assert_one_line_error "pause"
    must_fail -c 125 lb commit
    assert_one_line_error
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "with the vfs driver the diff compares the container's copy with the image's layers" {
    LB_ROOT=$LB_TMP/vfs
    lb --storage-driver vfs load -i "$(fixture busybox.docker.tar)" >/dev/null
    lb run --name v1 "$BUSYBOX" sh -c 'echo a > /a; rm -rf /home; mkdir /home; echo n > /home/n; rm /bin/ls'
    commit v1 vfs:1
    run --separate-stderr lb run --rm vfs:1 sh -c 'cat /a; ls /home; test -e /bin/ls || echo gone'
    assert_equal "${lines[*]}" "a n gone"
    # nothing left in tmp/ (the image's merged copy is removed)
    assert_equal "$(ls -A "$LB_ROOT/tmp")" ""
}
