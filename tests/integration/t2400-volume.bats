#!/usr/bin/env bats
# layerbox volume create|ls|inspect|rm|prune: docker's commands, columns and messages. A volume is
# ROOT/volumes/<name>/_data plus a meta.json; an anonymous one has a 64-hex name. prune removes
# unused anonymous volumes (docker >= 23), -a every unused one, and asks first on a terminal.
# Bad input fails with one line on stderr and leaves the store as it was.

load helpers

# The store exists (so that snapshots compare a real tree).
setup() {
    lb_setup
    lb volume ls >/dev/null
}

@test "create prints the name and makes _data and meta.json" {
    run lb volume create data
    assert_equal "$status" 0
    assert_equal "$output" "data"
    [ -d "$LB_ROOT/volumes/data/_data" ]
    # meta.json, read with another tool
    run python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["name"], m["anonymous"])' \
        "$LB_ROOT/volumes/data/meta.json"
    assert_equal "$output" "data False"
}

@test "create without a name makes an anonymous volume with a 64-hex name" {
    run lb volume create
    assert_equal "$status" 0
    [[ $output =~ ^[0-9a-f]{64}$ ]]
    [ -d "$LB_ROOT/volumes/$output/_data" ]
    run lb volume inspect --format '{{json .Labels}}' "$output"
    assert_equal "$output" '{"com.docker.volume.anonymous":""}'
}

@test "creating an existing volume again succeeds and keeps its files and labels" {
    lb volume create --label first=1 data >/dev/null
    echo hello >"$LB_ROOT/volumes/data/_data/f"
    run lb volume create --label second=2 data
    assert_equal "$status" 0
    assert_equal "$output" "data"
    assert_equal "$(cat "$LB_ROOT/volumes/data/_data/f")" "hello"
    run lb volume inspect --format '{{json .Labels}}' data
    assert_equal "$output" '{"first":"1"}'
}

@test "create refuses bad names, labels, drivers and arguments without changing the store" {
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb volume create x
    assert_one_line_error "volume name is too short"
    must_fail -c 1 lb volume create 'a b'
    assert_one_line_error "'a b' includes invalid characters for a local volume name"
    must_fail -c 1 lb volume create ../escape
    assert_one_line_error "includes invalid characters"
    must_fail -c 125 lb volume create --label =v good
    assert_one_line_error "invalid label '=v': empty name"
    must_fail -c 1 lb volume create -d nfs good
    assert_one_line_error "volume driver 'nfs' is not supported"
    must_fail -c 125 lb volume create a1 b1
    assert_one_line_error '"volume create" requires at most 1 argument'
    must_fail -c 125 lb volume create --bogus
    assert_one_line_error "unknown flag: --bogus"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before" "store unchanged"
}

@test "ls shows DRIVER and VOLUME NAME sorted by name, -q only the names" {
    lb volume create zeta >/dev/null
    lb volume create alpha >/dev/null
    run lb volume ls
    assert_equal "$status" 0
    # docker's tab writer: columns padded to the widest cell + 3 (minwidth 10)
    expected=$(printf '%-10s%s\n%-10s%s\n%-10s%s' DRIVER "VOLUME NAME" local alpha local zeta)
    assert_equal "$output" "$expected"
    run lb volume ls -q
    assert_equal "$output" "$(printf 'alpha\nzeta')"
    run lb volume ls --format '{{.Name}}:{{.Driver}}:{{.Scope}}:{{.Mountpoint}}'
    assert_equal "$output" "$(printf 'alpha:local:local:%s\nzeta:local:local:%s' \
        "$LB_ROOT/volumes/alpha/_data" "$LB_ROOT/volumes/zeta/_data")"
}

@test "ls of an empty store prints the header only" {
    run lb volume ls
    assert_equal "$status" 0
    assert_equal "$output" "$(printf '%-10s%s' DRIVER "VOLUME NAME")"
    run lb volume ls -q
    assert_equal "$output" ""
}

@test "ls refuses arguments and bad templates" {
    must_fail -c 125 lb volume ls extra
    assert_one_line_error '"volume ls" accepts no arguments'
    lb volume create data >/dev/null
    must_fail -c 1 lb volume ls --format '{{.Name'
    assert_one_line_error "template"
    assert_equal "$output" ""
}

@test "inspect prints docker's JSON array" {
    lb volume create --label k=v data >/dev/null
    run lb volume inspect data
    assert_equal "$status" 0
    # Checked with python's json module, field by field.
    run python3 -c '
import json, sys
a = json.loads(sys.stdin.read())
assert isinstance(a, list) and len(a) == 1, a
v = a[0]
assert sorted(v) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"], v
assert v["Driver"] == "local" and v["Scope"] == "local" and v["Name"] == "data", v
assert v["Labels"] == {"k": "v"} and v["Options"] is None, v
assert v["Mountpoint"] == sys.argv[1], v
import datetime
t = datetime.datetime.strptime(v["CreatedAt"], "%Y-%m-%dT%H:%M:%SZ")
assert abs((datetime.datetime.utcnow() - t).total_seconds()) < 120, t
print("ok")
' "$LB_ROOT/volumes/data/_data" <<<"$output"
    assert_equal "$output" "ok"
}

@test "inspect --format runs once per volume; a missing one fails after the others" {
    lb volume create one >/dev/null
    lb volume create two >/dev/null
    run lb volume inspect --format '{{.Name}} {{.Driver}}' one two
    assert_equal "$output" "$(printf 'one local\ntwo local')"
    must_fail -c 1 lb volume inspect one nope
    assert_one_line_error "no such volume: 'nope'"
    assert_output_contains '"Name": "one"'
    must_fail -c 125 lb volume inspect
    assert_one_line_error '"volume inspect" requires at least 1 argument'
}

@test "rm removes volumes and their files and prints their names" {
    lb volume create one >/dev/null
    lb volume create two >/dev/null
    mkdir "$LB_ROOT/volumes/one/_data/sub"
    echo x >"$LB_ROOT/volumes/one/_data/sub/f"
    run lb volume rm one two
    assert_equal "$status" 0
    assert_equal "$output" "$(printf 'one\ntwo')"
    [ ! -e "$LB_ROOT/volumes/one" ]
    [ ! -e "$LB_ROOT/volumes/two" ]
    assert_equal "$(find "$LB_ROOT/volumes" -mindepth 1 | wc -l)" 0
}

@test "rm of a missing volume fails, the others still go; -f ignores it" {
    lb volume create one >/dev/null
    must_fail -c 1 lb volume rm nope one
    assert_one_line_error "no such volume: 'nope'"
    assert_equal "$output" "one"
    [ ! -e "$LB_ROOT/volumes/one" ]
    before=$(store_snapshot "$LB_ROOT")
    run lb volume rm -f nope
    assert_equal "$status" 0
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
    must_fail -c 125 lb volume rm
    assert_one_line_error '"volume rm" requires at least 1 argument'
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "prune without -f on a non-terminal stdin refuses and changes nothing" {
    lb volume create >/dev/null
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 125 lb volume prune </dev/null
    assert_one_line_error "stdin is not a terminal to confirm the prune: use -f"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
    must_fail -c 125 lb volume prune -f extra
    assert_one_line_error '"volume prune" accepts no arguments'
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "prune -f removes anonymous volumes only; -a removes named ones too" {
    anon=$(lb volume create)
    lb volume create named >/dev/null
    head -c 1500 /dev/zero >"$LB_ROOT/volumes/$anon/_data/a"
    mkdir "$LB_ROOT/volumes/$anon/_data/d"
    head -c 500 /dev/zero >"$LB_ROOT/volumes/$anon/_data/d/b"
    run lb volume prune -f
    assert_equal "$status" 0
    # 2000 bytes: docker's decimal units
    assert_equal "$output" "$(printf 'Deleted Volumes:\n%s\n\nTotal reclaimed space: 2kB' "$anon")"
    [ ! -e "$LB_ROOT/volumes/$anon" ]
    run lb volume ls -q
    assert_equal "$output" "named"
    run lb volume prune -f
    assert_equal "$output" "Total reclaimed space: 0B"
    run lb volume prune -a -f
    assert_equal "$output" "$(printf 'Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B')"
    run lb volume ls -q
    assert_equal "$output" ""
}

@test "prune on a terminal asks first: only y goes on" {
    require_tool script
    anon=$(lb volume create)
    # script(1) gives layerbox a terminal as stdin.
    run bash -c "printf 'n\n' | script -qec '$LAYERBOX --root $LB_ROOT volume prune' /dev/null"
    assert_equal "$status" 1
    assert_output_contains "WARNING! This will remove anonymous local volumes not used by at least one container."
    assert_output_contains "volume prune has been cancelled"
    [ -d "$LB_ROOT/volumes/$anon" ]
    run bash -c "printf 'y\n' | script -qec '$LAYERBOX --root $LB_ROOT volume prune -a' /dev/null"
    assert_equal "$status" 0
    assert_output_contains "WARNING! This will remove all local volumes not used by at least one container."
    assert_output_contains "$anon"
    [ ! -e "$LB_ROOT/volumes/$anon" ]
}

@test "volume without a subcommand, an unknown one, and --help" {
    must_fail -c 125 lb volume
    assert_one_line_error '"volume" requires a command'
    must_fail -c 125 lb volume frob
    assert_one_line_error "unknown command 'frob' for 'layerbox volume'"
    run lb volume --help
    assert_equal "$status" 0
    assert_output_contains "Usage:  layerbox volume COMMAND"
    run lb volume prune --help
    assert_equal "$status" 0
    assert_output_contains "Remove the anonymous volumes no container uses"
}
