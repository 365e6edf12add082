#!/usr/bin/env bats
# layerbox ps: docker's columns (CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES), running
# only unless -a, -q, --no-trunc, --format and the status/name filters; and the liveness check:
# a container whose process was killed behind layerbox's back shows as exited.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
}

wait_running() {
    local i id
    for i in $(seq 100); do
        id=$(jq -r --arg n "$1" 'select(.Name == $n) | .Id' "$LB_ROOT"/containers/*/config.json 2>/dev/null)
        if [ -n "$id" ] && [ "$(jq -r .Status "$LB_ROOT/containers/$id/state.json")" = running ]; then
            echo "$id"
            return 0
        fi
        sleep 0.1
    done
    echo "container $1 never ran" >&2
    return 1
}

@test "ps lists nothing but its header when no container runs; ps -a shows created ones" {
    local id
    id=$(lb create --name fresh "$BUSYBOX" lb-init echo a-rather-long-command-line)
    run --separate-stderr lb ps
    assert_equal "$status" 0
    assert_equal "$output" "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES"
    run --separate-stderr lb ps -a
    assert_equal "$status" 0
    assert_line_count 2
    # columns by hand: 12-hex ID, image as named, command cut to 20 runes with an ellipsis
    local cmd='"lb-init echo a-rath…"'
    [[ ${lines[1]} == "${id:0:12}   $BUSYBOX   $cmd   "*" ago   Created   "*"   fresh" ]] ||
        { echo "row: ${lines[1]}" >&2; return 1; }
    [[ ${lines[0]} == "CONTAINER ID   IMAGE "*" COMMAND "*" CREATED "*" STATUS "*" PORTS "*" NAMES" ]] ||
        { echo "header: ${lines[0]}" >&2; return 1; }
}

@test "ps -q, --no-trunc and --format" {
    local id
    id=$(lb create --name q "$BUSYBOX" lb-init echo x)
    run --separate-stderr lb ps -aq
    assert_equal "$output" "${id:0:12}"
    run --separate-stderr lb ps -a --no-trunc --format '{{.ID}} {{.Command}} {{.Names}} {{.State}}'
    assert_equal "$output" "$id \"lb-init echo x\" q created"
}

@test "STATUS shows Up for a running container and Exited (N) for an ended one" {
    must_fail -c 3 lb run --name three "$BUSYBOX" lb-init exit 3
    "$LAYERBOX" --root "$LB_ROOT" run --name up "$BUSYBOX" lb-init sleep 60 >/dev/null 2>&1 &
    local pid=$!
    wait_running up >/dev/null
    run --separate-stderr lb ps --format '{{.Names}}|{{.Status}}'
    [[ $output == "up|Up "* ]] || { echo "ps: $output" >&2; return 1; }
    assert_line_count 1
    run --separate-stderr lb ps -a -f status=exited --format '{{.Names}}|{{.Status}}'
    [[ $output == "three|Exited (3) "*" ago" ]] || { echo "ps: $output" >&2; return 1; }
    lb rm -f up >/dev/null
    wait "$pid" || true
}

@test "a container killed behind layerbox's back shows as exited" {
    "$LAYERBOX" --root "$LB_ROOT" run --name victim "$BUSYBOX" lb-init sleep 60 >/dev/null 2>&1 &
    local pid=$! id cpid
    id=$(wait_running victim)
    cpid=$(jq -r .Pid "$LB_ROOT/containers/$id/state.json")
    kill -STOP "$pid" # the foreground monitor cannot record the end: the liveness check must
    kill -KILL "$cpid"
    local i
    for i in $(seq 50); do [ -d "/proc/$cpid" ] && [ "$(awk '{print $3}' "/proc/$cpid/stat")" != Z ] || break; sleep 0.1; done
    run --separate-stderr lb ps -a --format '{{.Names}} {{.State}}'
    assert_equal "$output" "victim exited"
    kill -CONT "$pid"
    wait "$pid" || true
}

@test "filters: status= and name= (values of one key or-ed, keys and-ed)" {
    lb create --name alpha "$BUSYBOX" true >/dev/null
    lb create --name beta "$BUSYBOX" true >/dev/null
    lb run --name gamma "$BUSYBOX" true >/dev/null
    run --separate-stderr lb ps -a -f status=created --format '{{.Names}}'
    assert_equal "$(LC_ALL=C sort <<<"$output")" "alpha
beta"
    run --separate-stderr lb ps -f status=exited -f status=created -f name=a --format '{{.Names}}'
    assert_equal "$(LC_ALL=C sort <<<"$output")" "alpha
beta
gamma"
    run --separate-stderr lb ps -a -f name=alp -f status=exited --format '{{.Names}}'
    assert_equal "$output" ""
    # name= is a regular expression, as docker's, matched with or without the leading '/'
    run --separate-stderr lb ps -a -f 'name=^(alpha|gamma)$' --format '{{.Names}}'
    assert_equal "$(LC_ALL=C sort <<<"$output")" "alpha
gamma"
    run --separate-stderr lb ps -a -f 'name=^/beta$' --format '{{.Names}}'
    assert_equal "$output" "beta"
    run --separate-stderr lb ps -a -f 'name=^eta' --format '{{.Names}}'
    assert_equal "$output" ""
    must_fail -c 1 lb ps -a -f 'name=(alpha'
    assert_one_line_error "invalid filter 'name=(alpha'"
    must_fail -c 1 lb ps -f status=sleeping
    assert_one_line_error "invalid filter 'status=sleeping'"
    must_fail -c 1 lb ps -f color=red
    assert_one_line_error "invalid filter 'color'"
    must_fail -c 125 lb ps extra
    assert_one_line_error "accepts no arguments"
}

# docker's units.HumanSizeWithPrecision(n, 3), worked out with awk: SI units, "%.3g".
human_size() {
    awk -v n="$1" 'BEGIN { split("B kB MB GB TB", u, " "); i = 1
        while (n >= 1000 && i < 5) { n /= 1000; i++ }
        printf "%.3g%s\n", n, u[i] }'
}

# Sum of st_size of the non-directories under DIR, each inode once (docker's directory.Size).
tree_size() {
    find "$1" ! -type d -printf '%i %s\n' | LC_ALL=C sort -u | awk '{ s += $2 } END { print s + 0 }'
}

@test "ps -s shows the writable layer's size and the virtual size (writable + image)" {
    load_fixture_ids busybox
    local id
    id=$(lb run -d --name writer "$BUSYBOX" sh -c 'head -c 1000 /dev/zero >/data; exec sleep 60')
    lb create --name idle "$BUSYBOX" true >/dev/null
    # what the container wrote, measured on disk without layerbox: exactly the 1000-byte file
    local i
    for i in $(seq 50); do [ -f "$LB_ROOT/containers/$id/diff/data" ] && break; sleep 0.1; done
    assert_equal "$(tree_size "$LB_ROOT/containers/$id/diff")" 1000 "bytes in diff/"
    assert_equal "$(human_size 1000)" 1kB
    local want="1kB (virtual $(human_size $((1000 + IMAGE_SIZE))))"
    assert_equal "$want" "1kB (virtual 2.8MB)"

    run --separate-stderr lb ps -s
    assert_equal "$status" 0
    assert_line_count 2
    [[ ${lines[0]} == "CONTAINER ID "*" NAMES "*" SIZE" ]] || { echo "header: ${lines[0]}" >&2; return 1; }
    [[ ${lines[1]} == "${id:0:12} "*" writer "*" $want" ]] || { echo "row: ${lines[1]}" >&2; return 1; }

    run --separate-stderr lb ps -a -s --format '{{.Names}}|{{.Size}}'
    assert_equal "$status" 0
    assert_equal "$(LC_ALL=C sort <<<"$output")" "idle|0B (virtual $(human_size "$IMAGE_SIZE"))
writer|$want"
    # as docker: a format that shows .Size computes it without -s
    run --separate-stderr lb ps --format '{{.Size}}'
    assert_equal "$output" "$want"
    # -q wins over -s
    run --separate-stderr lb ps -s -q
    assert_equal "$output" "${id:0:12}"
    # without -s the default table has no SIZE column
    run --separate-stderr lb ps
    [[ ${lines[0]} != *SIZE* ]] || { echo "header: ${lines[0]}" >&2; return 1; }
    lb rm -f writer >/dev/null
}

@test "ps -s with the vfs driver counts only what the container changed in its copy" {
    load_fixture_ids busybox
    local root=$LB_TEST_DIR/vfs-root
    "$LAYERBOX" --root "$root" --storage-driver vfs load -i "$(fixture busybox.docker.tar)" >/dev/null
    "$LAYERBOX" --root "$root" run --name w "$BUSYBOX" sh -c 'head -c 1500 /dev/zero >/data' >/dev/null
    run --separate-stderr "$LAYERBOX" --root "$root" ps -a -s --format '{{.Size}}'
    assert_equal "$status" 0
    assert_equal "$output" "$(human_size 1500) (virtual $(human_size $((1500 + IMAGE_SIZE))))"
    assert_equal "$(human_size 1500)" 1.5kB
}
