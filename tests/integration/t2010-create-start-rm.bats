#!/usr/bin/env bats
# layerbox create / start -a / rm: a container recorded, run again, removed; the state machine
# seen from the command line (illegal moves refused, nothing changed), and rmi refusing images
# that a container uses. State is read from the record files with jq, not from layerbox.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
}

state_of() { # ID FIELD
    jq -r ".$2" "$LB_ROOT/containers/$1/state.json"
}

# Wait until the container named $1 is running per its state.json (up to 10 s); print its ID.
wait_running() {
    local i id
    for i in $(seq 100); do
        id=$(jq -r --arg n "$1" 'select(.Name == $n) | .Id' "$LB_ROOT"/containers/*/config.json 2>/dev/null)
        if [ -n "$id" ] && [ "$(state_of "$id" Status 2>/dev/null)" = running ]; then
            echo "$id"
            return 0
        fi
        sleep 0.1
    done
    echo "container $1 never ran" >&2
    return 1
}

@test "create prints a new 64-hex ID, records the container and mounts nothing" {
    run --separate-stderr lb create --name web "$BUSYBOX" lb-init echo hi
    assert_equal "$status" 0
    local id=$output
    [[ $id =~ ^[0-9a-f]{64}$ ]] || { echo "not an ID: $id" >&2; return 1; }
    assert_equal "$(jq -r .Name "$LB_ROOT/containers/$id/config.json")" web
    assert_equal "$(jq -r .Image "$LB_ROOT/containers/$id/config.json")" "$IMAGE_ID"
    assert_equal "$(state_of "$id" Status)" created
    local d
    for d in diff work rootfs; do
        [ -d "$LB_ROOT/containers/$id/$d" ] || { echo "no $d/" >&2; return 1; }
    done
    assert_equal "$(ls -A "$LB_ROOT/containers/$id/diff")" ""
    run grep -F "$LB_ROOT/" /proc/self/mountinfo
    assert_equal "$output" ""
}

@test "create without a command in the image or on the line is refused" {
    must_fail -c 125 lb create --entrypoint '' "$BUSYBOX"
    assert_one_line_error "no command specified"
    assert_equal "$(ls -A "$LB_ROOT/containers")" ""
}

@test "start -a runs a created container and gives its exit code; it can run again" {
    local id
    id=$(lb create "$BUSYBOX" lb-init exit 9)
    must_fail -c 9 lb start -a "$id"
    assert_equal "$(state_of "$id" Status)" exited
    assert_equal "$(state_of "$id" ExitCode)" 9
    local first
    first=$(state_of "$id" StartedAt)
    must_fail -c 9 lb start -a "${id:0:8}"
    [ "$(state_of "$id" StartedAt)" != "$first" ] || { echo "StartedAt not updated" >&2; return 1; }
}

@test "start -a keeps the writable layer between runs" {
    local id
    id=$(lb create --name keep "$BUSYBOX" sh -c 'lb-init cat /count 2>/dev/null; echo x >>/count')
    run --separate-stderr lb start -a keep
    assert_equal "$status" 0
    assert_equal "$output" ""
    run --separate-stderr lb start -a keep
    assert_equal "$status" 0
    assert_equal "$output" "x"
}

@test "rm removes a created or exited container: its directory and nothing else" {
    local a b
    a=$(lb create "$BUSYBOX" true)
    b=$(lb create --name ex "$BUSYBOX" true)
    lb start -a ex
    run --separate-stderr lb rm "$a" ex
    assert_equal "$status" 0
    assert_equal "$output" "$a
ex"
    assert_equal "$(ls -A "$LB_ROOT/containers")" ""
}

@test "rm of a running container is refused without -f; -f kills it (137) and cleans up" {
    "$LAYERBOX" --root "$LB_ROOT" run --name busy --pids-limit 20 "$BUSYBOX" lb-init sleep 60 \
        >/dev/null 2>&1 &
    local pid=$! id
    id=$(wait_running busy)
    local before
    before=$(store_snapshot "$LB_ROOT/containers/$id")
    must_fail -c 1 lb rm busy
    assert_one_line_error "cannot remove running container 'busy': stop it first or use -f"
    assert_equal "$(store_snapshot "$LB_ROOT/containers/$id")" "$before"
    run --separate-stderr lb rm -f busy
    assert_equal "$status" 0
    local rc=0
    wait "$pid" || rc=$?
    assert_equal "$rc" 137
    [ ! -e "$LB_ROOT/containers/$id" ] || { echo "record left" >&2; return 1; }
    run grep -F "$LB_ROOT/" /proc/self/mountinfo
    assert_equal "$output" ""
    run find /sys/fs/cgroup -maxdepth 4 -name "layerbox-$id"
    assert_equal "$output" ""
}

@test "rm of an unknown container fails, the others are still removed" {
    local a
    a=$(lb create "$BUSYBOX" true)
    must_fail -c 1 lb rm nope "$a"
    assert_one_line_error "no such container: 'nope'"
    assert_equal "$output" "$a"
    assert_equal "$(ls -A "$LB_ROOT/containers")" ""
}

@test "rmi refuses an image a container uses, and rmi -f keeps it for the container" {
    lb create --name user "$BUSYBOX" true >/dev/null
    local before
    before=$(store_snapshot "$LB_ROOT/images")
    must_fail -c 1 lb rmi "$BUSYBOX"
    assert_one_line_error "image is being used by container 'user'"
    must_fail -c 1 lb rmi "$IMAGE_ID"
    assert_one_line_error "image is being used by container 'user'"
    assert_equal "$(store_snapshot "$LB_ROOT/images")" "$before"
    run --separate-stderr lb rmi -f "$BUSYBOX"
    assert_equal "$status" 0
    # untagged, but the container still starts from it
    lb start -a user
    lb rm user >/dev/null
    run --separate-stderr lb rmi "$IMAGE_ID"
    assert_equal "$status" 0
}
