#!/usr/bin/env bats
# layerbox inspect CONTAINER: docker's container shape. Each field is checked against what the
# test knows independently: the fixture's IMAGE_ID and CHAIN_IDS (computed by mkimage.sh with
# sha256sum), the record's directory, the options given, the pid seen in /proc.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
}

@test "inspect of a created container: Id, Name, Path, Args, Image, State, GraphDriver" {
    local id
    id=$(lb create --name web -e A=1 -w /tmp --memory 64m "$BUSYBOX" lb-init echo hi)
    run --separate-stderr lb inspect web
    assert_equal "$status" 0
    local j=$output
    assert_equal "$(jq -r 'length' <<<"$j")" 1
    assert_equal "$(jq -r '.[0].Id' <<<"$j")" "$id"
    assert_equal "$(jq -r '.[0].Name' <<<"$j")" "/web"
    assert_equal "$(jq -r '.[0].Path' <<<"$j")" "lb-init"
    assert_equal "$(jq -c '.[0].Args' <<<"$j")" '["echo","hi"]'
    assert_equal "$(jq -r '.[0].Image' <<<"$j")" "$IMAGE_ID"
    assert_equal "$(jq -c '.[0].State | [.Status, .Running, .Paused, .Pid, .ExitCode, .OOMKilled, .StartedAt, .FinishedAt]' <<<"$j")" \
        '["created",false,false,0,0,false,"0001-01-01T00:00:00Z","0001-01-01T00:00:00Z"]'
    assert_equal "$(jq -r '.[0].Config.Image' <<<"$j")" "$BUSYBOX"
    assert_equal "$(jq -r '.[0].Config.WorkingDir' <<<"$j")" "/tmp"
    assert_equal "$(jq -r '.[0].Config.Hostname' <<<"$j")" "${id:0:12}"
    assert_equal "$(jq -c '.[0].Config.Cmd' <<<"$j")" '["lb-init","echo","hi"]'
    jq -e '.[0].Config.Env | index("A=1")' <<<"$j" >/dev/null
    assert_equal "$(jq -r '.[0].HostConfig.Memory' <<<"$j")" $((64 * 1024 * 1024))
    assert_equal "$(jq -c '.[0].Mounts' <<<"$j")" '[]'
    assert_equal "$(jq -r '.[0].GraphDriver.Name' <<<"$j")" overlay
    assert_equal "$(jq -r '.[0].GraphDriver.Data.LowerDir' <<<"$j")" "$LB_ROOT/layers/${CHAIN_IDS#sha256:}/diff"
    assert_equal "$(jq -r '.[0].GraphDriver.Data.UpperDir' <<<"$j")" "$LB_ROOT/containers/$id/diff"
    assert_equal "$(jq -r '.[0].GraphDriver.Data.WorkDir' <<<"$j")" "$LB_ROOT/containers/$id/work"
    assert_equal "$(jq -r '.[0].GraphDriver.Data.MergedDir' <<<"$j")" "$LB_ROOT/containers/$id/rootfs"
    # Created is an RFC 3339 time within a minute of now
    local created now
    created=$(date -d "$(jq -r '.[0].Created' <<<"$j")" +%s)
    now=$(date +%s)
    [ $((now - created)) -ge 0 ] && [ $((now - created)) -lt 60 ]
}

@test "inspect of a running container shows its pid, and of an exited one its exit code" {
    "$LAYERBOX" --root "$LB_ROOT" run --name live "$BUSYBOX" lb-init sleep 60 >/dev/null 2>&1 &
    local pid=$! i j cpid
    for i in $(seq 100); do
        j=$(lb inspect live 2>/dev/null) && [ "$(jq -r '.[0].State.Status' <<<"$j")" = running ] && break
        sleep 0.1
    done
    assert_equal "$(jq -r '.[0].State.Running' <<<"$j")" true
    cpid=$(jq -r '.[0].State.Pid' <<<"$j")
    # the pid is a real process running lb-init, a child of the foreground layerbox
    assert_equal "$(awk '{print $4}' "/proc/$cpid/stat")" "$pid"
    assert_equal "$(tr '\0' ' ' <"/proc/$cpid/cmdline")" "lb-init sleep 60 "
    kill -KILL "$cpid"
    wait "$pid" || true
    j=$(lb inspect live)
    assert_equal "$(jq -c '.[0].State | [.Status, .Running, .Pid, .ExitCode]' <<<"$j")" '["exited",false,0,137]'
    [ "$(jq -r '.[0].State.FinishedAt' <<<"$j")" != "0001-01-01T00:00:00Z" ]
}

@test "inspect resolves containers before images, and images still work" {
    local id
    id=$(lb create "$BUSYBOX" true)
    run --separate-stderr lb inspect --format '{{.Id}}' "$BUSYBOX" "${id:0:12}"
    assert_equal "$status" 0
    assert_equal "$output" "$IMAGE_ID
$id"
    # a container named like an image's ID prefix wins, as in docker
    lb create --name 11ca "$BUSYBOX" true >/dev/null
    run --separate-stderr lb inspect --format '{{.Name}}' 11ca
    assert_equal "$output" "/11ca"
}

@test "inspect of something that is neither fails with one line per argument" {
    must_fail -c 1 lb inspect nothing-here
    assert_one_line_error "no such object: 'nothing-here'"
    assert_equal "$output" "[]"
}
