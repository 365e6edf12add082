#!/usr/bin/env bats
# layerbox run: a container's process in the foreground, its exit code ours, its isolation seen
# from inside by the fixture's lb-init (fixtures/README.md). Expected values come from the spec
# (docker's exit codes and default capability set, the PID namespace's pid 1, the short ID as
# hostname) or from the test's own files, never from layerbox's output.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
}

# The container IDs in the store (directory names), one per line, sorted.
container_ids() {
    ls "$LB_ROOT/containers" 2>/dev/null | grep -v '^\.' | LC_ALL=C sort
}

@test "run prints the command's output and exits with its code" {
    run --separate-stderr lb run "$BUSYBOX" lb-init echo hello world
    assert_equal "$status" 0
    assert_equal "$output" "hello world"
    must_fail -c 42 lb run "$BUSYBOX" lb-init exit 42
    assert_equal "$output" ""
}

@test "run stops option parsing at the image: the command keeps its own flags" {
    run --separate-stderr lb run --rm "$BUSYBOX" sh -c 'echo a-$((1+2))'
    assert_equal "$status" 0
    assert_equal "$output" "a-3"
}

@test "a command that does not exist exits 127, one that cannot be executed 126" {
    must_fail -c 127 lb run "$BUSYBOX" no-such-command
    assert_one_line_error 'executable file not found in $PATH'
    must_fail -c 127 lb run "$BUSYBOX" /no/such/file
    assert_one_line_error "no such file or directory"
    must_fail -c 126 lb run "$BUSYBOX" /etc/passwd
    assert_one_line_error "permission denied"
}

@test "the process is pid 1 with the short ID as hostname and docker's capabilities" {
    run --separate-stderr lb run "$BUSYBOX" lb-init pid
    assert_equal "$status" 0
    assert_equal "$output" "1"
    run --separate-stderr lb run --name hn "$BUSYBOX" lb-init hostname
    assert_equal "$status" 0
    local host=$output id
    id=$(jq -r 'select(.Name == "hn") | .Id' "$LB_ROOT"/containers/*/config.json)
    assert_equal "${#id}" 64 "the hostname container's ID"
    assert_equal "$host" "${id:0:12}"
    run --separate-stderr lb run "$BUSYBOX" lb-init caps
    assert_equal "$status" 0
    assert_equal "${lines[0]}" "CapEff:	00000000a80425fb"
    assert_equal "${lines[1]}" "CapBnd:	00000000a80425fb"
}

@test "only fds 0-2 are open, /proc is mounted and the host's files are not visible" {
    exec 7</dev/null # an inherited fd above 2 must not reach the container
    run --separate-stderr lb run "$BUSYBOX" lb-init fds
    exec 7<&-
    assert_equal "$status" 0
    assert_equal "$output" "0
1
2"
    run --separate-stderr lb run "$BUSYBOX" lb-init mounts
    assert_equal "$status" 0
    [[ $output == *"proc /proc proc "* ]] || { echo "no /proc in: $output" >&2; return 1; }
    echo secret >"$LB_TMP/host-file"
    must_fail lb run "$BUSYBOX" lb-init cat "$LB_TMP/host-file"
    must_fail lb run "$BUSYBOX" lb-init ls "$LB_ROOT"
}

@test "without -i the container's stdin is empty; with -i it is ours" {
    run --separate-stderr lb run "$BUSYBOX" lb-init cat - <<<"typed"
    assert_equal "$status" 0
    assert_equal "$output" ""
    run --separate-stderr lb run -i "$BUSYBOX" lb-init cat - <<<"typed"
    assert_equal "$status" 0
    assert_equal "$output" "typed"
}

@test "-e, -w, -u and --hostname reach the process" {
    run --separate-stderr lb run -e FOO=bar -w /tmp -u lbuser --hostname box "$BUSYBOX" \
        sh -c 'echo $FOO; lb-init cwd; lb-init id; lb-init hostname'
    assert_equal "$status" 0
    assert_equal "$output" "bar
/tmp
uid=1000 gid=1000 groups=1000,2000
box"
}

@test "run --rm leaves no record, no mount and no cgroup behind" {
    run --separate-stderr lb run --rm --memory 64m --pids-limit 50 "$BUSYBOX" \
        sh -c 'lb-init hostname; exit 3'
    assert_equal "$status" 3
    local short=$output
    assert_equal "${#short}" 12 "the short ID (the hostname)"
    assert_equal "$(container_ids)" ""
    run grep -F "$LB_ROOT/" /proc/self/mountinfo
    assert_equal "$output" ""
    # other tests may run containers meanwhile: look for this one's groups only
    run find /sys/fs/cgroup -maxdepth 4 -name "layerbox-$short*"
    assert_equal "$output" ""
}

@test "a container that ran keeps its record, exited with its code; its root is unmounted" {
    must_fail -c 5 lb run --name five "$BUSYBOX" lb-init exit 5
    local id
    id=$(container_ids)
    assert_equal "${#id}" 64
    assert_equal "$(jq -r .Status "$LB_ROOT/containers/$id/state.json")" exited
    assert_equal "$(jq -r .ExitCode "$LB_ROOT/containers/$id/state.json")" 5
    run grep -F "$LB_ROOT/containers/$id/rootfs" /proc/self/mountinfo
    assert_equal "$output" ""
}

@test "files written in a container stay in its writable layer, not in the image" {
    lb run --name w "$BUSYBOX" lb-init write /hello.txt written >/dev/null
    local id
    id=$(container_ids)
    assert_equal "$(cat "$LB_ROOT/containers/$id/diff/hello.txt")" "written"
    run --separate-stderr lb run --rm "$BUSYBOX" lb-init cat /hello.txt
    [ "$status" -ne 0 ]
}

@test "SIGTERM to run reaches the container" {
    # layerbox itself in the background (not the lb function, whose subshell would get the signal)
    "$LAYERBOX" --root "$LB_ROOT" run --name t "$BUSYBOX" lb-init trap 30 >"$LB_TMP/out" 2>&1 &
    local pid=$! i
    for i in $(seq 100); do
        [ "$(jq -r .Status "$LB_ROOT"/containers/*/state.json 2>/dev/null)" = running ] && break
        sleep 0.1
    done
    sleep 0.2
    kill -TERM "$pid"
    wait "$pid"
    assert_equal "$?" 0
    assert_equal "$(cat "$LB_TMP/out")" "caught SIGTERM"
}

@test "bad input is one line of error, exit 125, and the store is unchanged" {
    lb create --name taken "$BUSYBOX" >/dev/null
    local before
    before=$(store_snapshot "$LB_ROOT/containers")
    must_fail -c 125 lb run no-such-image
    assert_one_line_error "no such image"
    must_fail -c 125 lb run --bogus "$BUSYBOX"
    assert_one_line_error "unknown flag: --bogus"
    must_fail -c 125 lb run --name 'bad name' "$BUSYBOX" true
    assert_one_line_error "invalid container name"
    must_fail -c 125 lb run --name taken "$BUSYBOX" true
    assert_one_line_error "is already in use"
    must_fail -c 125 lb run
    assert_one_line_error "requires at least 1 argument"
    must_fail -c 125 lb run -w relative "$BUSYBOX" pwd
    assert_one_line_error "the working directory 'relative' is invalid, it needs to be an absolute path"
    must_fail -c 125 lb create -w relative "$BUSYBOX" pwd
    assert_one_line_error "needs to be an absolute path"
    assert_equal "$(store_snapshot "$LB_ROOT/containers")" "$before"
}
