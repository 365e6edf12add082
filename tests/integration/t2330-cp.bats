#!/usr/bin/env bats
# cp: both directions, running and stopped containers, tar streams, -a; and the CVE-2018-15664
# race: a container that flips a directory and a symlink to "/" at the copied path while cp runs
# must never make layerbox write or read a host file. Contents are checked with cat/tar/stat,
# not with layerbox.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
}

teardown() {
    remove_all_containers
    rm -f "/tmp/lb-cp-secret-$$" "/tmp/lb-cp-canary-$$" "/lb-cp-canary-$$"
    lb_teardown
}

# A running container (sleeping) and a stopped one (created, never started).
make_containers() {
    lb run -d --name up "$BUSYBOX" lb-init sleep 60 >/dev/null
    lb create --name down "$BUSYBOX" sh >/dev/null
}

@test "cp copies a file and a directory into and out of a running and a stopped container" {
    make_containers
    mkdir -p "$LB_TMP/src/d/sub"
    echo one >"$LB_TMP/src/d/sub/f"
    echo two >"$LB_TMP/src/file"
    for c in up down; do
        lb cp "$LB_TMP/src/file" "$c:/tmp/renamed"
        lb cp "$LB_TMP/src/d" "$c:/tmp"
        lb cp "$c:/tmp/renamed" "$LB_TMP/$c.file"
        lb cp "$c:/tmp/d" "$LB_TMP/$c.dir"
        assert_equal "$(cat "$LB_TMP/$c.file")" "two"
        assert_equal "$(cat "$LB_TMP/$c.dir/sub/f")" "one"
        # "/." copies a directory's contents into an existing directory
        mkdir "$LB_TMP/$c.contents"
        lb cp "$c:/tmp/d/." "$LB_TMP/$c.contents"
        assert_equal "$(cat "$LB_TMP/$c.contents/sub/f")" "one"
    done
    # the stopped container's root is not left mounted
    run grep -F "$LB_ROOT/containers" /proc/self/mountinfo
    assert_line_count 1 # only the running container's root
}

@test "cp with - streams a tar out and reads a tar in" {
    make_containers
    for c in up down; do
        lb cp "$c:/etc" - >"$LB_TMP/$c.tar"
        run tar -tf "$LB_TMP/$c.tar"
        [ "$status" -eq 0 ]
        assert_output_contains "etc/passwd"
        mkdir -p "$LB_TMP/in/sub"
        echo streamed >"$LB_TMP/in/sub/s"
        tar -C "$LB_TMP/in" -cf "$LB_TMP/in.tar" sub
        lb cp - "$c:/tmp" <"$LB_TMP/in.tar"
        lb cp "$c:/tmp/sub/s" "$LB_TMP/$c.s"
        assert_equal "$(cat "$LB_TMP/$c.s")" "streamed"
    done
    must_fail -c 1 lb cp - down:/etc/passwd <"$LB_TMP/in.tar"
    assert_one_line_error "must be a directory"
}

@test "cp -a keeps the source's uid and gid; without it files copied in are root's" {
    require_root
    make_containers
    echo owned >"$LB_TMP/o"
    chown 1234:4321 "$LB_TMP/o"
    lb cp "$LB_TMP/o" down:/plain
    lb cp -a "$LB_TMP/o" down:/kept
    lb cp down:/plain "$LB_TMP/plain.out"
    lb cp down:/ - >"$LB_TMP/root.tar"
    run tar -tvf "$LB_TMP/root.tar" --numeric-owner ./kept ./plain
    [ "$status" -eq 0 ] || run tar -tvf "$LB_TMP/root.tar" --numeric-owner kept plain
    assert_output_contains "1234/4321"
    assert_output_contains "0/0"
}

@test "cp refuses bad input with one clear line and changes nothing" {
    make_containers
    echo x >"$LB_TMP/f"
    local d
    for d in "$LB_ROOT"/containers/*/diff; do store_snapshot "$d"; done >"$LB_TMP/before"
    must_fail -c 1 lb cp "$LB_TMP/f" nosuch:/tmp
    assert_one_line_error "no such container"
    must_fail -c 1 lb cp "$LB_TMP/f" down:/no/such/dir/f
    assert_one_line_error "no such directory"
    must_fail -c 1 lb cp down:/no/such/file "$LB_TMP/out"
    assert_one_line_error "could not find the file"
    must_fail -c 125 lb cp up:/etc down:/tmp
    assert_one_line_error "between containers"
    must_fail -c 125 lb cp "$LB_TMP/f" "$LB_TMP/g"
    assert_one_line_error "at least one container"
    for d in "$LB_ROOT"/containers/*/diff; do store_snapshot "$d"; done >"$LB_TMP/after"
    [ -s "$LB_TMP/before" ]
    run diff "$LB_TMP/before" "$LB_TMP/after"
    assert_equal "$output" "" "the store changed"
    [ ! -e "$LB_TMP/out" ]
}

@test "a container flipping a directory and a symlink to / never makes cp touch the host" {
    local secret=lb-cp-secret-$$ canary=lb-cp-canary-$$
    echo "HOST-ONLY-$$-$RANDOM" >"/tmp/$secret"
    local host_sum
    host_sum=$(sha256sum "/tmp/$secret")
    lb run -d --name flip "$BUSYBOX" sh -c "
        mkdir -p /tmp /x/tmp; echo container-content > /x/tmp/$secret
        while :; do mv /x /x.d; ln -s / /x; rm /x; mv /x.d /x; done" >/dev/null
    echo canary >"$LB_TMP/$canary"
    local i ok_in=0 ok_out=0
    for i in $(seq 60); do
        if lb cp "$LB_TMP/$canary" flip:/x/tmp/ 2>/dev/null; then ok_in=$((ok_in + 1)); fi
        lb cp "$LB_TMP/$canary" "flip:/x/tmp/$secret" 2>/dev/null || true
        rm -f "$LB_TMP/out"
        if lb cp "flip:/x/tmp/$secret" "$LB_TMP/out" 2>/dev/null; then
            ok_out=$((ok_out + 1))
            run grep -c "HOST-ONLY" "$LB_TMP/out"
            assert_equal "$output" "0" "copy $i returned host content"
        fi
        lb cp "flip:/x/tmp" - >"$LB_TMP/out.tar" 2>/dev/null || true
        run grep -c "HOST-ONLY" "$LB_TMP/out.tar"
        assert_equal "$output" "0" "tar $i returned host content"
    done
    # nothing was created or changed on the host outside the container
    [ ! -e "/tmp/$canary" ] || { echo "canary escaped to /tmp" >&2; return 1; }
    [ ! -e "/$canary" ] || { echo "canary escaped to /" >&2; return 1; }
    assert_equal "$(sha256sum "/tmp/$secret")" "$host_sum" "the host file changed"
    echo "copies in: $ok_in/60, out: $ok_out/60" >&3
    # the copies that worked went inside the container
    [ $((ok_in + ok_out)) -gt 0 ]
    # the stopped container: same paths, no escape; the canary is inside it
    lb stop -t 0 flip >/dev/null
    lb cp "$LB_TMP/$canary" flip:/x/tmp/ 2>/dev/null || true
    [ ! -e "/tmp/$canary" ]
    local found=0 p
    for p in /tmp /x/tmp /x.d/tmp; do
        lb cp "flip:$p/$canary" "$LB_TMP/back" 2>/dev/null && found=1
    done
    assert_equal "$found" "1" "the canary inside the container"
}
