#!/usr/bin/env bats
# `diff CONTAINER`: docker's A/C/D lines. Every expected list is written by hand from docker's
# rules (moby ChangesDirs/statDifferent, layer/changes.h): a path only in the container is A
# (and all below it), one only in the image is D (only the top of a deleted tree), one in both
# with other metadata, size or mtime is C; a directory with changes below it is C; an unchanged
# directory is not listed; lines sorted by path. The busybox fixture has /bin/ls (a symlink),
# /etc/passwd, /home/lbuser and an empty /tmp; no /new.txt.

load helpers

setup() {
    busybox_setup
}

teardown() {
    remove_all_containers
    lb_teardown
}

IMG=layerbox-fixtures/busybox
CHANGES='echo hi >/new.txt; echo x >>/etc/passwd; rm /bin/ls; rm -rf /home; mkdir -p /tmp/a/b; touch /tmp/a/b/f'
EXPECTED='C /bin
D /bin/ls
C /etc
C /etc/passwd
D /home
A /new.txt
C /tmp
A /tmp/a
A /tmp/a/b
A /tmp/a/b/f'

@test "diff of a stopped container lists its additions, changes and deletions as docker does" {
    lb run --name c "$IMG" sh -c "$CHANGES"
    run lb diff c
    assert_equal "$status" 0
    assert_equal "$output" "$EXPECTED"
    # the root was mounted for the diff only
    assert_equal "$(awk -v r="$LB_ROOT/" 'index($5, r) == 1' /proc/self/mountinfo)" "" "mounts after"
}

@test "a container that changed nothing has an empty diff" {
    lb run --name quiet "$IMG" true
    run lb diff quiet
    assert_equal "$status" 0
    assert_equal "$output" ""
    # created, never started: nothing either
    lb create --name fresh "$IMG" true >/dev/null
    run lb diff fresh
    assert_equal "$status" 0
    assert_equal "$output" ""
}

@test "a directory removed and made again hides the image's children: they are D" {
    lb run --name opq "$IMG" sh -c 'rm -rf /home && mkdir /home && touch /home/n'
    run lb diff opq
    assert_equal "$status" 0
    assert_equal "$output" "C /home
D /home/lbuser
A /home/n"
}

@test "diff of a running container reads its live mount" {
    lb run -d --name live "$IMG" sh -c "$CHANGES; touch /ready; exec sleep 1000" >/dev/null
    local i
    for ((i = 0; i < 50; i++)); do
        [ -e "$LB_ROOT/containers/$(lb inspect --format '{{.Id}}' live)/diff/ready" ] && break
        sleep 0.1
    done
    run lb diff live
    assert_equal "$status" 0
    assert_equal "$output" "C /bin
D /bin/ls
C /etc
C /etc/passwd
D /home
A /new.txt
A /ready
C /tmp
A /tmp/a
A /tmp/a/b
A /tmp/a/b/f"
    # still running, still mounted
    assert_equal "$(lb inspect --format '{{.State.Status}}' live)" running
}

@test "diff with the vfs driver compares the container's copy with the image's layers" {
    lb_teardown
    lb_setup
    lb --storage-driver vfs load -i "$(fixture busybox.docker.tar)" >/dev/null
    assert_equal "$(cat "$LB_ROOT/driver")" vfs
    lb run --name v "$IMG" sh -c "$CHANGES"
    run lb diff v
    assert_equal "$status" 0
    assert_equal "$output" "$EXPECTED"
    lb run --name v2 "$IMG" sh -c 'rm -rf /home && mkdir /home && touch /home/n'
    run lb diff v2
    assert_equal "$status" 0
    assert_equal "$output" "C /home
D /home/lbuser
A /home/n"
}

@test "diff of an unknown container or without an argument fails clearly" {
    must_fail -c 1 lb diff nope
    assert_one_line_error "layerbox: no such container: 'nope'"
    must_fail -c 125 lb diff
    assert_one_line_error "diff"
    must_fail -c 125 lb diff a b
}
