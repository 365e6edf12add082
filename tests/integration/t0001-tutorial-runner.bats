#!/usr/bin/env bats
# tests/run-tutorials.sh on small chapters written here, with a fake layerbox: a passing chapter,
# a failing command, a missing or misplaced expected line, wildcards, expect-fail, and the
# chapters that must not pass vacuously.

load helpers

setup() {
    lb_setup
    RUNNER=$LB_REPO/tests/run-tutorials.sh
    # The fake layerbox shows what the runner gave it.
    cat >"$LB_TMP/fake-layerbox" <<'EOF'
#!/bin/sh
case "$1" in
images) printf 'REPOSITORY  TAG     IMAGE ID      SIZE\nbusybox     latest  0123456789ab  1.2 MB\n' ;;
env) echo "root=$LAYERBOX_ROOT"; echo "fixtures=$FIXTURES"; echo "pwd=$(pwd)" ;;
fail) echo "layerbox: no such image 'nope'" >&2; exit 125 ;;
*) echo "args: $*" ;;
esac
EOF
    chmod +x "$LB_TMP/fake-layerbox"
    mkdir "$LB_TMP/fixtures" "$LB_TMP/runner-tmp"
}

# chapter NAME: the chapter text from stdin into $LB_TMP/NAME.md
chapter() {
    cat >"$LB_TMP/$1.md"
}

# tutorials NAME...: run the runner on those chapters, as `make tutorials` does.
tutorials() {
    local files=() c
    for c in "$@"; do files+=("$LB_TMP/$c.md"); done
    run --separate-stderr env LAYERBOX="$LB_TMP/fake-layerbox" FIXTURES="$LB_TMP/fixtures" \
        TMPDIR="$LB_TMP/runner-tmp" sh "$RUNNER" "${files[@]}"
}

@test "a chapter whose blocks succeed and print the expected lines passes" {
    chapter good <<'EOF'
# Images

```sh
NAME=busybox
layerbox images
```

```expected
REPOSITORY  TAG     IMAGE ID      SIZE
busybox     latest  0123456789ab  1.2 MB
```

Text between blocks; the session carries on.

```sh
echo "name is $NAME"
layerbox env
```
EOF
    tutorials good
    assert_equal "$status" 0 "runner: $output"
    assert_equal "$output" "ok   $LB_TMP/good.md (2 sh blocks)
1 passed, 0 failed"
}

@test "the session has layerbox on PATH, a fresh LAYERBOX_ROOT, a temp cwd and FIXTURES" {
    chapter env <<'EOF'
```sh
command -v layerbox
layerbox env
test ! -e "$LAYERBOX_ROOT"
echo "$LAYERBOX_ROOT" >"$FIXTURES/seen-root"
pwd >"$FIXTURES/seen-pwd"
```
EOF
    cp "$LB_TMP/env.md" "$LB_TMP/env2.md"
    tutorials env env2
    assert_equal "$status" 0 "runner: $output"
    assert_line_count 3
    root2=$(cat "$LB_TMP/fixtures/seen-root")
    pwd2=$(cat "$LB_TMP/fixtures/seen-pwd")
    [[ $root2 == "$LB_TMP/runner-tmp/"* ]]
    [[ $pwd2 == "$LB_TMP/runner-tmp/"* ]]
    # Everything the chapters had is gone afterwards.
    run ls -A "$LB_TMP/runner-tmp"
    assert_equal "$output" ""
}

@test "the layerbox on PATH is \$LAYERBOX and gets LAYERBOX_ROOT and FIXTURES" {
    chapter env <<'EOF'
```sh
layerbox env
[ "$(readlink -f "$(command -v layerbox)")" = "$(readlink -f "$EXPECT_LB")" ]
```

```expected
root=.../root
fixtures=...
pwd=.../work
```
EOF
    EXPECT_LB=$LB_TMP/fake-layerbox tutorials env
    assert_equal "$status" 0 "runner: $output"
}

@test "a failing command fails the chapter at its block, and later blocks do not run" {
    chapter bad <<'EOF'
Intro.

```sh
echo one
```

```sh
echo two
false
echo after-false >"$FIXTURES/ran-after-false"
```

```sh
echo three >"$FIXTURES/ran-block-3"
```
EOF
    tutorials bad
    assert_equal "$status" 1
    assert_equal "${lines[0]}" "FAIL $LB_TMP/bad.md: block 2 (line 7): a command failed (exit 1)"
    assert_output_contains "    | two"
    assert_equal "${lines[-1]}" "0 passed, 1 failed"
    [ ! -e "$LB_TMP/fixtures/ran-after-false" ]
    [ ! -e "$LB_TMP/fixtures/ran-block-3" ]
}

@test "a missing expected line fails the chapter and is named" {
    chapter missing <<'EOF'
```sh
layerbox images
```
```expected
busybox     latest  0123456789ab  1.2 MB
alpine      3.19    ...
```
EOF
    tutorials missing
    assert_equal "$status" 1
    assert_equal "${lines[0]}" "FAIL $LB_TMP/missing.md: block 1 (line 1): missing expected line 'alpine      3.19    ...'"
    assert_output_contains "    | busybox     latest  0123456789ab  1.2 MB"
}

@test "expected lines must appear in order and match whole lines" {
    chapter order <<'EOF'
```sh
printf 'first\nsecond\nthird\n'
```
```expected
third
first
```
EOF
    chapter whole <<'EOF'
```sh
echo "the whole line"
```
```expected
whole
```
EOF
    chapter skip <<'EOF'
```sh
printf 'first\nsecond\nthird\n'
```
```expected
first
third
```
EOF
    tutorials order whole skip
    assert_equal "$status" 1
    assert_equal "${lines[0]}" "FAIL $LB_TMP/order.md: block 1 (line 1): missing expected line 'first'"
    assert_output_contains "FAIL $LB_TMP/whole.md: block 1 (line 1): missing expected line 'whole'"
    assert_output_contains "ok   $LB_TMP/skip.md (1 sh blocks)"
    assert_equal "${lines[-1]}" "1 passed, 2 failed"
}

@test "... in an expected line matches any text, and only that" {
    chapter wild <<'EOF'
```sh
layerbox images
echo "Loaded image sha256:0123abcd (3 layers)"
```
```expected
REPOSITORY  ...  SIZE
busybox ... MB
Loaded image sha256:... (... layers)
```
EOF
    chapter wildbad <<'EOF'
```sh
echo "Loaded image sha256:0123abcd (3 layers)"
```
```expected
Loaded image md5:...
```
EOF
    chapter wildend <<'EOF'
```sh
echo "abc"
```
```expected
ab...bc
```
EOF
    tutorials wild wildbad wildend
    assert_equal "${lines[0]}" "ok   $LB_TMP/wild.md (1 sh blocks)"
    assert_output_contains "FAIL $LB_TMP/wildbad.md: block 1 (line 1): missing expected line 'Loaded image md5:...'"
    # "ab" then "bc" cannot share the "b": "abc" does not match "ab...bc".
    assert_output_contains "FAIL $LB_TMP/wildend.md: block 1 (line 1): missing expected line 'ab...bc'"
    assert_equal "$status" 1
}

@test "an expect-fail block must fail, and its output can be checked" {
    chapter ef <<'EOF'
```sh {expect-fail}
layerbox fail
```
```expected
layerbox: no such image 'nope'
```

```sh {expect-fail=125}
layerbox fail
```

```sh
echo "the session goes on"
```
EOF
    chapter efok <<'EOF'
```sh {expect-fail}
layerbox images
```
EOF
    chapter efcode <<'EOF'
```sh {expect-fail=2}
layerbox fail
```
EOF
    chapter efcrash <<'EOF'
```sh {expect-fail}
sh -c 'kill -SEGV $$'
```
EOF
    tutorials ef efok efcode efcrash
    assert_equal "${lines[0]}" "ok   $LB_TMP/ef.md (3 sh blocks)"
    assert_output_contains "FAIL $LB_TMP/efok.md: block 1 (line 1): tagged expect-fail but succeeded"
    assert_output_contains "FAIL $LB_TMP/efcode.md: block 1 (line 1): tagged expect-fail=2 but exited 125"
    assert_output_contains "FAIL $LB_TMP/efcrash.md: block 1 (line 1): tagged expect-fail and died with status 139"
    assert_equal "${lines[-1]}" "1 passed, 3 failed"
}

@test "a command killed by a signal is reported with the signal's name" {
    chapter sig <<'EOF'
```sh
sh -c 'kill -SEGV $$'
```
EOF
    tutorials sig
    assert_equal "$status" 1
    assert_equal "${lines[0]}" "FAIL $LB_TMP/sig.md: block 1 (line 1): a command failed (exit 139, SIGSEGV)"
}

@test "a chapter with no sh block fails, and text/console blocks are not run" {
    chapter none <<'EOF'
# Only text

```console
$ layerbox images
```

```text
exit 1
```
EOF
    chapter shown <<'EOF'
```console
touch "$FIXTURES/console-ran"
```
```text
touch "$FIXTURES/text-ran"
```
```sh
echo ok
```
EOF
    tutorials none shown
    assert_equal "$status" 1
    assert_equal "${lines[0]}" "FAIL $LB_TMP/none.md: no \`\`\`sh block: a chapter must run something"
    assert_equal "${lines[1]}" "ok   $LB_TMP/shown.md (1 sh blocks)"
    [ ! -e "$LB_TMP/fixtures/console-ran" ]
    [ ! -e "$LB_TMP/fixtures/text-ran" ]
}

@test "malformed chapters fail: stray expected, unterminated fence, unknown attribute, no file" {
    chapter stray <<'EOF'
```sh
echo hi
```
Some text in between.
```expected
hi
```
EOF
    chapter afterconsole <<'EOF'
```sh
echo hi
```
```console
$ echo hi
```
```expected
hi
```
EOF
    chapter open <<'EOF'
```sh
echo hi
EOF
    chapter attr <<'EOF'
```sh {expect-failure}
false
```
EOF
    chapter empty <<'EOF'
```sh
echo hi
```
```expected

```
EOF
    tutorials stray afterconsole open attr empty nonexistent
    assert_equal "$status" 1
    assert_equal "${lines[0]}" "FAIL $LB_TMP/stray.md: line 5: an expected block must directly follow a sh block"
    assert_equal "${lines[1]}" "FAIL $LB_TMP/afterconsole.md: line 7: an expected block must directly follow a sh block"
    assert_equal "${lines[2]}" "FAIL $LB_TMP/open.md: line 1: unterminated code fence"
    assert_equal "${lines[3]}" "FAIL $LB_TMP/attr.md: line 1: unknown attribute {expect-failure} on a sh block (known: {expect-fail}, {expect-fail=N})"
    assert_equal "${lines[4]}" "FAIL $LB_TMP/empty.md: line 1: the expected block after this sh block is empty"
    assert_equal "${lines[5]}" "FAIL $LB_TMP/nonexistent.md: cannot read the file"
    assert_equal "${lines[6]}" "0 passed, 6 failed"
}

@test "the runner refuses to start without a layerbox or without chapters" {
    run env LAYERBOX="$LB_TMP/nothing" sh "$RUNNER" "$LB_TMP/x.md"
    assert_equal "$status" 2
    assert_output_contains "is not an executable"
    run env LAYERBOX="$LB_TMP/fake-layerbox" sh "$RUNNER"
    assert_equal "$status" 1
    assert_output_contains "0 passed, 0 failed"
}
