#!/usr/bin/env bats
# inspect's Mounts (docker's MountPoint objects, checked with jq against the paths we passed and
# the volumes found on disk), duplicate mount points refused before anything is made, and
# `logs` of foreground containers: run/start -a copy the container's output to our stdout and
# stderr AND into container.log (not with --rm, not with -t).

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
    HOSTDIR=$LB_TMP/host
    mkdir -p "$HOSTDIR/sub"
}

teardown() {
    remove_all_containers
    lb_teardown
}

# The anonymous volumes in the store (names of 64 hex), one per line.
anon_volumes() {
    ls -A "$LB_ROOT/volumes" 2>/dev/null | grep -E '^[0-9a-f]{64}$' || true
}

mounts_of() { # CONTAINER: its Mounts, compact
    lb inspect "$1" >"$LB_TMP/inspect.json" || return 1
    jq -c '.[0].Mounts' "$LB_TMP/inspect.json"
}

mount_at() { # CONTAINER DESTINATION: the one MountPoint with that Destination
    lb inspect "$1" >"$LB_TMP/inspect.json" || return 1
    jq -c --arg d "$2" '[.[0].Mounts[] | select(.Destination == $d)] | if length == 1 then .[0] else error("\(length) mounts at \($d)") end' "$LB_TMP/inspect.json"
}

# --- inspect Mounts --------------------------------------------------------------------------

@test "a container without -v has an empty Mounts list" {
    lb create --name plain "$BUSYBOX" true >/dev/null
    assert_equal "$(mounts_of plain)" "[]"
}

@test "a bind mount is a docker MountPoint: Source, Destination, Mode, RW, rprivate" {
    lb create --name b -v "$HOSTDIR:/mnt/rw" -v "$HOSTDIR/sub/:/mnt/ro/:ro" "$BUSYBOX" true >/dev/null
    local m
    m=$(mount_at b /mnt/rw)
    assert_equal "$(jq -c 'keys_unsorted' <<<"$m")" '["Type","Source","Destination","Mode","RW","Propagation"]'
    assert_equal "$(jq -r .Type <<<"$m")" bind
    assert_equal "$(jq -r .Source <<<"$m")" "$HOSTDIR"
    assert_equal "$(jq -r .Mode <<<"$m")" ""
    assert_equal "$(jq -r .RW <<<"$m")" true
    assert_equal "$(jq -r .Propagation <<<"$m")" rprivate
    m=$(mount_at b /mnt/ro) # the trailing slashes cleaned away, as docker does
    assert_equal "$(jq -r .Source <<<"$m")" "$HOSTDIR/sub"
    assert_equal "$(jq -r .Mode <<<"$m")" ro
    assert_equal "$(jq -r .RW <<<"$m")" false
    assert_equal "$(jq -r .Propagation <<<"$m")" rprivate
}

@test "a named volume is a MountPoint of type volume with its data dir, driver local, mode z" {
    lb create --name n -v cache:/var/cache -v logs:/var/log:ro "$BUSYBOX" true >/dev/null
    [ -d "$LB_ROOT/volumes/cache/_data" ] || { echo "no volume dir" >&2; return 1; }
    local m
    m=$(mount_at n /var/cache)
    assert_equal "$(jq -c 'keys_unsorted' <<<"$m")" '["Type","Name","Source","Destination","Driver","Mode","RW","Propagation"]'
    assert_equal "$(jq -r .Type <<<"$m")" volume
    assert_equal "$(jq -r .Name <<<"$m")" cache
    assert_equal "$(jq -r .Source <<<"$m")" "$LB_ROOT/volumes/cache/_data"
    assert_equal "$(jq -r .Driver <<<"$m")" local
    assert_equal "$(jq -r .Mode <<<"$m")" z
    assert_equal "$(jq -r .RW <<<"$m")" true
    assert_equal "$(jq -r .Propagation <<<"$m")" ""
    m=$(mount_at n /var/log)
    assert_equal "$(jq -r .Source <<<"$m")" "$LB_ROOT/volumes/logs/_data"
    assert_equal "$(jq -r .Mode <<<"$m")" ro
    assert_equal "$(jq -r .RW <<<"$m")" false
}

@test "an anonymous volume is named by its generated 64-hex name, with an empty mode" {
    lb create --name a -v /scratch "$BUSYBOX" true >/dev/null
    local name
    name=$(anon_volumes)
    [[ $name =~ ^[0-9a-f]{64}$ ]] || { echo "not one anonymous volume: '$name'" >&2; return 1; }
    [ -d "$LB_ROOT/volumes/$name/_data" ] || { echo "no data dir" >&2; return 1; }
    local m
    m=$(mount_at a /scratch)
    assert_equal "$(jq -r .Type <<<"$m")" volume
    assert_equal "$(jq -r .Name <<<"$m")" "$name"
    assert_equal "$(jq -r .Source <<<"$m")" "$LB_ROOT/volumes/$name/_data"
    assert_equal "$(jq -r .Driver <<<"$m")" local
    assert_equal "$(jq -r .Mode <<<"$m")" ""
    assert_equal "$(jq -r .RW <<<"$m")" true
}

@test "Mounts are sorted by destination, one per -v" {
    lb create --name s -v /zz -v "$HOSTDIR:/b" -v vol:/a/x -v "$HOSTDIR/sub:/a" "$BUSYBOX" true >/dev/null
    lb inspect s >"$LB_TMP/i.json"
    assert_equal "$(jq -r '.[0].Mounts[].Destination' "$LB_TMP/i.json")" \
        "$(printf '%s\n' /zz /b /a/x /a | LC_ALL=C sort)"
}

# --- duplicate mount points ------------------------------------------------------------------

@test "create with two -v on one mount point fails with 125 and changes nothing" {
    local before
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 125 lb create -v "$HOSTDIR:/data" -v "$HOSTDIR/sub:/data/" "$BUSYBOX" true
    assert_one_line_error
    assert_equal "$stderr" "layerbox: duplicate mount point: /data"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "run refuses a duplicate found only after cleaning, before making any volume" {
    local before
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 125 lb run --rm -v newvol:/data -v /data/../data "$BUSYBOX" true
    assert_one_line_error
    assert_equal "$stderr" "layerbox: duplicate mount point: /data"
    [ ! -e "$LB_ROOT/volumes/newvol" ] || { echo "volume newvol was made" >&2; return 1; }
    assert_equal "$(anon_volumes)" ""
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "nested mount points are not duplicates" {
    run --separate-stderr lb run --rm -v "$HOSTDIR:/data" -v /data/sub "$BUSYBOX" lb-init ls /data
    assert_equal "$status" 0
}

# --- logs of foreground containers -------------------------------------------------------------

@test "a foreground run prints stdout and stderr separately and logs both" {
    run --separate-stderr lb run --name fg "$BUSYBOX" sh -c 'echo out; echo err >&2'
    assert_equal "$status" 0
    assert_equal "$output" out
    assert_equal "$stderr" err
    local log
    log=$LB_ROOT/containers/$(ls "$LB_ROOT/containers")/container.log
    assert_equal "$(jq -c '[.log, .stream]' "$log" | LC_ALL=C sort)" '["err\n","stderr"]
["out\n","stdout"]'
    run --separate-stderr lb logs fg
    assert_equal "$status" 0
    assert_equal "$output" out
    assert_equal "$stderr" err
    lb logs fg >/dev/null 2>"$LB_TMP/err"
    assert_equal "$(cat "$LB_TMP/err")" err
    lb logs fg 2>/dev/null >"$LB_TMP/out"
    assert_equal "$(cat "$LB_TMP/out")" out
}

@test "logs -t of a foreground run shows the times written in container.log" {
    lb run --name ts "$BUSYBOX" sh -c 'echo one' >/dev/null
    local log
    log=$(ls "$LB_ROOT"/containers/*/container.log)
    local t
    t=$(jq -r .time "$log")
    [[ $t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,9}Z$ ]] ||
        { echo "not RFC3339Nano: $t" >&2; return 1; }
    local d=$(($(date +%s) - $(date -d "$t" +%s)))
    [ "$d" -ge 0 ] && [ "$d" -lt 60 ] || { echo "time $t is $d s away" >&2; return 1; }
    run --separate-stderr lb logs -t ts
    assert_equal "$status" 0
    assert_equal "$output" "$t one"
}

@test "a foreground run keeps its exit code, order and every byte of a long output" {
    run --separate-stderr lb run --name big "$BUSYBOX" sh -c 'seq 1 20000; exit 7'
    assert_equal "$status" 7
    [ "$output" = "$(seq 1 20000)" ] || { echo "stdout differs from seq 1 20000" >&2; return 1; }
    lb logs big >"$LB_TMP/logs"
    cmp "$LB_TMP/logs" <(seq 1 20000)
    assert_equal "$(jq -r .State.ExitCode <(lb inspect big | jq '.[0]'))" 7
}

@test "start -a appends to the same log" {
    lb create --name sa "$BUSYBOX" lb-init echo hi >/dev/null
    run --separate-stderr lb start -a sa
    assert_equal "$status" 0
    assert_equal "$output" hi
    lb start -a sa >/dev/null
    run --separate-stderr lb logs sa
    assert_equal "$output" "hi
hi"
}

@test "signals still reach a foreground container whose output is captured" {
    # layerbox itself in the background (not the `lb` function: its subshell would get the signal)
    "$LAYERBOX" --root "$LB_ROOT" run --name sig "$BUSYBOX" lb-init trap 30 >"$LB_TMP/out" 2>&1 &
    local pid=$! i
    for i in $(seq 100); do
        [ "$(jq -r .Status "$LB_ROOT"/containers/*/state.json 2>/dev/null)" = running ] && break
        sleep 0.1
    done
    sleep 0.2 # lb-init installs its handler after exec
    kill -TERM "$pid"
    local rc=0
    wait "$pid" || rc=$?
    assert_equal "$rc" 0
    assert_equal "$(cat "$LB_TMP/out")" "caught SIGTERM"
    run --separate-stderr lb logs sig
    assert_equal "$output" "caught SIGTERM"
}

@test "layerbox survives a reader of its stdout that goes away, and the log has everything" {
    run bash -c '"$LAYERBOX" --root "$LB_ROOT" run --name p layerbox-fixtures/busybox seq 1 100000 | head -1; echo "rc=${PIPESTATUS[0]}"'
    assert_equal "$output" "1
rc=0"
    lb logs p >"$LB_TMP/logs"
    cmp "$LB_TMP/logs" <(seq 1 100000)
}

@test "a command that is not found still exits 127 with capture on" {
    must_fail -c 127 lb run --name nf "$BUSYBOX" no-such-command
    assert_one_line_error 'executable file not found in $PATH'
}

@test "run --rm keeps its direct path: output, exit code, nothing left" {
    run --separate-stderr lb run --rm "$BUSYBOX" sh -c 'echo out; echo err >&2; exit 5'
    assert_equal "$status" 5
    assert_equal "$output" out
    assert_equal "$stderr" err
    assert_equal "$(ls -A "$LB_ROOT/containers")" ""
}

@test "run -t writes to the terminal directly: nothing is logged" {
    run --separate-stderr lb run -t --name t "$BUSYBOX" lb-init echo x
    assert_equal "$status" 0
    assert_equal "$output" x
    local dir
    dir=$(ls -d "$LB_ROOT"/containers/*/)
    [ ! -s "$dir/container.log" ] || { echo "container.log written with -t" >&2; return 1; }
}
