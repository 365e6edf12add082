#!/usr/bin/env bats
# layerbox image mount / image umount: an image's layers as one file system, with each driver.
# The expected union is fixtures/README.md's "What a container sees" for the three-layer image
# and mkmany.sh's description for the 120-layer one, written out here by hand; the mount itself
# is checked in /proc/self/mountinfo, never through layerbox's own output.
#
# These tests load images and mount them, so they need `load` to unpack layers into
# ROOT/layers/<chain>/diff: until it does, every test that mounts a loaded image fails with
# "has layers that are not unpacked".

load helpers

THREE=layerbox-fixtures/three-layer
MANY=layerbox-fixtures/many-layers
BUSYBOX=layerbox-fixtures/busybox

# use_driver NAME: record the store's driver before anything is loaded, so that load unpacks
# the layers in that driver's whiteout format.
use_driver() {
    DRIVER=$1
    lb --storage-driver "$DRIVER" info >/dev/null || return 1
    assert_equal "$(cat "$LB_ROOT/driver")" "$DRIVER" "recorded driver"
}

load_image() {
    lb --storage-driver "$DRIVER" load -i "$(fixture "$1")" >/dev/null
}

# The mountinfo line whose mount point (field 5) is $1, or nothing.
mountinfo_of() {
    awk -v mp="$1" '$5 == mp' /proc/self/mountinfo
}

# The three-layer union, as fixtures/README.md describes it.
assert_three_layer_union() {
    local m=$1 listing
    listing=$(cd "$m" && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort) || return 1
    assert_equal "$listing" "data d
data/change.txt f
data/hard1.txt f
data/hard2.txt f
data/keep.txt f
data/link l
data/new.txt f
data/run.sh f
data/third.txt f
etc d
etc/os-release f
opaque d
opaque/fresh f" "entries of the union" || return 1
    assert_equal "$(cat "$m/data/change.txt")" "change: version 2, from layer 2" || return 1
    assert_equal "$(cat "$m/data/keep.txt")" "keep: from layer 1, never touched again" || return 1
    assert_equal "$(cat "$m/data/new.txt")" "new: added by layer 2" || return 1
    assert_equal "$(cat "$m/data/third.txt")" "third: added by layer 3" || return 1
    assert_equal "$(cat "$m/data/hard1.txt")" \
        "hard: one file with two names, hard1.txt and hard2.txt" || return 1
    assert_equal "$(cat "$m/opaque/fresh")" \
        "fresh: added by layer 2 after hiding everything below it" || return 1
    assert_equal "$(head -n 1 "$m/etc/os-release")" 'NAME="layerbox three-layer fixture"' || return 1
    assert_equal "$(readlink "$m/data/link")" "keep.txt" "data/link" || return 1
    assert_equal "$(stat -c %a "$m/data/run.sh")" 755 "mode of run.sh (layer 3)" || return 1
    assert_equal "$(stat -c %i "$m/data/hard1.txt")" "$(stat -c %i "$m/data/hard2.txt")" \
        "hard1 and hard2 are one inode" || return 1
    [ ! -e "$m/data/remove.txt" ] && [ ! -e "$m/etc/motd" ] && [ ! -e "$m/opaque/old1" ] &&
        [ ! -e "$m/opaque/old2" ]
}

# The 120-layer union, as mkmany.sh describes it.
assert_many_union() {
    local m=$1 i nnn names
    assert_equal "$(cd "$m" && ls)" "$(printf 'gone\nmany\ntop.txt')" "top level" || return 1
    assert_equal "$(cat "$m/top.txt")" "top: layer 120" || return 1
    assert_equal "$(ls -A "$m/gone")" "120" "gone/ keeps only the last layer's file" || return 1
    names=$(ls -A "$m/many")
    assert_equal "$names" "$(seq -f '%03g' 1 120)" "many/" || return 1
    for ((i = 1; i <= 120; i++)); do
        nnn=$(printf '%03d' "$i")
        [ "$(cat "$m/many/$nnn")" = "many: layer $nnn" ] || {
            echo "many/$nnn: $(cat "$m/many/$nnn")" >&2
            return 1
        }
    done
}

@test "image mount with overlay shows the three-layer union, read-only, and umount undoes it" {
    require_overlay
    use_driver overlay
    load_image three-layer.docker.tar
    load_fixture_ids three-layer
    want="$LB_ROOT/mounts/${IMAGE_ID#sha256:}/merged"
    run --separate-stderr lb image mount "$THREE"
    assert_equal "$status" 0
    assert_equal "$output" "$want" "printed mount point"
    assert_three_layer_union "$want"
    line=$(mountinfo_of "$want")
    [[ $line == *" - overlay "* ]] || { echo "not an overlay: $line" >&2; false; }
    [[ $line == *"lowerdir=l/"* ]] || { echo "no short links: $line" >&2; false; }
    [[ $line == *" ro,"* ]] || { echo "not read-only: $line" >&2; false; }
    run ! touch "$want/data/new-file"
    run lb image umount "$THREE"
    assert_equal "$status" 0
    assert_equal "$output" "${IMAGE_ID#sha256:}"
    assert_equal "$(mountinfo_of "$want")" "" "mountinfo after umount"
    [ ! -e "$LB_ROOT/mounts/${IMAGE_ID#sha256:}" ]
}

@test "image mount with vfs copies the three-layer union, and umount removes the copy" {
    use_driver vfs
    load_image three-layer.docker.tar
    load_fixture_ids three-layer
    want="$LB_ROOT/mounts/${IMAGE_ID#sha256:}/merged"
    run --separate-stderr lb image mount "$THREE"
    assert_equal "$status" 0
    assert_equal "$output" "$want"
    assert_three_layer_union "$want"
    assert_equal "$(mountinfo_of "$want")" "" "vfs mounts nothing"
    # The layers on disk still hold their whiteout markers; the copy has none.
    chains=($CHAIN_IDS)
    [ -f "$LB_ROOT/layers/${chains[1]#sha256:}/diff/data/.wh.remove.txt" ]
    [ -f "$LB_ROOT/layers/${chains[1]#sha256:}/diff/opaque/.wh..wh..opq" ]
    run lb image umount "$THREE"
    assert_equal "$status" 0
    [ ! -e "$LB_ROOT/mounts/${IMAGE_ID#sha256:}" ]
    [ -f "$LB_ROOT/layers/${chains[0]#sha256:}/diff/data/keep.txt" ]
}

@test "mounting twice counts: same path, and only the last umount unmounts" {
    require_overlay
    use_driver overlay
    load_image three-layer.docker.tar
    load_fixture_ids three-layer
    hex=${IMAGE_ID#sha256:}
    want="$LB_ROOT/mounts/$hex/merged"
    first=$(lb image mount "$THREE")
    second=$(lb image mount "${hex:0:12}")
    assert_equal "$first" "$want"
    assert_equal "$second" "$want"
    assert_equal "$(cat "$LB_ROOT/mounts/$hex/count")" 2 "count"
    assert_equal "$(mountinfo_of "$want" | wc -l)" 1 "mounted once"
    run lb image umount "$THREE"
    assert_equal "$status" 0
    assert_equal "$(cat "$LB_ROOT/mounts/$hex/count")" 1 "count"
    [ -n "$(mountinfo_of "$want")" ]
    assert_equal "$(cat "$want/data/new.txt")" "new: added by layer 2"
    run lb image umount "$THREE"
    assert_equal "$status" 0
    assert_equal "$(mountinfo_of "$want")" ""
    must_fail -c 1 lb image umount "$THREE"
    assert_one_line_error "image $THREE is not mounted"
}

@test "umount -f unmounts whatever the count" {
    require_overlay
    use_driver overlay
    load_image three-layer.docker.tar
    load_fixture_ids three-layer
    want="$LB_ROOT/mounts/${IMAGE_ID#sha256:}/merged"
    lb image mount "$THREE" >/dev/null
    lb image mount "$THREE" >/dev/null
    lb image mount "$THREE" >/dev/null
    run lb image umount -f "$THREE"
    assert_equal "$status" 0
    assert_equal "$(mountinfo_of "$want")" ""
    [ ! -e "$LB_ROOT/mounts/${IMAGE_ID#sha256:}" ]
}

@test "a 120-layer image mounts with overlay: its lowerdir of short links fits in one page" {
    require_overlay
    use_driver overlay
    load_image many-layers.docker.tar
    load_fixture_ids many-layers
    want="$LB_ROOT/mounts/${IMAGE_ID#sha256:}/merged"
    run --separate-stderr lb image mount "$MANY"
    assert_equal "$status" 0
    assert_equal "$output" "$want"
    line=$(mountinfo_of "$want")
    lower=$(grep -o 'lowerdir=[^,]*' <<<"$line")
    lower=${lower#lowerdir=}
    IFS=: read -r -a lowers <<<"$lower"
    assert_equal "${#lowers[@]}" 120 "lower layers in mountinfo"
    for l in "${lowers[@]}"; do
        [[ $l =~ ^l/[A-Z2-7]{26}$ ]] || { echo "not a short link: $l" >&2; false; }
    done
    # Top first: the first short link leads to the top layer (the last ChainID).
    chains=($CHAIN_IDS)
    assert_equal "$(readlink "$LB_ROOT/layers/${lowers[0]}")" "../${chains[119]#sha256:}/diff"
    assert_equal "$(readlink "$LB_ROOT/layers/${lowers[119]}")" "../${chains[0]#sha256:}/diff"
    assert_many_union "$want"
    run lb image umount "$MANY"
    assert_equal "$status" 0
    assert_equal "$(mountinfo_of "$want")" ""
}

@test "a 120-layer image mounts with vfs too" {
    use_driver vfs
    load_image many-layers.docker.tar
    load_fixture_ids many-layers
    want="$LB_ROOT/mounts/${IMAGE_ID#sha256:}/merged"
    run --separate-stderr lb image mount "$MANY"
    assert_equal "$status" 0
    assert_equal "$output" "$want"
    assert_many_union "$want"
    lb image umount "$MANY" >/dev/null
    [ ! -e "$want" ]
}

@test "a one-layer image mounts read-only with overlay (a bind: overlayfs wants two lowers)" {
    require_overlay
    use_driver overlay
    load_image busybox.docker.tar
    load_fixture_ids busybox
    want="$LB_ROOT/mounts/${IMAGE_ID#sha256:}/merged"
    run --separate-stderr lb image mount "$BUSYBOX"
    assert_equal "$status" 0
    assert_equal "$output" "$want"
    cmp "$want/usr/bin/lb-init" "$(fixture lb-init)"
    [ -x "$want/bin/busybox" ]
    [ -n "$(mountinfo_of "$want")" ]
    run ! touch "$want/tmp/x"
    lb image umount "$BUSYBOX" >/dev/null
    assert_equal "$(mountinfo_of "$want")" ""
}

@test "--explain narrates the driver and the overlay mount" {
    require_overlay
    use_driver overlay
    load_image three-layer.docker.tar
    run --separate-stderr lb --explain image mount "$THREE"
    assert_equal "$status" 0
    assert_output_contains --stderr "[driver] overlay: recorded in $LB_ROOT/driver"
    assert_output_contains --stderr "[mount] overlay lowerdir=l/"
    lb image umount "$THREE" >/dev/null
}

@test "an image whose layers are not all unpacked is refused" {
    use_driver vfs
    load_image three-layer.docker.tar
    load_fixture_ids three-layer
    chains=($CHAIN_IDS)
    rm -rf "${LB_ROOT:?}/layers/${chains[1]#sha256:}"
    must_fail -c 1 lb image mount "$THREE"
    assert_one_line_error "image $THREE has layers that are not unpacked: load it again"
    [ ! -e "$LB_ROOT/mounts/${IMAGE_ID#sha256:}" ]
}

@test "an unknown image is reported and nothing is mounted" {
    use_driver vfs
    must_fail -c 1 lb image mount no-such-image
    assert_one_line_error "no such image"
    must_fail -c 1 lb image umount no-such-image
    assert_one_line_error "no such image"
    [ -z "$(ls -A "$LB_ROOT/mounts" 2>/dev/null)" ]
}

@test "umount of an image that is not mounted fails" {
    use_driver vfs
    load_image three-layer.docker.tar
    must_fail -c 1 lb image umount "$THREE"
    assert_one_line_error "image $THREE is not mounted"
}

@test "image usage errors exit 125; --help prints the usage" {
    must_fail -c 125 lb image
    assert_one_line_error "\"image\" requires a command"
    must_fail -c 125 lb image frobnicate
    assert_one_line_error "unknown command 'frobnicate' for 'layerbox image'"
    must_fail -c 125 lb image mount
    assert_one_line_error "\"image mount\" requires exactly 1 argument (see 'layerbox image mount --help')"
    must_fail -c 125 lb image umount a b
    assert_one_line_error "\"image umount\" requires exactly 1 argument"
    must_fail -c 125 lb image mount --bogus x
    assert_one_line_error "unknown flag: --bogus"
    run lb image --help
    assert_equal "$status" 0
    assert_output_contains "mount IMAGE"
    run lb image mount --help
    assert_equal "$status" 0
    assert_output_contains "Usage:  layerbox image mount IMAGE"
    run lb image umount -h
    assert_equal "$status" 0
    assert_output_contains "--force"
}

@test "rmi refuses to delete a mounted image" {
    use_driver vfs
    load_image three-layer.docker.tar
    load_fixture_ids three-layer
    want="$LB_ROOT/mounts/${IMAGE_ID#sha256:}/merged"
    lb image mount "$THREE" >/dev/null
    must_fail -c 1 lb rmi "$THREE"
    assert_one_line_error "is mounted at $want: run 'layerbox image umount"
    run lb inspect --format '{{.Id}}' "$THREE"
    assert_equal "$output" "$IMAGE_ID"
    lb image umount "$THREE" >/dev/null
    run lb rmi "$THREE"
    assert_equal "$status" 0
}
