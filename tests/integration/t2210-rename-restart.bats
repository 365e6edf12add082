#!/usr/bin/env bats
# layerbox rename and restart. rename changes only the record's name (ID, layer and state stay);
# a taken or invalid name is refused with one line and nothing changes. restart stops a running
# container (stop signal, SIGKILL after -t) and starts it detached: a new process (pid, start
# time), the same container. Facts are read from the record files with jq.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
}

teardown() {
    remove_all_containers
    lb_teardown
}

field() { # ID FILE JQ-EXPR
    jq -r "$3" "$LB_ROOT/containers/$1/$2"
}

@test "rename changes the name, keeps the ID, and the new name resolves" {
    local id
    id=$(lb create --name old "$BUSYBOX" lb-init echo renamed)
    run --separate-stderr lb rename old new
    assert_equal "$status" 0
    assert_equal "$output" ""
    assert_equal "$(field "$id" config.json .Name)" new
    must_fail -c 1 lb inspect old
    run --separate-stderr lb start -a new
    assert_equal "$status" 0
    assert_equal "$output" "renamed"
}

@test "rename refuses a name in use, an invalid name and the same name, changing nothing" {
    local a b before
    a=$(lb create --name a1 "$BUSYBOX" lb-init exit 0)
    b=$(lb create --name b1 "$BUSYBOX" lb-init exit 0)
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb rename a1 b1
    assert_one_line_error "the container name 'b1' is already in use by container '${b:0:12}'"
    must_fail -c 1 lb rename a1 'bad name'
    assert_one_line_error "invalid container name 'bad name'"
    must_fail -c 1 lb rename a1 a1
    assert_one_line_error "renaming a container with the same name as its current name"
    must_fail -c 1 lb rename nosuch x1
    assert_one_line_error "no such container: 'nosuch'"
    must_fail -c 125 lb rename a1
    assert_one_line_error "requires"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
    assert_equal "$(field "$a" config.json .Name)" a1
}

@test "restart gives a running container a new process" {
    local id pid1 pid2
    id=$(lb run -d --name r "$BUSYBOX" lb-init sleep 60)
    pid1=$(field "$id" state.json .Pid)
    [ -d "/proc/$pid1" ]
    run --separate-stderr lb restart -t 0 r
    assert_equal "$status" 0
    assert_equal "$output" "r"
    assert_equal "$(field "$id" state.json .Status)" running
    pid2=$(field "$id" state.json .Pid)
    [ "$pid2" != "$pid1" ] || { echo "same pid $pid1 after restart" >&2; return 1; }
    [ -d "/proc/$pid2" ]
    [ ! -d "/proc/$pid1" ] || ! grep -q lb-init "/proc/$pid1/cmdline" 2>/dev/null
    assert_equal "$(ls "$LB_ROOT/containers")" "$id"
}

@test "restart starts a created or exited container, and fails for a missing one" {
    local id
    id=$(lb create --name e "$BUSYBOX" lb-init write /marker ran)
    run --separate-stderr lb restart e
    assert_equal "$status" 0
    assert_equal "$output" "e"
    run lb wait e
    assert_equal "$output" "0"
    assert_equal "$(cat "$LB_ROOT/containers/$id/diff/marker")" "ran"
    rm "$LB_ROOT/containers/$id/diff/marker"
    run --separate-stderr lb restart e
    assert_equal "$status" 0
    lb wait e >/dev/null
    assert_equal "$(cat "$LB_ROOT/containers/$id/diff/marker")" "ran"
    must_fail -c 1 lb restart nosuch
    assert_one_line_error "no such container: 'nosuch'"
}
