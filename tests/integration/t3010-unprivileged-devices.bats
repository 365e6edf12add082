#!/usr/bin/env bats
# Device nodes in a layer need root to be created. Without root, layerbox unpacks everything
# else, skips the devices, and says so in exactly one warning line (issue 3, item 1).

load helpers

# A layer tar with two device nodes and a regular file, made with mknod and GNU tar as root.
make_device_tar() {
    local tree=$LB_TMP/devtree
    mkdir -p "$tree/dev"
    mknod "$tree/dev/null" c 1 3
    mknod "$tree/dev/zero" c 1 5
    echo hello >"$tree/hello.txt"
    tar -C "$tree" --numeric-owner -cf "$LB_TMP/devices.tar" .
}

as_nobody() {
    setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

@test "without root, devices are skipped with one warning line and the rest is unpacked" {
    require_root
    require_tool setpriv
    make_device_tar
    chmod 0755 "$LB_TEST_DIR" "$LB_TMP"
    chmod 0644 "$LB_TMP/devices.tar"
    mkdir "$LB_TMP/store"
    chown 65534:65534 "$LB_TMP/store"
    run --separate-stderr as_nobody "$LAYERBOX" --root "$LB_TMP/store" import "$LB_TMP/devices.tar" dev:1
    assert_equal "$status" 0
    assert_equal "$stderr" "layerbox: warning: 2 device nodes in the layers were not created: making device nodes needs root"
    # the regular file is there, the devices are not
    local diff
    diff=$(find "$LB_TMP/store/layers" -mindepth 2 -maxdepth 2 -name diff -type d)
    [ -n "$diff" ]
    assert_equal "$(cat "$diff/hello.txt")" hello
    [ ! -e "$diff/dev/null" ]
    [ ! -e "$diff/dev/zero" ]
}

@test "as root, the same devices are created and nothing is said" {
    require_root
    make_device_tar
    run --separate-stderr lb import "$LB_TMP/devices.tar" dev:1
    assert_equal "$status" 0
    assert_equal "$stderr" ""
    local diff
    diff=$(find "$LB_ROOT/layers" -mindepth 2 -maxdepth 2 -name diff -type d)
    [ -c "$diff/dev/null" ]
    assert_equal "$(stat -c '%t:%T' "$diff/dev/null")" "1:3"
}
