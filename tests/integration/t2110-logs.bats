#!/usr/bin/env bats
# logs: container.log in docker's json-file format (checked with jq, independently of `logs`),
# stdout and stderr separated, --tail, -t, -f.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
}

teardown() {
    remove_all_containers
    lb_teardown
}

wait_exited() { # ID
    local i
    for i in $(seq 100); do
        [ "$(jq -r .Status "$LB_ROOT/containers/$1/state.json")" = exited ] && return 0
        sleep 0.1
    done
    return 1
}

@test "container.log holds one json-file entry per line, with the stream and an RFC 3339 time" {
    local id
    id=$(lb run -d "$BUSYBOX" sh -c 'echo one; echo two >&2; printf "a\tb\"c\\\\"; exit 0')
    wait_exited "$id"
    local log=$LB_ROOT/containers/$id/container.log
    assert_equal "$(wc -l <"$log")" 3
    assert_equal "$(jq -c '[.log, .stream]' "$log" | sort)" '["a\tb\"c\\","stdout"]
["one\n","stdout"]
["two\n","stderr"]'
    local t
    for t in $(jq -r .time "$log"); do
        [[ $t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$ ]] ||
            { echo "not RFC3339Nano: $t" >&2; return 1; }
        # within a minute of now
        local d=$(($(date +%s) - $(date -d "$t" +%s)))
        [ "$d" -ge 0 ] && [ "$d" -lt 60 ] || { echo "time $t is $d s away" >&2; return 1; }
    done
}

@test "logs writes the container's stdout to stdout and its stderr to stderr" {
    local id
    id=$(lb run -d --name sep "$BUSYBOX" sh -c 'echo out1; echo err1 >&2; echo out2; exit 0')
    wait_exited "$id"
    run --separate-stderr lb logs sep
    assert_equal "$status" 0
    assert_equal "$output" "out1
out2"
    assert_equal "$stderr" err1
}

@test "logs --tail N shows the last N lines; -t prefixes the recorded time" {
    local id
    id=$(lb run -d --name tl "$BUSYBOX" sh -c 'for i in 1 2 3 4 5; do echo line$i; done')
    wait_exited "$id"
    run --separate-stderr lb logs --tail 2 tl
    assert_equal "$output" "line4
line5"
    run --separate-stderr lb logs --tail 0 tl
    assert_equal "$output" ""
    run --separate-stderr lb logs -n 10 tl
    assert_line_count 5
    run --separate-stderr lb logs -t --tail 1 tl
    local want
    want="$(tail -n 1 "$LB_ROOT/containers/$id/container.log" | jq -r .time) line5"
    assert_equal "$output" "$want"
    must_fail -c 125 lb logs --tail x tl
}

@test "logs -f follows the output until the container exits" {
    local id
    id=$(lb run -d --name fol "$BUSYBOX" sh -c 'echo first; sleep 1; echo second; sleep 0.5')
    # while it runs, -f has already shown the first line and is still going
    "$LAYERBOX" --root "$LB_ROOT" logs -f fol >"$LB_TMP/f.out" &
    local bg=$!
    sleep 0.5
    assert_equal "$(cat "$LB_TMP/f.out")" first
    kill -0 "$bg" || { echo "logs -f ended while the container runs" >&2; return 1; }
    wait "$bg"
    assert_equal "$(cat "$LB_TMP/f.out")" "first
second"
    run --separate-stderr timeout 20 "$LAYERBOX" --root "$LB_ROOT" logs -f fol
    assert_equal "$status" 0
    assert_equal "$output" "first
second"
    assert_equal "$(jq -r .Status "$LB_ROOT/containers/$id/state.json")" exited
}

@test "logs of a container that never ran detached is empty; of none, an error" {
    lb create --name quiet "$BUSYBOX" lb-init echo hi >/dev/null
    run --separate-stderr lb logs quiet
    assert_equal "$status" 0
    assert_equal "$output" ""
    must_fail -c 1 lb logs nosuch
    assert_one_line_error "no such container: 'nosuch'"
}
