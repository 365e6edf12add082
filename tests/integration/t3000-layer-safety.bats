#!/usr/bin/env bats
# Layer safety (issue 3): hostile layers (fixtures/out/evil, made by fixtures/mkevil.sh, listed
# in fixtures/README.md) given to `import` (the layer file) and `load` (the same layer as a
# one-layer docker-archive). Each must fail with one error line naming the entry and the rule it
# broke, leave the store byte-for-byte as it was (nothing in layers/, images/ or tmp/), and leave
# the probe directory, where every escaping symlink of the fixtures points, untouched.
# The two-layer cases plant a symlink in layer 1 and use it in layer 2: only the stack is an
# attack, caught when layer 2 is published over layer 1.

load helpers

PROBE=/tmp/layerbox-evil-probe # fixed by the fixtures (their symlinks point here)

setup() {
    lb_setup
    # The probe: a directory with a file, where an escape would write, delete or link. Written
    # only when it differs, so that two runs at once never see it half-written.
    mkdir -p "$PROBE" && chmod 0755 "$PROBE"
    [ "$(cat "$PROBE/keep" 2>/dev/null)" = "probe: must never change" ] ||
        printf '%s\n' "probe: must never change" >"$PROBE/keep"
    # a store with an image in it, so "unchanged" covers blobs, layers and index.json
    lb load -i "$(fixture three-layer.docker.tar)" >/dev/null
}

# lb_capped ARGS...: lb with written files capped at 256 MiB, so that a bomb that is not stopped
# dies of SIGXFSZ (a crash for must_fail) instead of filling the disk.
lb_capped() {
    (ulimit -f 262144 && lb "$@")
}

# refused TEXT ARGS...: `layerbox ARGS...` fails (exit 1) with one line containing TEXT and
# changes nothing: not the store, not the probe, and no file named in the fixtures appears
# in the probe.
refused() {
    local want=$1 before probe
    shift
    before=$(store_snapshot "$LB_ROOT") || return 1
    probe=$(store_snapshot "$PROBE") || return 1
    must_fail -c 1 lb_capped "$@" || return 1
    assert_one_line_error "$want" || return 1
    assert_equal "$output" "" "stdout of a refused '$*'" || return 1
    assert_equal "$(store_snapshot "$LB_ROOT")" "$before" "store after '$*'" || return 1
    assert_equal "$(store_snapshot "$PROBE")" "$probe" "probe after '$*'" || return 1
}

# The probe directory carries no overlay opaque xattr (checked when getfattr is installed:
# package attr; store_snapshot does not list xattrs).
assert_probe_not_opaque() {
    command -v getfattr >/dev/null 2>&1 || return 0
    local v
    v=$(getfattr --absolute-names -n trusted.overlay.opaque --only-values "$PROBE" 2>/dev/null)
    assert_equal "$v" "" "trusted.overlay.opaque on the probe"
}

# evil CASE TEXT: import CASE's layer and load CASE.docker.tar; both refused with TEXT.
evil() {
    local layer
    layer=$(awk -v c="$1" '$1 == c { print $2 }' "$(fixture evil/cases.txt)") || return 1
    [ -n "$layer" ] && [ "$layer" != - ] || {
        echo "evil: no layer file for case '$1' in evil/cases.txt" >&2
        return 1
    }
    refused "$2" import "$(fixture "evil/$layer")" || return 1
    refused "$2" load -i "$(fixture "evil/$1.docker.tar")"
}

@test "every evil fixture has a test here" {
    local c missing=()
    while read -r c _; do
        grep -qE "^ *(evil|evil_image|valid_flip) $c( |\$)" "$BATS_TEST_FILENAME" || missing+=("$c")
    done <"$(fixture evil/cases.txt)"
    assert_equal "${missing[*]}" "" "cases without a test"
}

# --- paths that leave the layer -------------------------------------------------------------

@test "a '../' path is refused" {
    evil dotdot "entry '../evil': path leaves the layer ('..')"
}

@test "a path climbing out through a/../../ is refused" {
    evil dotdot-deep "entry 'a/../../evil': path leaves the layer ('..')"
}

@test "an absolute path is refused" {
    evil absolute "entry '$PROBE/absolute': path is absolute (it would leave the layer)"
    [ ! -e "$PROBE/absolute" ]
}

# --- a symlink to outside, then used by the same layer ---------------------------------------

@test "a file written through a symlink the layer planted is refused" {
    evil symlink-write "entry 'escape/written': parent 'escape' is a symlink"
    [ ! -e "$PROBE/written" ]
}

@test "a whiteout through a symlink the layer planted is refused" {
    evil symlink-whiteout "entry 'escape/.wh.keep': parent 'escape' is a symlink"
    [ -f "$PROBE/keep" ]
}

@test "an opaque marker through a symlink the layer planted is refused" {
    evil symlink-opaque "entry 'escape/.wh..wh..opq': parent 'escape' is a symlink"
    assert_probe_not_opaque
}

@test "a hard link whose target goes through a planted symlink is refused" {
    evil symlink-hardlink "entry 'stolen': hardlink target 'escape/keep': parent 'escape' is a symlink"
    assert_equal "$(stat -c %h "$PROBE/keep")" 1 "links to the probe file"
}

@test "a relative symlink climbing above the root is refused" {
    evil symlink-relative "entry 'up': symlink target '../../../../../../../../../../..$PROBE' climbs above the layer root ('..')"
}

@test "a relative symlink climbing above the root from a subdirectory is refused" {
    evil symlink-relative-deep "entry 'a/b/up': symlink target '../../../outside' climbs above the layer root ('..')"
}

# --- hard links ----------------------------------------------------------------------------

@test "a hard link to ../outside is refused" {
    evil hardlink-dotdot "entry 'h': hardlink target '../outside': path leaves the layer ('..')"
}

@test "a hard link to an absolute path is refused" {
    evil hardlink-absolute "entry 'h': hardlink target '/etc/passwd': path is absolute (it would leave the layer)"
    assert_equal "$(stat -c %h /etc/passwd)" 1 "links to /etc/passwd"
}

@test "a hard link to '..' is refused" {
    evil hardlink-parent "entry 'h': hardlink target '..': path leaves the layer ('..')"
}

# --- whiteouts -----------------------------------------------------------------------------

@test "the whiteout '.wh.' (of nothing) is refused at the top and deeper" {
    evil whiteout-empty "entry '.wh.': whiteout '.wh.' names no file"
    evil whiteout-empty-deep "entry 'a/b/.wh.': whiteout '.wh.' names no file"
}

@test "the whiteout '.wh..' (of its own directory) is refused at the top and deeper" {
    evil whiteout-dot "entry '.wh..': whiteout '.wh..' would delete its own directory ('.')"
    evil whiteout-dot-deep "entry 'a/.wh..': whiteout '.wh..' would delete its own directory ('.')"
}

@test "the whiteout '.wh...' (of the parent) is refused at the top and deeper" {
    evil whiteout-dotdot "entry '.wh...': whiteout '.wh...' leaves its directory ('..')"
    evil whiteout-dotdot-deep "entry 'a/b/.wh...': whiteout '.wh...' leaves its directory ('..')"
}

@test "a reserved '.wh..wh.' name other than the opaque marker is refused" {
    evil whiteout-reserved "entry '.wh..wh.plnk': reserved whiteout name (only '.wh..wh..opq' is defined)"
}

@test "whiteouts whose directory part leaves the layer are refused" {
    evil whiteout-dotdot-dir "entry '../.wh.keep': path leaves the layer ('..')"
    evil whiteout-dotdot-dir-deep "entry 'a/../../.wh.keep': path leaves the layer ('..')"
    evil opaque-dotdot-dir "entry '../.wh..wh..opq': path leaves the layer ('..')"
}

@test "whiteouts with an absolute directory are refused" {
    evil whiteout-absolute-dir "entry '$PROBE/.wh.keep': path is absolute (it would leave the layer)"
    evil opaque-absolute-dir "entry '$PROBE/.wh..wh..opq': path is absolute (it would leave the layer)"
    [ -f "$PROBE/keep" ]
}

# --- the root entry and type flips ---------------------------------------------------------

@test "a root entry that is a regular file is refused" {
    evil root-file "entry '.': the root entry ('.') is not a directory"
}

@test "a root entry that is a symlink is refused" {
    evil root-symlink "entry '.': the root entry ('.') is not a directory"
}

@test "a directory replaced by a symlink and then written through is refused" {
    evil type-flip-symlink "entry 'a/y': parent 'a' is a symlink"
    [ ! -e "$PROBE/y" ]
}

# valid_flip CASE ARGS...: the CASE (type-flip) layer is applied; the later entry of each path wins.
valid_flip() {
    local probe hex diff c=$1
    shift
    probe=$(store_snapshot "$PROBE") || return 1
    run lb_capped "$@"
    assert_equal "$status" 0 "status of '$*' ($output)" || return 1
    hex=$(sha256sum <"$(fixture "evil/$c.tar")" | cut -d' ' -f1)
    diff=$LB_ROOT/layers/$hex/diff # one layer: its ChainID is its DiffID
    [ -d "$diff/a" ] && [ ! -L "$diff/a" ] || { echo "a is not a directory" >&2; return 1; }
    assert_equal "$(cat "$diff/a/x")" x "a/x" || return 1
    [ -f "$diff/b" ] || { echo "b is not a file" >&2; return 1; }
    assert_equal "$(cat "$diff/b")" "file later" "b" || return 1
    [ -d "$diff/s" ] && [ ! -L "$diff/s" ] || { echo "s is not a directory" >&2; return 1; }
    assert_equal "$(cat "$diff/s/keep")" "inside the layer" "s/keep" || return 1
    assert_equal "$(store_snapshot "$PROBE")" "$probe" "probe after '$*'"
}

@test "the same paths twice with type flips: the later entry wins, inside the layer" {
    valid_flip type-flip import "$(fixture evil/type-flip.tar)"
}

@test "the type-flip image loads and its later entries win" {
    valid_flip type-flip load -i "$(fixture evil/type-flip.docker.tar)"
}

# --- sizes ---------------------------------------------------------------------------------

@test "a header claiming a 1 TB file is refused before anything is written" {
    evil claim-1tb "entry 'huge': claims 1099511627776 bytes, more than the limit of"
}

@test "a gzip bomb (10 GiB of zeros in one entry) fails cleanly at a small limit" {
    export LB_MAX_LAYER_BYTES=67108864
    evil gzip-bomb "entry 'zeros': claims 10737418240 bytes, more than the limit of 67108864 bytes"
}

@test "a gzip bomb of entries each under the limit stops at the layer limit" {
    export LB_MAX_LAYER_BYTES=67108864
    evil gzip-bomb-entries "expands beyond the 67108864-byte limit (a decompression bomb?)"
}

@test "the bomb's load error names the layer once, in one sentence" {
    export LB_MAX_LAYER_BYTES=67108864
    refused "expands beyond" load -i "$(fixture evil/gzip-bomb-entries.docker.tar)"
    # "layer 1 of 1 ('<v1id>/layer.tar') expands beyond …": the path appears exactly once
    [[ $stderr =~ ^layerbox:\ layer\ 1\ of\ 1\ \(\'([0-9a-f]{64}/layer\.tar)\'\)\ expands\ beyond ]]
    local path=${BASH_REMATCH[1]}
    assert_equal "$(grep -o "$path" <<<"$stderr" | wc -l)" 1
}

# --- truncated and junk input --------------------------------------------------------------

@test "a plain layer cut inside a file's data is refused" {
    evil truncated "entry 'data/big': cannot read the tar: Truncated tar archive"
}

@test "a gzip layer cut in half is refused" {
    evil truncated-gzip "gzip data is truncated"
}

@test "a zstd layer cut in half is refused" {
    evil truncated-zstd "zstd data is truncated"
}

@test "junk that is not a tar is refused" {
    evil junk "cannot read the tar: Unrecognized archive format"
}

@test "a gzip header followed by junk is refused" {
    evil junk-gzip "corrupt gzip data"
}

@test "the zstd magic followed by junk is refused" {
    evil junk-zstd "zstd"
}

# --- a symlink planted by layer 1, used by layer 2 -----------------------------------------

# evil_image CASE TEXT: loading CASE.docker.tar (two layers) is refused with TEXT.
evil_image() {
    refused "$2" load -i "$(fixture "evil/$1.docker.tar")"
}

@test "layer 2 writing through layer 1's symlink is refused" {
    evil_image two-layer-write "escape"
    [ ! -e "$PROBE/written" ]
}

@test "layer 2 whiting out through layer 1's symlink is refused" {
    evil_image two-layer-whiteout "escape"
    [ -f "$PROBE/keep" ]
}

@test "layer 2 marking opaque through layer 1's symlink is refused" {
    evil_image two-layer-opaque "escape"
    assert_probe_not_opaque
}

@test "layer 2 hard-linking through layer 1's symlink is refused" {
    evil_image two-layer-hardlink "entry 'stolen': hardlink target 'escape/keep': parent 'escape' does not exist"
    assert_equal "$(stat -c %h "$PROBE/keep")" 1 "links to the probe file"
}
