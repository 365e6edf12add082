#!/usr/bin/env bats
# layerbox top CONTAINER [ps OPTIONS]: the host's ps (default -ef) with its header, cut down to
# the container's processes (its PID namespace); errors for a container that is not running, an
# unknown one, and ps options without a PID column — each one line, the store unchanged.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
}

teardown() {
    remove_all_containers
    lb_teardown
}

# The host pids of the processes in the PID namespace of $1 (read from /proc, not layerbox).
pids_in_ns_of() {
    local ns p
    ns=$(readlink "/proc/$1/ns/pid") || return 1
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
    done
    return 0
}

start_two_sleeps() {
    local id i pid
    id=$(lb run -d --name top1 "$BUSYBOX" sh -c 'sleep 100 & sleep 200') || return 1
    for i in $(seq 50); do
        pid=$(jq -r .Pid "$LB_ROOT/containers/$id/state.json")
        # both sleeps exist: the namespace has two processes
        [ "$pid" -gt 0 ] 2>/dev/null && [ "$(pids_in_ns_of "$pid" | wc -l)" -eq 2 ] && break
        sleep 0.1
    done
    echo "$pid"
}

@test "top lists the container's processes with ps -ef's header, and nothing of the host" {
    local init
    init=$(start_two_sleeps)
    run --separate-stderr lb top top1
    assert_equal "$status" 0
    assert_line_count 3
    # docker's table: ps -ef's titles, columns at least 20 wide
    [[ ${lines[0]} =~ ^UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD$ ]] ||
        { echo "header: ${lines[0]}" >&2; return 1; }
    assert_equal "${lines[0]:0:20}" "UID                 "
    # the PID column, compared with the namespace as /proc shows it
    local got want
    got=$(awk 'NR > 1 { print $2 }' <<<"$output" | LC_ALL=C sort)
    want=$(pids_in_ns_of "$init" | LC_ALL=C sort)
    assert_equal "$got" "$want"
    [[ $output == *"sleep 100"* && $output == *"sleep 200"* ]] || { echo "$output" >&2; return 1; }
    # not the host's: this shell, its parent, pid 1
    local p
    for p in $$ $PPID 1; do
        ! grep -qE "^[^ ]+ +$p " <<<"$output" || { echo "host pid $p listed: $output" >&2; return 1; }
    done
}

@test "top passes ps options through: -o pid,comm" {
    local init
    init=$(start_two_sleeps)
    run --separate-stderr lb top top1 -o pid,comm
    assert_equal "$status" 0
    assert_line_count 3
    [[ ${lines[0]} =~ ^PID\ +COMMAND$ ]] || { echo "header: ${lines[0]}" >&2; return 1; }
    local rows
    rows=$(awk 'NR > 1 { print $2 }' <<<"$output")
    assert_equal "$rows" "sleep
sleep"
    assert_equal "$(awk 'NR > 1 { print $1 }' <<<"$output" | LC_ALL=C sort)" \
        "$(pids_in_ns_of "$init" | LC_ALL=C sort)"
}

@test "top with ps options that have no PID column is a clear error" {
    start_two_sleeps >/dev/null
    must_fail -c 1 lb top top1 -o comm
    assert_one_line_error "ps output has no PID column: cannot tell which rows belong to the container"
    assert_equal "$output" ""
}

@test "top of a container that is not running, or does not exist, fails and changes nothing" {
    lb create --name idle "$BUSYBOX" true >/dev/null
    lb run --name done "$BUSYBOX" true >/dev/null
    local before
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb top idle
    assert_one_line_error "container 'idle' is not running"
    must_fail -c 1 lb top done
    assert_one_line_error "container 'done' is not running"
    must_fail -c 1 lb top nosuch
    assert_one_line_error "no such container: 'nosuch'"
    must_fail -c 125 lb top
    assert_one_line_error "requires at least 1 argument"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before" "store"
}
