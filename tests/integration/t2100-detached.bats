#!/usr/bin/env bats
# run -d and plain start: the container runs under its monitor process, which outlives the CLI,
# records the exit and honours --rm. Faults: the container killed behind layerbox's back, the
# monitor killed. State is read from the record files with jq and from /proc, not from layerbox.

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

# Poll (up to 10 s) until the container's state.json says $2.
wait_status() { # ID STATUS
    local i
    for i in $(seq 100); do
        [ "$(state_of "$1" Status 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    echo "container $1 never became $2 (is $(state_of "$1" Status 2>/dev/null))" >&2
    return 1
}

alive() { # PID
    [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

no_leaks() { # ID
    run grep -F "$LB_ROOT/" /proc/self/mountinfo
    assert_equal "$output" "" "mounts under the store"
    run find /sys/fs/cgroup -maxdepth 4 -name "layerbox-$1*"
    assert_equal "$output" "" "cgroups of the container"
}

@test "run -d returns at once with the full ID while the container runs; ps shows it Up" {
    local t0 t1
    t0=$(date +%s%N)
    run --separate-stderr lb run -d --name bg "$BUSYBOX" lb-init sleep 30
    t1=$(date +%s%N)
    assert_equal "$status" 0
    local id=$output
    [[ $id =~ ^[0-9a-f]{64}$ ]] || { echo "not an ID: $id" >&2; return 1; }
    [ $(((t1 - t0) / 1000000)) -lt 5000 ] || { echo "run -d took too long" >&2; return 1; }
    assert_equal "$(state_of "$id" Status)" running
    local pid mon
    pid=$(state_of "$id" Pid)
    mon=$(state_of "$id" MonitorPid)
    alive "$pid" || { echo "container pid $pid not alive" >&2; return 1; }
    alive "$mon" || { echo "monitor pid $mon not alive" >&2; return 1; }
    # the monitor is in a session of its own (setsid in the first child), which it does not lead
    # (the second fork), so it can never acquire a controlling terminal
    local sid
    sid=$(ps -o sid= -p "$mon" | tr -d ' ')
    [ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ] || { echo "monitor in our session" >&2; return 1; }
    [ "$sid" != "$mon" ] || { echo "monitor leads its session" >&2; return 1; }
    assert_equal "$(ps -o tty= -p "$mon" | tr -d ' ')" "?"
    local f
    for f in 0 1 2; do
        assert_equal "$(readlink "/proc/$mon/fd/$f")" /dev/null "monitor fd $f"
    done
    # the container process is the monitor's child
    assert_equal "$(ps -o ppid= -p "$pid" | tr -d ' ')" "$mon"
    run lb ps --format '{{.Names}} {{.Status}}'
    assert_equal "$status" 0
    [[ $output == "bg Up"* ]] || { echo "ps: $output" >&2; return 1; }
}

@test "the exit code is recorded by the monitor after the CLI is gone" {
    # the CLI runs in a subshell that is gone before the container ends
    local id
    id=$(bash -c "'$LAYERBOX' --root '$LB_ROOT' run -d $BUSYBOX sh -c 'sleep 0.3; exit 7'")
    wait_status "$id" exited
    assert_equal "$(state_of "$id" ExitCode)" 7
    [ "$(state_of "$id" FinishedAt)" != null ] || { echo "no FinishedAt" >&2; return 1; }
    assert_equal "$(state_of "$id" MonitorPid)" 0
    run lb ps -a --format '{{.Status}}'
    [[ $output == "Exited (7)"* ]] || { echo "ps: $output" >&2; return 1; }
    no_leaks "${id:0:12}"
}

@test "run -d of a missing command exits 127, of a non-executable one 126, and leaves it created" {
    must_fail -c 127 lb run -d --name nf "$BUSYBOX" /no/such/thing
    [[ $stderr == *"no such file or directory"* ]] || { echo "stderr: $stderr" >&2; return 1; }
    assert_equal "$stdout$output" ""
    local id
    id=$(lb inspect --format '{{.Id}}' nf)
    assert_equal "$(state_of "$id" Status)" created
    must_fail -c 126 lb run -d "$BUSYBOX" /etc/passwd
    no_leaks "${id:0:12}"
}

@test "run -d --rm leaves nothing once the container has exited" {
    local id
    id=$(lb run -d --rm --memory 64m --pids-limit 50 "$BUSYBOX" lb-init sleep 0.3)
    [ -d "$LB_ROOT/containers/$id" ] || { echo "record missing while it runs" >&2; return 1; }
    local i
    for i in $(seq 100); do
        [ -e "$LB_ROOT/containers/$id" ] || break
        sleep 0.1
    done
    [ ! -e "$LB_ROOT/containers/$id" ] || { echo "record still there" >&2; return 1; }
    no_leaks "${id:0:12}"
}

@test "start (detached) runs a created container again, prints its name and records the exit" {
    local id
    id=$(lb create --name again "$BUSYBOX" sh -c 'echo run; exit 4')
    run --separate-stderr lb start again
    assert_equal "$status" 0
    assert_equal "$output" again
    wait_status "$id" exited
    assert_equal "$(state_of "$id" ExitCode)" 4
    run lb start again
    assert_equal "$status" 0
    wait_status "$id" exited
    # both runs wrote to the log
    assert_equal "$(jq -r .log "$LB_ROOT/containers/$id/container.log" | grep -c run)" 2
}

@test "start of a running container succeeds and changes nothing" {
    local id pid
    id=$(lb run -d --name up "$BUSYBOX" lb-init sleep 30)
    pid=$(state_of "$id" Pid)
    run --separate-stderr lb start up
    assert_equal "$status" 0
    assert_equal "$output" up
    assert_equal "$(state_of "$id" Pid)" "$pid"
}

@test "the container killed behind layerbox's back: ps shows Exited (137)" {
    local id pid
    id=$(lb run -d --name victim --pids-limit 50 "$BUSYBOX" lb-init sleep 30)
    pid=$(state_of "$id" Pid)
    kill -9 "$pid"
    wait_status "$id" exited
    assert_equal "$(state_of "$id" ExitCode)" 137
    run lb ps -a --format '{{.Names}} {{.Status}}'
    [[ $output == "victim Exited (137)"* ]] || { echo "ps: $output" >&2; return 1; }
    no_leaks "${id:0:12}"
}

@test "the monitor killed: the state stays consistent and rm -f cleans everything" {
    local id pid mon
    id=$(lb run -d --name orphan --memory 64m --pids-limit 50 "$BUSYBOX" lb-init sleep 30)
    pid=$(state_of "$id" Pid)
    mon=$(state_of "$id" MonitorPid)
    kill -9 "$mon"
    local i
    for i in $(seq 50); do alive "$mon" || break; sleep 0.1; done
    ! alive "$mon" || { echo "monitor survived" >&2; return 1; }
    # the container still runs: running is what ps says
    run lb ps --format '{{.Names}} {{.Status}}'
    [[ $output == "orphan Up"* ]] || { echo "ps: $output" >&2; return 1; }
    run find /sys/fs/cgroup -maxdepth 4 -name "layerbox-${id:0:12}*"
    [ -n "$output" ] || { echo "expected the container's cgroups while it runs" >&2; return 1; }
    run lb rm -f orphan
    assert_equal "$status" 0
    for i in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    ! alive "$pid" || { echo "container process survived rm -f" >&2; return 1; }
    [ ! -e "$LB_ROOT/containers/$id" ] || { echo "record still there" >&2; return 1; }
    no_leaks "${id:0:12}"
}

@test "the monitor killed, then the container: ps reports it exited (code unknown)" {
    local id pid mon
    id=$(lb run -d --name lost "$BUSYBOX" lb-init sleep 30)
    pid=$(state_of "$id" Pid)
    mon=$(state_of "$id" MonitorPid)
    kill -9 "$mon"
    kill -9 "$pid"
    local i
    for i in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    run lb ps -a --format '{{.Names}} {{.Status}}'
    [[ $output == "lost Exited"* ]] || { echo "ps: $output" >&2; return 1; }
    assert_equal "$(state_of "$id" Status)" exited
    run lb rm lost
    assert_equal "$status" 0
    no_leaks "${id:0:12}"
}

@test "--explain run -d narrates the monitor's steps, then lets go of the caller's stderr" {
    # A pipe that the monitor kept open would make this command substitution wait for the
    # container (100 s); the caller must get EOF as soon as run -d returns.
    output=$(timeout 20 "$LAYERBOX" --root "$LB_ROOT" --explain run -d "$BUSYBOX" sleep 100 2>&1)
    local out=$output id
    id=$(printf '%s\n' "$out" | grep -E '^[0-9a-f]{64}$')
    [ "$(state_of "$id" Status)" = running ]
    local monitor pid
    monitor=$(printf '%s\n' "$out" | sed -n 's/^\[monitor\] pid \([0-9]*\) watches container .*/\1/p')
    pid=$(printf '%s\n' "$out" | sed -n 's/^\[process\] cloned pid \([0-9]*\) into new namespaces.*/\1/p')
    [ -n "$monitor" ] && [ -n "$pid" ]
    assert_equal "$pid" "$(state_of "$id" Pid)"
    assert_equal "$monitor" "$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")"
    assert_output_contains "[mount] overlay lowerdir="
    assert_output_contains "[container] ${id:0:12} started under its monitor"
}

@test "wait on a running --rm container gets its exit code although the record goes" {
    local id
    id=$(lb run -d --rm "$BUSYBOX" sh -c 'sleep 0.5; exit 7')
    run --separate-stderr lb wait "$id"
    assert_equal "$status" 0
    assert_equal "$output" 7
    [ ! -e "$LB_ROOT/containers/$id" ]
    # what carried the code: a tombstone next to the records, the code alone in it
    assert_equal "$(cat "$LB_ROOT/containers/.exit-$id")" 7
    # a wait that starts after the removal finds no container, as docker's
    must_fail -c 1 lb wait "$id"
    assert_one_line_error "no such container"
    # once older than a minute, the next create removes it
    touch -d '2 minutes ago' "$LB_ROOT/containers/.exit-$id"
    lb create "$BUSYBOX" true >/dev/null
    [ ! -e "$LB_ROOT/containers/.exit-$id" ]
}

@test "a wait whose container is removed under it takes the exit code the remover left" {
    # Deterministic: the waiter is stopped while the record goes, so it can only learn the code
    # from the tombstone (planted here with a code no process returned: 9).
    local id wpid
    id=$(lb run -d "$BUSYBOX" sleep 300)
    "$LAYERBOX" --root "$LB_ROOT" wait "$id" >"$LB_TMP/wait.out" 2>"$LB_TMP/wait.err" &
    wpid=$!
    sleep 0.3
    kill -STOP "$wpid"
    echo 9 >"$LB_ROOT/containers/.exit-$id"
    lb rm -f "$id" >/dev/null
    [ ! -e "$LB_ROOT/containers/$id" ]
    kill -CONT "$wpid"
    local status=0
    wait "$wpid" || status=$?
    assert_equal "$status" 0
    assert_equal "$(cat "$LB_TMP/wait.out")" 9
    # without a tombstone the same removal is "no such container"
    id=$(lb run -d "$BUSYBOX" sleep 300)
    "$LAYERBOX" --root "$LB_ROOT" wait "$id" >"$LB_TMP/wait.out" 2>"$LB_TMP/wait.err" &
    wpid=$!
    sleep 0.3
    kill -STOP "$wpid"
    lb rm -f "$id" >/dev/null
    kill -CONT "$wpid"
    status=0
    wait "$wpid" || status=$?
    assert_equal "$status" 1
    grep -q "no such container" "$LB_TMP/wait.err"
}
