#!/usr/bin/env bats
# The test harness itself: a helper that cannot fail would make every test that uses it
# worthless, so each helper is shown rejecting what it must reject. Needs no layerbox build:
# a fake $LAYERBOX script stands in where one is needed.

load helpers

# Run a small .bats file (body given on stdin) in a nested bats, with the same helpers and
# without this run's LB_TEST_KEEP / LB_TEST_MUST_WORK (arguments VAR=VALUE set them). The
# nested tests keep their temp dirs inside this test's $LB_TMP.
nested_bats() {
    {
        echo "load '$LB_REPO/tests/integration/helpers'"
        # Bodies say %test: an @test line, even inside a heredoc, would be taken by bats as a
        # test of this file.
        sed 's/^%test /@test /'
    } >"$LB_TMP/nested.bats"
    run env -u LB_TEST_KEEP -u LB_TEST_MUST_WORK LB_TEST_TMPDIR="$LB_TMP" "$@" \
        bats --tap "$LB_TMP/nested.bats"
}

fake_layerbox() {
    cat >"$LB_TMP/fake-layerbox" <<'EOF'
#!/bin/sh
printf 'arg:%s\n' "$@"
echo "env-root:$LAYERBOX_ROOT"
EOF
    chmod +x "$LB_TMP/fake-layerbox"
    LAYERBOX=$LB_TMP/fake-layerbox
}

@test "each test gets an empty scratch dir and a store root that does not exist yet" {
    [ -d "$LB_TMP" ]
    run ls -A "$LB_TMP"
    assert_equal "$output" ""
    [ ! -e "$LB_ROOT" ]
    assert_equal "$LAYERBOX_ROOT" "$LB_ROOT" "LAYERBOX_ROOT"
    assert_equal "$(dirname "$LB_ROOT")" "$LB_TEST_DIR"
}

@test "the per-test directories are distinct and removed after each test" {
    record=$LB_TMP/dirs
    nested_bats <<EOF
%test "one" { echo "\$LB_TEST_DIR" >>'$record'; touch "\$LB_TMP/x"; mkdir -p "\$LB_ROOT/a"; }
%test "two" { echo "\$LB_TEST_DIR" >>'$record'; }
EOF
    assert_equal "$status" 0 "nested bats status"
    mapfile -t dirs <"$record"
    assert_equal "${#dirs[@]}" 2
    [ "${dirs[0]}" != "${dirs[1]}" ]
    [ ! -e "${dirs[0]}" ]
    [ ! -e "${dirs[1]}" ]
}

@test "LB_TEST_KEEP=1 keeps the per-test directory" {
    record=$LB_TMP/dirs
    body="%test \"one\" { echo \"\$LB_TEST_DIR\" >'$record'; touch \"\$LB_TMP/kept\"; }"
    nested_bats <<<"$body"
    assert_equal "$status" 0
    [ ! -e "$(cat "$record")" ]
    nested_bats LB_TEST_KEEP=1 <<<"$body"
    assert_equal "$status" 0
    kept=$(cat "$record")
    [ -f "$kept/tmp/kept" ]
    assert_output_contains "kept $kept"
}

@test "teardown unmounts what a test left mounted before removing its directory" {
    require_root
    record=$LB_TMP/dirs
    nested_bats <<EOF
%test "leaves a mount" {
    echo "\$LB_TEST_DIR" >'$record'
    mkdir "\$LB_TMP/m" && mount -t tmpfs tmpfs "\$LB_TMP/m" && touch "\$LB_TMP/m/file"
}
EOF
    assert_equal "$status" 0 "nested bats status: $output"
    dir=$(cat "$record")
    [ ! -e "$dir" ]
    run grep -F " $dir/" /proc/self/mountinfo
    assert_equal "$status" 1 "no mount left under $dir"
}

@test "lb runs \$LAYERBOX with --root \$LB_ROOT and the given arguments" {
    fake_layerbox
    run lb images --format 'a b'
    assert_equal "$status" 0
    assert_equal "$output" "arg:--root
arg:$LB_ROOT
arg:images
arg:--format
arg:a b
env-root:$LB_ROOT"
}

@test "lb without a built layerbox is not mistaken for a proper failure" {
    LAYERBOX=$LB_TMP/not-built
    run must_fail lb images
    [ "$status" -ne 0 ]
    assert_output_contains "is not an executable"
}

@test "must_fail accepts a failure and separates stdout from stderr" {
    must_fail sh -c 'echo out; echo "layerbox: boom" >&2; exit 3'
    assert_equal "$status" 3
    assert_equal "$output" "out"
    assert_equal "$stderr" "layerbox: boom"
}

@test "must_fail rejects a command that succeeds" {
    run must_fail sh -c 'echo fine'
    [ "$status" -ne 0 ]
    assert_output_contains "succeeded, a failure was expected"
}

@test "must_fail rejects a death by signal" {
    run must_fail sh -c 'kill -SEGV $$'
    [ "$status" -ne 0 ]
    assert_output_contains "status 139 (signal 11, SIGSEGV)"
    run must_fail sh -c 'kill -KILL $$'
    [ "$status" -ne 0 ]
    assert_output_contains "a crash, not a failure"
    run must_fail sh -c 'exit 200'
    [ "$status" -ne 0 ]
}

@test "must_fail -c checks the exit code" {
    must_fail -c 125 sh -c 'exit 125'
    assert_equal "$status" 125
    must_fail -c 127 sh -c 'exit 127'
    run must_fail -c 125 sh -c 'exit 1'
    [ "$status" -ne 0 ]
    assert_output_contains "exited 1, expected 125"
    run must_fail -c 125 true
    [ "$status" -ne 0 ]
    for bad in 0 128 abc ""; do
        run must_fail -c "$bad" false
        [ "$status" -ne 0 ]
        assert_output_contains "wants an exit code"
    done
}

@test "assert_one_line_error accepts one 'layerbox: ' line on stderr" {
    must_fail sh -c 'echo "table junk"; echo "layerbox: no such image '\''x'\''" >&2; exit 1'
    assert_one_line_error
    assert_one_line_error "no such image 'x'"
    run assert_one_line_error "something else"
    [ "$status" -ne 0 ]
}

@test "assert_one_line_error rejects two lines, a missing prefix and silence" {
    must_fail sh -c 'printf "layerbox: a\nlayerbox: b\n" >&2; exit 1'
    run assert_one_line_error
    [ "$status" -ne 0 ]
    assert_output_contains "more than one line"

    must_fail sh -c 'printf "layerbox: a\n\nhint\n" >&2; exit 1'
    run assert_one_line_error
    [ "$status" -ne 0 ]

    must_fail sh -c 'echo "error: a" >&2; exit 1'
    run assert_one_line_error
    [ "$status" -ne 0 ]
    assert_output_contains "does not start with"

    must_fail sh -c 'echo "layerbox: on stdout"; exit 1'
    run assert_one_line_error
    [ "$status" -ne 0 ]
    assert_output_contains "stderr is empty"

    must_fail sh -c 'echo "layerbox: " >&2; exit 1'
    run assert_one_line_error
    [ "$status" -ne 0 ]
}

@test "store_snapshot lists path, type, mode, owner, size and sha256" {
    d=$LB_TMP/s
    mkdir -p "$d/blobs"
    printf 'hello\n' >"$d/blobs/a"
    chmod 0640 "$d/blobs/a"
    ln -s blobs/a "$d/link"
    run store_snapshot "$d"
    assert_equal "$status" 0
    # sha256("hello\n"), known independently (e.g. FIPS 180-4 tools, `echo hello | sha256sum`).
    owner="$(id -u):$(id -g)"
    assert_equal "$output" ". d $(stat -c %a "$d") $owner -
blobs d 755 $owner -
blobs/a f 640 $owner 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03
link l 777 $owner -> blobs/a"
}

@test "store_snapshot shows device numbers of character devices" {
    require_root
    mknod -m 644 "$LB_TMP/wh" c 0 0
    mknod -m 644 "$LB_TMP/null" c 1 3
    run store_snapshot "$LB_TMP"
    assert_output_contains "wh c 644 0:0 0:0"
    assert_output_contains "null c 644 0:0 1:3"
}

@test "store_snapshot changes with content, mode, entries and links, not with times" {
    d=$LB_TMP/s
    mkdir -p "$d/images"
    echo aaaa >"$d/images/index.json"
    ln -s images "$d/link"
    before=$(store_snapshot "$d")

    touch -d '2001-01-01' "$d/images/index.json" "$d/images" "$d"
    echo aaaa >"$d/images/index.json"
    assert_equal "$(store_snapshot "$d")" "$before" "times and identical rewrites are ignored"

    echo bbbb >"$d/images/index.json" # same size, other bytes
    [ "$(store_snapshot "$d")" != "$before" ]
    echo aaaa >"$d/images/index.json"

    chmod 600 "$d/images/index.json"
    [ "$(store_snapshot "$d")" != "$before" ]
    chmod 644 "$d/images/index.json"
    assert_equal "$(store_snapshot "$d")" "$before"

    mkdir "$d/tmp"
    [ "$(store_snapshot "$d")" != "$before" ]
    rmdir "$d/tmp"

    ln -sfn elsewhere "$d/link"
    [ "$(store_snapshot "$d")" != "$before" ]
}

@test "store_snapshot of a missing directory says so" {
    run store_snapshot "$LB_TMP/nothing"
    assert_equal "$status" 0
    assert_equal "$output" "(absent)"
}

@test "require_tool skips when a tool is missing and LB_TEST_MUST_WORK=1 makes it a failure" {
    body='%test "needs a tool" { require_tool sh no-such-tool-lb; }
%test "has the tool" { require_tool sh; }'
    nested_bats <<<"$body"
    assert_equal "$status" 0 "nested: $output"
    assert_output_contains "ok 1 needs a tool # skip needs no-such-tool-lb"
    assert_output_contains "ok 2 has the tool"
    [[ $output != *"ok 2 has the tool # skip"* ]]

    nested_bats LB_TEST_MUST_WORK=1 <<<"$body"
    [ "$status" -ne 0 ]
    assert_output_contains "not ok 1 needs a tool"
    assert_output_contains "LB_TEST_MUST_WORK=1 and this test would skip: needs no-such-tool-lb"
    assert_output_contains "ok 2 has the tool"
}

@test "require_root and require_overlay skip or pass according to the machine" {
    nested_bats <<'EOF'
%test "root" { require_root; }
%test "overlay" { require_overlay; }
EOF
    assert_equal "$status" 0 "nested: $output"
    if [ "$(id -u)" -eq 0 ]; then
        assert_output_contains "ok 1 root"
        [[ $output != *"ok 1 root # skip"* ]]
        # Where overlayfs must work (CI), the probe must find it working.
        if [ "${LB_TEST_MUST_WORK:-}" = 1 ]; then
            assert_output_contains "ok 2 overlay"
            [[ $output != *"ok 2 overlay # skip"* ]]
        fi
    else
        assert_output_contains "ok 1 root # skip needs root"
        assert_output_contains "ok 2 overlay # skip needs root"
    fi
}

@test "fixture prints a path under \$FIXTURES and fails for a missing one" {
    FIXTURES=$LB_TMP/fx
    mkdir -p "$FIXTURES"
    echo x >"$FIXTURES/busybox.tar"
    printf 'BUSYBOX_ID=abc\nBUSYBOX_DIGEST="sha256:def"\n' >"$FIXTURES/busybox.ids"
    assert_equal "$(fixture busybox.tar)" "$FIXTURES/busybox.tar"
    run fixture nope.tar
    [ "$status" -ne 0 ]
    assert_output_contains "make fixtures"
    load_fixture_ids busybox
    assert_equal "$BUSYBOX_ID" abc
    assert_equal "$BUSYBOX_DIGEST" sha256:def
    run load_fixture_ids nope
    [ "$status" -ne 0 ]
}

@test "assert_equal, assert_output_contains and assert_line_count reject mismatches" {
    run assert_equal a b
    [ "$status" -ne 0 ]
    run assert_equal "" x
    [ "$status" -ne 0 ]

    output=$'one\n\nthree'
    assert_line_count 3
    assert_output_contains "three"
    run assert_line_count 2
    [ "$status" -ne 0 ]
    output=$'one\n\nthree'
    run assert_output_contains "four"
    [ "$status" -ne 0 ]

    output=""
    assert_line_count 0
    stderr="layerbox: x"
    output="only in stdout"
    assert_output_contains --stderr "layerbox: x"
    run assert_output_contains --stderr "only in stdout"
    [ "$status" -ne 0 ]
}
