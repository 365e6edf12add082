#!/usr/bin/env bats
# `export [-o FILE] CONTAINER`: the container's merged file system as one flat tar (whiteouts
# applied, so none in it), and `import` of it: a one-layer image with none of the original
# image's history. The round trip is checked against the container's live root with find/stat,
# not with layerbox.

load helpers

setup() {
    busybox_setup
}

teardown() {
    remove_all_containers
    lb_teardown
}

IMG=layerbox-fixtures/busybox
CHANGES='echo hi >/new.txt; echo x >>/etc/passwd; rm /bin/ls; rm -rf /home; echo a >/h1; ln /h1 /h2; ln -s ../etc/passwd /tmp/pw; chown 12:34 /new.txt; chmod 4751 /h1'

@test "export writes the merged tree: changes in, deletions out, no whiteouts" {
    lb run --name c "$IMG" sh -c "$CHANGES"
    lb export c >"$LB_TMP/c.tar"
    tar -tvf "$LB_TMP/c.tar" >"$LB_TMP/list"
    tar -tf "$LB_TMP/c.tar" >"$LB_TMP/names"
    grep -qx 'new.txt' "$LB_TMP/names"
    grep -qx 'etc/passwd' "$LB_TMP/names"
    grep -qx 'bin/busybox' "$LB_TMP/names"     # from the image's layer
    grep -qx 'usr/bin/lb-init' "$LB_TMP/names"
    ! grep -q '^bin/ls$' "$LB_TMP/names"         # deleted in the container
    ! grep -q '^home' "$LB_TMP/names"
    ! grep -q '\.wh\.' "$LB_TMP/names"           # the merged view has no whiteouts
    ! grep -q '^\./' "$LB_TMP/names"
    grep -q '^-rw-r--r-- 12/34 .* new.txt$' "$LB_TMP/list"
    grep -q '^lrwxrwxrwx 0/0 .* tmp/pw -> ../etc/passwd$' "$LB_TMP/list"
    grep -q '^hrwsr-x--x 0/0 .* h2 link to h1$' "$LB_TMP/list"
    # the changed file's content is the container's
    assert_equal "$(tar -xOf "$LB_TMP/c.tar" etc/passwd | tail -n 1)" "x"
    assert_equal "$(tar -xOf "$LB_TMP/c.tar" new.txt)" "hi"
    # names sorted: the tar lists them in bytewise order, parents first
    assert_equal "$(LC_ALL=C sort "$LB_TMP/names" | sed 's|/$||')" "$(sed 's|/$||' "$LB_TMP/names")"
    # the stopped container's root was mounted for the export only
    assert_equal "$(awk -v r="$LB_ROOT/" 'index($5, r) == 1' /proc/self/mountinfo)" "" "mounts"
}

@test "export -o writes FILE (0644), replacing an existing one" {
    lb run --name c "$IMG" sh -c "$CHANGES"
    echo old >"$LB_TMP/out.tar"
    (umask 022 && lb export -o "$LB_TMP/out.tar" c)
    assert_equal "$(stat -c %a "$LB_TMP/out.tar")" 644
    tar -tf "$LB_TMP/out.tar" | grep -qx new.txt
    lb export c >"$LB_TMP/stdout.tar"
    cmp "$LB_TMP/out.tar" "$LB_TMP/stdout.tar"   # deterministic: the same bytes both ways
    assert_equal "$(ls -A "$LB_TMP" | grep -c tmp-)" 0 "no temp file left"
}

@test "export then import gives a one-layer image without the original history, same files" {
    lb run --name c "$IMG" sh -c "$CHANGES"
    lb export -o "$LB_TMP/c.tar" c
    lb import "$LB_TMP/c.tar" flat:1 >/dev/null
    assert_equal "$(lb inspect --format '{{len .RootFS.Layers}}' flat:1)" 1
    run lb history --no-trunc flat:1
    assert_equal "$status" 0
    assert_line_count 2                            # the header and the import's one entry
    assert_output_contains "Imported from"
    [[ "$output" != *"busybox-rootfs.tar"* ]]      # the original's ADD line is gone
    [[ "$output" != *'CMD ["/bin/sh"]'* ]]
    run lb run --rm flat:1 /bin/sh -c 'cat /new.txt; tail -n 1 /etc/passwd; ls /bin/ls /home 2>&1; stat -c "%u:%g %a %h" /new.txt /h1'
    assert_equal "$status" 0
    assert_equal "$(printf '%s\n' "$output" | head -n 2)" "hi
x"
    assert_output_contains "/bin/ls: No such file or directory"
    assert_output_contains "/home: No such file or directory"
    assert_output_contains "12:34 644 1"
    assert_output_contains "0:0 4751 2"
}

# find's view of a tree: path, type+mode, owner, size (files), link target, link count
# (non-directories); mtimes of non-directories to the second (tar keeps seconds).
tree_facts() {
    (cd "$1" && find . -mindepth 1 \( -type d -printf '%p %M %U:%G\n' \) -o \
        \( -printf '%p %M %U:%G %s %n %l %TY%Tm%Td%TH%TM%.2TS\n' \) | LC_ALL=C sort)
}

@test "the round trip matches the live root file by file: modes, owners, symlinks, hardlinks" {
    lb run -d --name live "$IMG" sh -c "$CHANGES; mkfifo /fifo; touch /ready; exec sleep 1000" >/dev/null
    local id root i
    id=$(lb inspect --format '{{.Id}}' live)
    root=$LB_ROOT/containers/$id/rootfs
    for ((i = 0; i < 50; i++)); do
        [ -e "$root/ready" ] && break
        sleep 0.1
    done
    lb export -o "$LB_TMP/live.tar" live
    mkdir "$LB_TMP/x"
    tar -C "$LB_TMP/x" --numeric-owner -xpf "$LB_TMP/live.tar"
    tree_facts "$root" >"$LB_TMP/want"
    tree_facts "$LB_TMP/x" >"$LB_TMP/got"
    diff -u "$LB_TMP/want" "$LB_TMP/got"
    # the hardlink is one inode with two names in the extracted tree too
    assert_equal "$(stat -c %i "$LB_TMP/x/h1")" "$(stat -c %i "$LB_TMP/x/h2")"
    assert_equal "$(stat -c %h "$LB_TMP/x/h1")" 2
    [ -p "$LB_TMP/x/fifo" ]
    grep -q '^./new.txt -rw-r--r-- 12:34 3 1' "$LB_TMP/got"
    assert_equal "$(lb inspect --format '{{.State.Status}}' live)" running
}

@test "export of an unknown container fails and creates nothing" {
    must_fail -c 1 lb export -o "$LB_TMP/x.tar" nope
    assert_one_line_error "layerbox: no such container: 'nope'"
    [ ! -e "$LB_TMP/x.tar" ]
    assert_equal "$(ls -A "$LB_TMP")" ""
    must_fail -c 125 lb export
}

@test "export to an unwritable -o fails in one line and creates nothing" {
    lb run --name c "$IMG" true
    must_fail -c 1 lb export -o "$LB_TMP/no/such/dir/c.tar" c
    assert_one_line_error "layerbox: cannot write '$LB_TMP/no/such/dir/c.tar'"
    [ ! -e "$LB_TMP/no" ]
    assert_equal "$(awk -v r="$LB_ROOT/" 'index($5, r) == 1' /proc/self/mountinfo)" "" "mounts"
}

@test "export refuses to write a tar to a terminal" {
    require_tool script
    lb run --name c "$IMG" true
    run script -qec "$LAYERBOX --root $LB_ROOT export c; echo rc=\$?" /dev/null
    [[ "$output" == *"cowardly refusing to save to a terminal. Use the -o flag or redirect"* ]]
    [[ "$output" == *"rc=1"* ]]
}
