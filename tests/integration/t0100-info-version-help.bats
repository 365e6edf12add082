#!/usr/bin/env bats
# layerbox info, version and --help: what the binary is, what the store holds (counted here with
# find and the fixtures' .ids), and the command line's contract: --help on every command prints
# usage to stdout and exits 0; an unknown flag is one line on stderr and exit 125, and changes
# nothing.

load helpers

# Every command in the dispatch table, as `layerbox --help` lists them.
commands() {
    "$LAYERBOX" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

@test "version reports the VERSION file, a commit, the compiler and the libraries in use" {
    run --separate-stderr lb version
    assert_equal "$status" 0
    assert_equal "$stderr" ""
    [[ $output == *" Version:       $(cat "$LB_REPO/VERSION")"* ]]
    [[ $output =~ " Git commit:    "([0-9a-f]{7,40}|unknown) ]]
    [[ $output =~ " Built with:    "(gcc|clang)" "[0-9] ]]
    # The libraries' own tools report the same versions (same Debian packages).
    libarchive=$(bsdtar --version)
    libarchive=${libarchive##*libarchive }
    libarchive=${libarchive%% *}
    [[ $output == *" libarchive:    $libarchive"* ]]
    jansson=$(dpkg-query -W -f '${Version}' libjansson4)
    [[ $output == *" jansson:       ${jansson%%-*}"* ]]
    openssl=$(openssl version)
    openssl=${openssl#OpenSSL }
    [[ $output == *" OpenSSL:       ${openssl%% *}"* ]]
    [[ $output == *" OS/Arch:       linux/"* ]]
}

@test "version --format and the global -v / --version" {
    run lb version --format '{{.Version}}'
    assert_equal "$output" "$(cat "$LB_REPO/VERSION")"
    run lb version --format json
    assert_equal "$(jq -r .Version <<<"$output")" "$(cat "$LB_REPO/VERSION")"
    run "$LAYERBOX" --version
    assert_equal "$status" 0
    [[ $output == *"$(cat "$LB_REPO/VERSION")"* ]]
    run "$LAYERBOX" -v
    assert_equal "$status" 0
    [[ $output == *"$(cat "$LB_REPO/VERSION")"* ]]
    [ ! -e "$LB_ROOT" ] # version never touches a store
}

@test "info on a new store shows its root, the storage driver, and nothing in it" {
    run lb info
    assert_equal "$status" 0
    [[ $output == *"Root Dir: $LB_ROOT"* ]]
    # overlay when the kernel has it and a probe mount works (root), vfs otherwise
    [[ $output == *"Storage Driver: overlay ("* || $output == *"Storage Driver: vfs ("* ]]
    [[ $output == *"Images: 0"* ]]
    [[ $output == *"Blobs: 0"* ]]
    [[ $output == *"Blobs Size: 0B (0 bytes)"* ]]
}

@test "info counts images and blobs as the fixtures and find(1) say" {
    lb load -i "$(fixture busybox.oci.tar)" >/dev/null
    lb load -i "$(fixture three-layer.oci.tar)" >/dev/null
    # The OCI archives' blobs are stored as they are: manifest + config + layers per image.
    load_fixture_ids busybox
    layers=$LAYER_COUNT
    blobs=$((2 + LAYER_COUNT))
    bytes=$((MANIFEST_SIZE + CONFIG_SIZE))
    for s in $LAYER_BLOB_SIZES; do bytes=$((bytes + s)); done
    load_fixture_ids three-layer
    layers=$((layers + LAYER_COUNT)) # the two images share no layer
    blobs=$((blobs + 2 + LAYER_COUNT))
    bytes=$((bytes + MANIFEST_SIZE + CONFIG_SIZE))
    for s in $LAYER_BLOB_SIZES; do bytes=$((bytes + s)); done
    assert_equal "$(find "$LB_ROOT/images/blobs/sha256" -type f | wc -l)" "$blobs" "blobs on disk"
    run lb info
    assert_equal "$status" 0
    [[ $output == *"Images: 2"* ]]
    [[ $output == *"Blobs: $blobs"* ]]
    [[ $output == *"($bytes bytes)"* ]]
    [[ $output == *"Layers: $layers"* ]]
    run lb info --format '{{.Images}} {{.Blobs}} {{.BlobsSize}} {{.RootDir}}'
    assert_equal "$output" "2 $blobs $bytes $LB_ROOT"
}

@test "layerbox --help lists every command and exits 0; no command is a usage error" {
    run "$LAYERBOX" --help
    assert_equal "$status" 0
    for c in history images import info inspect load rmi save tag version; do
        [[ $output == *"  $c "* ]] || { echo "--help does not list $c" >&2; false; }
    done
    must_fail -c 125 "$LAYERBOX" --root "$LB_ROOT"
    must_fail -c 125 lb frobnicate
    assert_one_line_error "'frobnicate' is not a layerbox command"
    [ ! -e "$LB_ROOT" ]
}

@test "every command prints its usage on --help and -h, to stdout, and exits 0" {
    mapfile -t cmds < <(commands)
    [ "${#cmds[@]}" -ge 10 ]
    for c in "${cmds[@]}"; do
        for h in --help -h; do
            run --separate-stderr lb "$c" "$h"
            assert_equal "$status" 0 "$c $h"
            [[ ${lines[0]} == "Usage:  layerbox $c"* ]] || {
                echo "$c $h: first line is '${lines[0]}'" >&2
                false
            }
            assert_equal "$stderr" "" "$c $h stderr"
        done
    done
    [ ! -e "$LB_ROOT" ] # asking for help creates no store
}

@test "an unknown flag is one line on stderr, exit 125, and changes nothing" {
    lb load -i "$(fixture busybox.docker.tar)" >/dev/null
    before=$(store_snapshot "$LB_ROOT")
    mapfile -t cmds < <(commands)
    for c in "${cmds[@]}"; do
        must_fail -c 125 lb "$c" --no-such-flag
        assert_one_line_error "unknown flag: --no-such-flag"
        assert_output_contains --stderr "layerbox $c --help"
        must_fail -c 125 lb "$c" -Z
        assert_one_line_error "unknown shorthand flag: 'Z' in -Z"
        assert_equal "$output" "" "$c -Z: nothing on stdout"
    done
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before"
}

@test "info and version refuse arguments" {
    must_fail -c 125 lb info extra
    assert_one_line_error "\"info\" accepts no arguments"
    must_fail -c 125 lb version extra
    assert_one_line_error "\"version\" accepts no arguments"
    must_fail -c 1 lb info --format '{{.Images'
    assert_one_line_error "template"
}
