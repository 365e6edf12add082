#!/usr/bin/env bats
# layerbox import: a root file system tar (plain, gzip or zstd, file or stdin) becomes a one-layer
# image whose layer is stored uncompressed (blob digest = DiffID = sha256sum of the plain tar),
# whose config is the docker-shaped one with the -c changes, and whose ID (printed in full, as
# docker does) is the sha256 of that config.

load helpers

# uname -m as Go's GOARCH, for the config's "architecture".
goarch() {
    case $(uname -m) in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    armv7l | armv6l) echo arm ;;
    i?86) echo 386 ;;
    *) uname -m ;;
    esac
}

config_of() {
    cat "$LB_ROOT/images/blobs/sha256/${1#sha256:}"
}

@test "import of the plain, gzip and zstd rootfs gives the same layer, stored uncompressed" {
    diff_id=sha256:$(sha256sum <"$(fixture busybox-rootfs.tar)" | cut -d' ' -f1)
    load_fixture_ids busybox
    for f in busybox-rootfs.tar busybox-rootfs.tar.gz busybox-rootfs.tar.zst; do
        run lb import "$(fixture "$f")"
        assert_equal "$status" 0 "$f"
        id=$output
        [[ $id =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "not a full ID: $id" >&2; return 1; }
        # the ID is the digest of the config blob
        assert_equal "sha256:$(config_of "$id" | sha256sum | cut -d' ' -f1)" "$id"
        run jq -r '.rootfs.diff_ids | join(" ")' <(config_of "$id")
        assert_equal "$output" "$diff_id" "$f"
        cmp "$LB_ROOT/images/blobs/sha256/${diff_id#sha256:}" "$(fixture busybox-rootfs.tar)"
        meta=$LB_ROOT/layers/${diff_id#sha256:}/meta.json
        assert_equal "$(jq -r .size "$meta")" "$LAYER_SIZES" "unpacked size of $f"
    done
}

@test "import writes docker's config: architecture, os, history, comment" {
    run lb import "$(fixture busybox-rootfs.tar)"
    id=$output
    config_of "$id" >"$LB_TMP/c.json"
    assert_equal "$(jq -r .architecture "$LB_TMP/c.json")" "$(goarch)"
    assert_equal "$(jq -r .os "$LB_TMP/c.json")" linux
    assert_equal "$(jq -r .comment "$LB_TMP/c.json")" "Imported from $(fixture busybox-rootfs.tar)"
    assert_equal "$(jq -r '.history | length' "$LB_TMP/c.json")" 1
    assert_equal "$(jq -r '.history[0].created_by' "$LB_TMP/c.json")" "layerbox import $(fixture busybox-rootfs.tar)"
    assert_equal "$(jq -r '.history[0].created' "$LB_TMP/c.json")" "$(jq -r .created "$LB_TMP/c.json")"
    created=$(jq -r .created "$LB_TMP/c.json")
    now=$(date +%s)
    then=$(date -d "$created" +%s)
    [ $((now - then)) -ge 0 ] && [ $((now - then)) -lt 60 ]
    # untagged: images shows <none>
    run lb images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
    assert_equal "$output" "<none>:<none> ${id:7:12}"
}

@test "import with a name, a message and changes" {
    run lb import -m "my rootfs" -c 'CMD ["/bin/sh", "-c", "echo hi"]' -c 'ENV A=1 B="two words"' \
        --change 'EXPOSE 8080' -c 'WORKDIR /srv' -c 'LABEL org.example.k="v w"' -c 'USER lbuser' \
        "$(fixture busybox-rootfs.tar.zst)" example.com/team/box:v1
    assert_equal "$status" 0
    id=$output
    config_of "$id" >"$LB_TMP/c.json"
    assert_equal "$(jq -c .config.Cmd "$LB_TMP/c.json")" '["/bin/sh","-c","echo hi"]'
    assert_equal "$(jq -c .config.Env "$LB_TMP/c.json")" '["A=1","B=two words"]'
    assert_equal "$(jq -c .config.ExposedPorts "$LB_TMP/c.json")" '{"8080/tcp":{}}'
    assert_equal "$(jq -r .config.WorkingDir "$LB_TMP/c.json")" /srv
    assert_equal "$(jq -r '.config.Labels["org.example.k"]' "$LB_TMP/c.json")" "v w"
    assert_equal "$(jq -r .config.User "$LB_TMP/c.json")" lbuser
    assert_equal "$(jq -r .comment "$LB_TMP/c.json")" "my rootfs"
    assert_equal "$(jq -r '.history[0].comment' "$LB_TMP/c.json")" "my rootfs"
    run lb inspect --format '{{.Id}}' example.com/team/box:v1
    assert_equal "$output" "$id"
}

@test "import from standard input" {
    diff_id=sha256:$(sha256sum <"$(fixture busybox-rootfs.tar)" | cut -d' ' -f1)
    run bash -c 'cat "$1" | "$LAYERBOX" --root "$LB_ROOT" import - piped' _ "$(fixture busybox-rootfs.tar.gz)"
    assert_equal "$status" 0
    id=$output
    assert_equal "$(config_of "$id" | jq -r '.rootfs.diff_ids[0]')" "$diff_id"
    assert_equal "$(config_of "$id" | jq -r '.history[0].created_by')" "layerbox import -"
    run lb inspect --format '{{.Id}}' piped
    assert_equal "$output" "$id"
}

@test "import of something that is not a tar fails and stores nothing" {
    lb import "$(fixture busybox-rootfs.tar)" >/dev/null
    before=$(store_snapshot "$LB_ROOT")
    # the words of the layer unpacker (layer/unpack.c), which import and load share
    must_fail -c 1 lb import "$(fixture bad/layer-not-tar.tar)" x
    assert_one_line_error "bad/layer-not-tar.tar': cannot read the tar: Unrecognized archive format"
    must_fail -c 1 lb import "$(fixture bad/not-a-tar.bin)"
    assert_one_line_error "bad/not-a-tar.bin': cannot read the tar: Unrecognized archive format"
    must_fail -c 1 lb import "$(fixture bad/empty.tar)"
    assert_one_line_error "is not a tar archive: it is empty"
    must_fail -c 1 lb import "$(fixture bad/truncated.tar)"
    assert_one_line_error "/layer.tar': cannot read the tar: Truncated tar archive"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "import with a bad change or name fails before storing anything" {
    lb import "$(fixture busybox-rootfs.tar)" >/dev/null
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb import -c 'FOO bar' "$(fixture busybox-rootfs.tar)"
    assert_one_line_error "invalid change 'FOO bar': unknown instruction: FOO"
    must_fail -c 1 lb import -c 'ENV' "$(fixture busybox-rootfs.tar)"
    assert_one_line_error "ENV requires at least one argument"
    must_fail -c 1 lb import -c 'RUN true' "$(fixture busybox-rootfs.tar)"
    assert_one_line_error "RUN is not a valid change command"
    must_fail -c 1 lb import "$(fixture busybox-rootfs.tar)" Upper/Case
    assert_one_line_error "invalid reference format: repository name must be lowercase"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "import of a missing file or a URL is a one-line error" {
    must_fail -c 1 lb import "$LB_TMP/nope.tar"
    assert_one_line_error "cannot open '$LB_TMP/nope.tar': No such file or directory"
    must_fail -c 1 lb import https://example.com/rootfs.tar
    assert_one_line_error "importing from a URL is not supported"
}

@test "import usage errors exit 125" {
    must_fail -c 125 lb import
    assert_one_line_error '"import" requires at least 1 argument'
    must_fail -c 125 lb import a b c
    assert_one_line_error '"import" requires at most 2 arguments'
    must_fail -c 125 lb import --nope x
    assert_one_line_error "unknown flag: --nope"
    must_fail -c 125 lb import x -m
    assert_one_line_error "flag needs an argument"
}

@test "import --explain says what is hashed and stored" {
    run --separate-stderr lb --explain import "$(fixture busybox-rootfs.tar.gz)"
    assert_equal "$status" 0
    assert_output_contains --stderr "[import] reading"
    assert_output_contains --stderr "was gzip-compressed: stored as a plain tar"
    assert_output_contains --stderr "is the image ID"
    assert_output_contains --stderr "[store] stored blob"
    assert_line_count 1
}

@test "import --help prints the usage" {
    run lb import --help
    assert_equal "$status" 0
    assert_output_contains "Usage:  layerbox import [OPTIONS] file|- [REPOSITORY[:TAG]]"
}

@test "ENTRYPOINT clears the command unless the same import sets CMD, in either order" {
    run lb import -c 'CMD ["x"]' -c 'ENTRYPOINT ["y"]' "$(fixture busybox-rootfs.tar)"
    assert_equal "$(config_of "$output" | jq -c '[.config.Cmd, .config.Entrypoint]')" '[["x"],["y"]]'
    run lb import -c 'ENTRYPOINT ["y"]' -c 'cmd x' "$(fixture busybox-rootfs.tar)"
    assert_equal "$(config_of "$output" | jq -c '[.config.Cmd, .config.Entrypoint]')" '[["/bin/sh","-c","x"],["y"]]'
    run lb import -c 'ENTRYPOINT ["y"]' "$(fixture busybox-rootfs.tar)"
    assert_equal "$(config_of "$output" | jq -c '[.config.Cmd, .config.Entrypoint]')" '[null,["y"]]'
}

@test "import unpacks the layer into layers/<DiffID>/diff" {
    load_fixture_ids busybox
    diff_id=sha256:$(sha256sum <"$(fixture busybox-rootfs.tar)" | cut -d' ' -f1)
    run lb import "$(fixture busybox-rootfs.tar.zst)" unpacked:1
    assert_equal "$status" 0
    d=$LB_ROOT/layers/${diff_id#sha256:}
    # fixtures/README.md: Debian's static busybox, lb-init, applet symlinks, /tmp 1777, lbuser's home
    cmp "$d/diff/bin/busybox" /bin/busybox
    cmp "$d/diff/usr/bin/lb-init" "$(fixture lb-init)"
    assert_equal "$(readlink "$d/diff/bin/sh")" busybox
    assert_equal "$(stat -c %a "$d/diff/tmp")" 1777
    if [ "$(id -u)" -eq 0 ]; then
        assert_equal "$(stat -c %u:%g "$d/diff/home/lbuser")" 1000:1000
    fi
    # one layer: its ChainID is its DiffID, it has no parent
    assert_equal "$(jq -r .chain_id "$d/meta.json")" "$diff_id"
    assert_equal "$(jq -r .diff_id "$d/meta.json")" "$diff_id"
    assert_equal "$(jq -r .parent "$d/meta.json")" null
    assert_equal "$(jq -r .size "$d/meta.json")" "$LAYER_SIZES"
    assert_equal "$(ls -A "$LB_ROOT/tmp")" "" "tmp/"
    # a second import of the same tar shares the layer
    run --separate-stderr lb --explain import "$(fixture busybox-rootfs.tar)" again:1
    assert_equal "$status" 0
    assert_output_contains --stderr "already unpacked as layers/${diff_id#sha256:}: shared"
    assert_equal "$(find "$LB_ROOT/layers" -name busybox -type f | wc -l)" 1 "copies of busybox"
}

@test "an import refused for an unsafe entry leaves nothing behind" {
    lb import "$(fixture busybox-rootfs.tar)" >/dev/null
    before=$(store_snapshot "$LB_ROOT")
    must_fail -c 1 lb import "$(fixture evil/symlink-write.tar)" x
    assert_one_line_error "entry 'escape/written': parent 'escape' is a symlink"
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}
