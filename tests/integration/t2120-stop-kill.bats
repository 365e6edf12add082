#!/usr/bin/env bats
# stop [-t N], kill [-s SIG] and wait on detached containers: the stop signal, the timeout then
# SIGKILL (137), signals by name or number, the state machine's refusals, wait's exit codes.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
}

teardown() {
    remove_all_containers
    lb_teardown
}

state_of() { # ID FIELD
    jq -r ".$2" "$LB_ROOT/containers/$1/state.json"
}

wait_status() { # ID STATUS
    local i
    for i in $(seq 100); do
        [ "$(state_of "$1" Status 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    echo "container $1 never became $2" >&2
    return 1
}

ms() { echo $(($(date +%s%N) / 1000000)); }

@test "stop of a container that ignores SIGTERM waits -t seconds, then SIGKILL: 137" {
    local id t0 t1
    # lb-init sleep is PID 1 in its namespace without a SIGTERM handler: the kernel drops SIGTERM
    id=$(lb run -d --name s "$BUSYBOX" lb-init sleep 60)
    t0=$(ms)
    run --separate-stderr lb stop -t 1 s
    t1=$(ms)
    assert_equal "$status" 0
    assert_equal "$output" s
    [ $((t1 - t0)) -ge 900 ] || { echo "stop returned after $((t1 - t0)) ms, before -t 1" >&2; return 1; }
    [ $((t1 - t0)) -lt 6000 ] || { echo "stop took $((t1 - t0)) ms" >&2; return 1; }
    # recorded when stop returns, not later
    assert_equal "$(state_of "$id" Status)" exited
    assert_equal "$(state_of "$id" ExitCode)" 137
    run grep -F "$LB_ROOT/" /proc/self/mountinfo
    assert_equal "$output" ""
}

@test "stop of a container that handles SIGTERM returns quickly with its own code" {
    local id t0 t1
    id=$(lb run -d --name t "$BUSYBOX" lb-init trap 60)
    sleep 0.3 # let it install its handler
    t0=$(ms)
    run lb stop t
    t1=$(ms)
    assert_equal "$status" 0
    [ $((t1 - t0)) -lt 5000 ] || { echo "stop took $((t1 - t0)) ms" >&2; return 1; }
    assert_equal "$(state_of "$id" Status)" exited
    assert_equal "$(state_of "$id" ExitCode)" 0
    grep -q 'caught SIGTERM' "$LB_ROOT/containers/$id/container.log"
}

@test "--stop-signal and --stop-timeout are the defaults stop uses" {
    local id t0 t1
    id=$(lb run -d --name h --stop-signal SIGHUP --stop-timeout 30 "$BUSYBOX" lb-init trap 60)
    sleep 0.3
    t0=$(ms)
    run lb stop h
    t1=$(ms)
    assert_equal "$status" 0
    [ $((t1 - t0)) -lt 5000 ] || { echo "stop took $((t1 - t0)) ms" >&2; return 1; }
    grep -q 'caught SIGHUP' "$LB_ROOT/containers/$id/container.log"
    assert_equal "$(state_of "$id" ExitCode)" 0
}

@test "stop of a container that is not running prints its name and changes nothing" {
    local id before
    id=$(lb create --name c "$BUSYBOX" lb-init sleep 1)
    before=$(cat "$LB_ROOT/containers/$id/state.json")
    run --separate-stderr lb stop c
    assert_equal "$status" 0
    assert_equal "$output" c
    assert_equal "$(cat "$LB_ROOT/containers/$id/state.json")" "$before"
    must_fail -c 1 lb stop nosuch
    assert_one_line_error "no such container: 'nosuch'"
}

@test "kill sends SIGKILL by default; kill -s takes names and numbers" {
    local a b
    a=$(lb run -d --name a "$BUSYBOX" lb-init sleep 60)
    b=$(lb run -d --name b "$BUSYBOX" lb-init trap 60)
    sleep 0.3
    run --separate-stderr lb kill a
    assert_equal "$status" 0
    assert_equal "$output" a
    wait_status "$a" exited
    assert_equal "$(state_of "$a" ExitCode)" 137
    run lb kill -s INT b
    assert_equal "$status" 0
    wait_status "$b" exited
    grep -q 'caught SIGINT' "$LB_ROOT/containers/$b/container.log"
    lb start b >/dev/null
    sleep 0.3
    run lb kill -s SIGHUP b
    assert_equal "$status" 0
    wait_status "$b" exited
    grep -q 'caught SIGHUP' "$LB_ROOT/containers/$b/container.log"
    lb start b >/dev/null
    sleep 0.3
    run lb kill --signal 15 b
    assert_equal "$status" 0
    wait_status "$b" exited
    grep -q 'caught SIGTERM' "$LB_ROOT/containers/$b/container.log"
}

@test "kill of a container that is not running is refused; a bad signal is a usage error" {
    local id before
    id=$(lb create --name c "$BUSYBOX" lb-init sleep 1)
    before=$(cat "$LB_ROOT/containers/$id/state.json")
    must_fail -c 1 lb kill c
    assert_one_line_error "container 'c' is not running"
    assert_equal "$(cat "$LB_ROOT/containers/$id/state.json")" "$before"
    lb run -d --name r "$BUSYBOX" lb-init sleep 60 >/dev/null
    must_fail -c 125 lb kill -s NOPE r
    assert_one_line_error "invalid signal: 'NOPE'"
    assert_equal "$(lb ps --format '{{.Names}}')" r
}

@test "wait blocks until the container exits and prints its code" {
    local id t0 t1
    id=$(lb run -d --name w "$BUSYBOX" sh -c 'sleep 1; exit 42')
    t0=$(ms)
    run --separate-stderr lb wait w
    t1=$(ms)
    assert_equal "$status" 0
    assert_equal "$output" 42
    [ $((t1 - t0)) -ge 500 ] || { echo "wait returned after $((t1 - t0)) ms" >&2; return 1; }
    assert_equal "$(state_of "$id" Status)" exited
    # an exited container: at once, its last code
    run lb wait w
    assert_equal "$output" 42
    must_fail -c 1 lb wait nosuch
}
