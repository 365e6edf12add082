#!/usr/bin/env bats
# -v in create/run: a host directory, a named volume or an anonymous one bind-mounted into the
# container (read-only with :ro). Named volumes outlive their containers; rm -v removes a
# container's anonymous volumes, plain rm keeps them; `volume rm` refuses a volume a container
# names. Files are read and written from inside by the fixture's lb-init and checked from the
# host with the shell.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
    HOSTDIR=$(mktemp -d)
}

teardown() {
    rm -rf "$HOSTDIR"
    lb_teardown
}

# The anonymous volumes in the store (names of 64 hex), one per line.
anon_volumes() {
    ls -A "$LB_ROOT/volumes" 2>/dev/null | grep -E '^[0-9a-f]{64}$' || true
}

@test "a host directory bind-mounted with -v is seen and written inside" {
    printf 'from the host\n' >"$HOSTDIR/in.txt"
    run --separate-stderr lb run --rm -v "$HOSTDIR:/mnt/h" "$BUSYBOX" lb-init cat /mnt/h/in.txt
    assert_equal "$status" 0
    assert_equal "$output" "from the host"
    run --separate-stderr lb run --rm -v "$HOSTDIR:/mnt/h" "$BUSYBOX" lb-init write /mnt/h/out.txt inside
    assert_equal "$status" 0
    assert_equal "$(cat "$HOSTDIR/out.txt")" "inside"
}

@test "a :ro bind mount cannot be written from inside" {
    printf 'keep\n' >"$HOSTDIR/f"
    run --separate-stderr lb run --rm -v "$HOSTDIR:/ro:ro" "$BUSYBOX" lb-init write /ro/f changed
    [ "$status" -ne 0 ] || { echo "write succeeded on a read-only mount" >&2; return 1; }
    assert_equal "$(cat "$HOSTDIR/f")" "keep"
    [ ! -e "$HOSTDIR/new" ]
    run --separate-stderr lb run --rm -v "$HOSTDIR:/ro:ro" "$BUSYBOX" lb-init cat /ro/f
    assert_equal "$status" 0
    assert_equal "$output" "keep"
}

@test "a named volume is made on create, survives rm and is seen by a second container" {
    local id
    id=$(lb create --name first -v data:/data "$BUSYBOX" lb-init write /data/note kept)
    [ -d "$LB_ROOT/volumes/data/_data" ]
    run --separate-stderr lb start -a first
    assert_equal "$status" 0
    assert_equal "$(cat "$LB_ROOT/volumes/data/_data/note")" "kept"
    lb rm -v first >/dev/null
    [ ! -e "$LB_ROOT/containers/$id" ]
    [ -d "$LB_ROOT/volumes/data/_data" ] # named: rm -v keeps it
    run --separate-stderr lb run --rm -v data:/other "$BUSYBOX" lb-init cat /other/note
    assert_equal "$status" 0
    assert_equal "$output" "kept"
}

@test "an anonymous volume is removed by rm -v and kept by plain rm" {
    lb create --name keep -v /scratch "$BUSYBOX" lb-init write /scratch/f x >/dev/null
    local vol
    vol=$(anon_volumes)
    [[ $vol =~ ^[0-9a-f]{64}$ ]] || { echo "expected one anonymous volume, got: $vol" >&2; return 1; }
    lb start -a keep >/dev/null
    assert_equal "$(cat "$LB_ROOT/volumes/$vol/_data/f")" "x"
    lb rm keep >/dev/null
    [ -d "$LB_ROOT/volumes/$vol/_data" ]

    lb create --name drop -v /scratch "$BUSYBOX" lb-init exit 0 >/dev/null
    local vol2
    vol2=$(anon_volumes | grep -vx "$vol")
    [[ $vol2 =~ ^[0-9a-f]{64}$ ]] || { echo "expected a second anonymous volume, got: $vol2" >&2; return 1; }
    lb rm -v drop >/dev/null
    [ ! -e "$LB_ROOT/volumes/$vol2" ]
    [ -d "$LB_ROOT/volumes/$vol/_data" ] # not this container's
}

@test "run --rm removes the container's anonymous volumes" {
    run --separate-stderr lb run --rm -v /scratch "$BUSYBOX" lb-init exit 0
    assert_equal "$status" 0
    assert_equal "$(anon_volumes)" ""
}

@test "volume rm refuses a volume a container uses, and succeeds once it is removed" {
    local id
    id=$(lb create --name user -v shared:/s "$BUSYBOX" lb-init exit 0)
    must_fail -c 1 lb volume rm shared
    assert_one_line_error "remove shared: volume is in use - [$id]"
    [ -d "$LB_ROOT/volumes/shared/_data" ]
    lb rm user >/dev/null
    run lb volume rm shared
    assert_equal "$status" 0
    [ ! -e "$LB_ROOT/volumes/shared" ]
}

@test "bad -v specifications fail with one line and create nothing" {
    lb create --name taken "$BUSYBOX" lb-init exit 0 >/dev/null
    lb volume create warmup >/dev/null && lb volume rm warmup >/dev/null # volumes/ exists
    local before
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 125 lb create -v relative:dir "$BUSYBOX" lb-init exit 0
    assert_one_line_error "invalid mount path: 'dir' mount path must be absolute"
    must_fail -c 125 lb run -v "$HOSTDIR:/x:bogus" "$BUSYBOX" lb-init exit 0
    assert_one_line_error "invalid volume specification"
    must_fail -c 125 lb create -v "$HOSTDIR/missing:/x" "$BUSYBOX" lb-init exit 0
    assert_one_line_error "bind source path does not exist: $HOSTDIR/missing"
    must_fail -c 125 lb create -v /:/ "$BUSYBOX" lb-init exit 0
    assert_one_line_error "destination can't be '/'"
    # a good named/anonymous spec before a bad bind: neither volume is made
    must_fail -c 125 lb create -v fresh:/a -v /anon -v "$HOSTDIR/missing:/x" "$BUSYBOX" lb-init exit 0
    assert_one_line_error "bind source path does not exist"
    # good specs, but the record cannot be made (the name is taken): the new volumes are undone
    must_fail -c 125 lb create --name taken -v fresh:/a -v /anon "$BUSYBOX" lb-init exit 0
    assert_one_line_error "the container name 'taken' is already in use"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}
