#!/usr/bin/env bats
# The storage driver: chosen once per store (--storage-driver, else overlay when a probe mount
# works in the store, else vfs), recorded in ROOT/driver, shown with its reason by `info`, and
# never switched afterwards. The reasons are the ones driver.h documents; which one applies is
# decided here independently (our own overlay probe, `id -u`, a store on overlayfs).

load helpers

@test "a new store as root picks overlay after a probe mount, records it, and info says why" {
    require_overlay
    run lb info
    assert_equal "$status" 0
    assert_output_contains \
        "Storage Driver: overlay (overlayfs is available and a probe mount succeeded)"
    assert_equal "$(cat "$LB_ROOT/driver")" overlay "ROOT/driver"
    # The probe cleaned up after itself: nothing in tmp/, nothing mounted in the store.
    assert_equal "$(ls -A "$LB_ROOT/tmp")" "" "tmp/ after the probe"
    assert_equal "$(awk -v r="$LB_ROOT/" 'index($5, r) == 1' /proc/self/mountinfo)" "" "mounts"
    run lb info
    assert_output_contains "Storage Driver: overlay (recorded in $LB_ROOT/driver)"
}

@test "--storage-driver vfs on a new store records vfs; later commands read the record" {
    run lb --storage-driver vfs info
    assert_equal "$status" 0
    assert_output_contains "Storage Driver: vfs (requested with --storage-driver)"
    assert_equal "$(cat "$LB_ROOT/driver")" vfs
    run lb info
    assert_equal "$status" 0
    assert_output_contains "Storage Driver: vfs (recorded in $LB_ROOT/driver)"
    run lb --storage-driver=vfs info
    assert_equal "$status" 0
    assert_output_contains "Storage Driver: vfs (recorded in $LB_ROOT/driver)"
}

@test "--storage-driver overlay on a new store is checked with a probe mount" {
    require_overlay
    run lb --storage-driver overlay info
    assert_equal "$status" 0
    assert_output_contains \
        "Storage Driver: overlay (requested with --storage-driver, and a probe mount succeeded)"
    assert_equal "$(cat "$LB_ROOT/driver")" overlay
}

@test "a store cannot switch drivers" {
    lb --storage-driver vfs info >/dev/null
    must_fail -c 125 lb --storage-driver overlay info
    assert_one_line_error \
        "layerbox: this store uses the 'vfs' driver ($LB_ROOT/driver); it cannot switch to 'overlay'"
    must_fail -c 125 lb --storage-driver overlay image mount anything
    assert_one_line_error "it cannot switch to 'overlay'"
    assert_equal "$(cat "$LB_ROOT/driver")" vfs "ROOT/driver unchanged"
}

@test "an overlay store cannot switch to vfs either" {
    require_overlay
    lb --storage-driver overlay info >/dev/null
    must_fail -c 125 lb --storage-driver vfs info
    assert_one_line_error \
        "layerbox: this store uses the 'overlay' driver ($LB_ROOT/driver); it cannot switch to 'vfs'"
    assert_equal "$(cat "$LB_ROOT/driver")" overlay
}

@test "an unknown driver is a usage error and records nothing" {
    must_fail -c 125 lb --storage-driver zfs info
    assert_one_line_error "layerbox: unknown storage driver 'zfs' (overlay, vfs)"
    [ ! -e "$LB_ROOT/driver" ]
    must_fail -c 125 lb --storage-driver overlay2 image mount x
    assert_one_line_error "unknown storage driver 'overlay2' (overlay, vfs)"
    [ ! -e "$LB_ROOT/driver" ]
}

@test "a corrupt ROOT/driver is reported, not replaced" {
    mkdir -p "$LB_ROOT"
    echo aufs >"$LB_ROOT/driver"
    must_fail -c 1 lb info
    assert_one_line_error "names an unknown storage driver 'aufs'"
    assert_equal "$(cat "$LB_ROOT/driver")" aufs
}

@test "info --format gives .Driver and .DriverReason" {
    lb --storage-driver vfs info >/dev/null
    run lb info --format '{{.Driver}}|{{.DriverReason}}'
    assert_equal "$status" 0
    assert_equal "$output" "vfs|recorded in $LB_ROOT/driver"
    run lb info --format json
    assert_equal "$(jq -r .Driver <<<"$output")" vfs
}

@test "without root a new store uses vfs, and info says so" {
    require_root
    require_tool setpriv
    chmod 0755 "$LB_TEST_DIR"
    mkdir "$LB_TMP/store"
    chown 65534:65534 "$LB_TMP/store"
    run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$LAYERBOX" --root "$LB_TMP/store" info
    assert_equal "$status" 0
    assert_output_contains "Storage Driver: vfs (not root)"
    assert_equal "$(cat "$LB_TMP/store/driver")" vfs
}

@test "a store on overlayfs gets vfs: the probe mount fails there, and info names the error" {
    require_overlay
    local o=$LB_TMP/ovl
    mkdir -p "$o/lower" "$o/upper" "$o/work" "$o/merged"
    mount -t overlay overlay -o "lowerdir=$o/lower,upperdir=$o/upper,workdir=$o/work" "$o/merged"
    # Our own probe first: an overlay whose upper dir lives on overlayfs must be refused.
    mkdir -p "$o/merged/p/l" "$o/merged/p/u" "$o/merged/p/w" "$o/merged/p/m"
    if mount -t overlay overlay \
        -o "lowerdir=$o/merged/p/l,upperdir=$o/merged/p/u,workdir=$o/merged/p/w" \
        "$o/merged/p/m" 2>/dev/null; then
        umount "$o/merged/p/m"
        lb_skip "this kernel accepts overlayfs as an upper directory"
    fi
    run --separate-stderr "$LAYERBOX" --root "$o/merged/store" info
    assert_equal "$status" 0
    assert_output_contains "Storage Driver: vfs (overlayfs probe mount failed: "
    assert_equal "$(cat "$o/merged/store/driver")" vfs
    umount "$o/merged"
}
