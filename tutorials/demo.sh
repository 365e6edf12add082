#!/bin/sh
# tutorials/demo.sh BIN FIXTURES — the 30-second tour that `make demo` gives.
#
#   sh tutorials/demo.sh build/layerbox fixtures/out
#
# Loads the three-layer fixture image into a temp store, lists it, shows its history and its
# layers, checks its ID against sha256sum, mounts the union of its layers (overlay as root,
# else a vfs copy) and looks inside, tags it, saves it, removes it, and loads the saved copy
# back under the same ID. The load is run with --explain, so the engine narrates it. As root it
# goes on with containers: an isolated process, a detached one (ps, logs, stop), and one whose
# changes become an image twice: commit (one more layer) and export + import (one flat layer).
# Exits non-zero as soon as a step fails or a check disagrees; the temp store is always removed.
# LB_DEMO_PAUSE=SECONDS waits between steps (for a live audience); default 0.
# POSIX sh on purpose: the Makefile runs it with `sh`.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: demo.sh LAYERBOX-BINARY FIXTURES-DIR" >&2
    exit 2
fi
LB=$1
FIXTURES=$2
[ -x "$LB" ] || { echo "demo: '$LB' is not executable (run 'make')" >&2; exit 2; }
[ -r "$FIXTURES/three-layer.ids" ] ||
    { echo "demo: no '$FIXTURES/three-layer.ids' (run 'make fixtures')" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/layerbox-demo.XXXXXX")
# An image left mounted (a failed check below) is unmounted before the store is removed.
trap '"$LB" --root "$STORE" image umount -f layerbox-fixtures/three-layer >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
STORE=$work/store
pause=${LB_DEMO_PAUSE:-0}

if [ -t 1 ]; then
    bold=$(printf '\033[1m') dim=$(printf '\033[2m') off=$(printf '\033[0m')
else
    bold='' dim='' off=''
fi

# say TEXT: the narrator's line.
say() {
    printf '\n%s== %s%s\n' "$bold" "$*" "$off"
}

# show ARGS...: print a command line, quoting the words that need it.
show() {
    line='$'
    for w in "$@"; do
        case "$w" in
        *[!A-Za-z0-9_./:=@%+-]* | '') w="'$w'" ;;
        esac
        line="$line $w"
    done
    printf '%s%s%s\n' "$dim" "$line" "$off"
}

# run ARGS...: show the layerbox command, then run it against the temp store.
run() {
    show layerbox "$@"
    "$LB" --root "$STORE" "$@"
    [ "$pause" = 0 ] || sleep "$pause"
}

# check TEXT CONDITION...: a fact the demo proves; failing it fails the demo.
check() {
    text=$1
    shift
    if "$@"; then
        printf '   ok: %s\n' "$text"
    else
        printf '   FAILED: %s\n' "$text" >&2
        exit 1
    fi
}

# shellcheck disable=SC1091 # written by make fixtures
. "$FIXTURES/three-layer.ids"

say "An image is a file you can load. --explain narrates what the store does."
run --explain load -i "$FIXTURES/three-layer.docker.tar" 2>&1

say "The store lists it: one image, one name."
run images

say "Its ID is the sha256 of its config blob. Check it without layerbox:"
id=$("$LB" --root "$STORE" images -q --no-trunc)
hex=${id#sha256:}
show sha256sum "images/blobs/sha256/$hex"
sum=$(sha256sum <"$STORE/images/blobs/sha256/$hex")
sum=${sum%% *}
echo "$sum"
check "sha256 of the config = image ID" [ "sha256:$sum" = "$id" ]
check "= the ID the fixture scripts computed" [ "$id" = "$IMAGE_ID" ]

say "The config remembers how each layer was made (newest first):"
run history layerbox-fixtures/three-layer

say "And lists the layers by DiffID, the sha256 of each uncompressed tar, lowest first:"
run inspect --format '{{.RootFS.Layers}}' layerbox-fixtures/three-layer
layers=$("$LB" --root "$STORE" inspect --format '{{.RootFS.Layers}}' layerbox-fixtures/three-layer)
check "the fixture's three DiffIDs" [ "$layers" = "[$DIFF_IDS]" ]

say "The layers stack into one file system. Each changes the ones below it:"
run layers layerbox-fixtures/three-layer

say "image mount shows the union: the top copy of each file wins, a whiteout hides one."
show layerbox image mount layerbox-fixtures/three-layer
merged=$("$LB" --root "$STORE" image mount layerbox-fixtures/three-layer)
echo "$merged"
show cat "$merged/data/change.txt"
cat "$merged/data/change.txt"
check "data/change.txt is layer 2's version" \
    [ "$(cat "$merged/data/change.txt")" = "change: version 2, from layer 2" ]
check "data/remove.txt, whited out by layer 2, is not there" [ ! -e "$merged/data/remove.txt" ]
run image umount layerbox-fixtures/three-layer
check "and unmounted" [ ! -e "$merged" ]

say "A tag is a second pointer to the same image; nothing is copied."
run tag layerbox-fixtures/three-layer demo/tour:v1
run images
n=$("$LB" --root "$STORE" images -q --no-trunc | sort -u | wc -l)
check "two names, one image ID" [ "$n" -eq 1 ]

say "save writes the image back out as a docker-archive."
run save -o "$work/tour.tar" demo/tour:v1
# manifest.json (docker's index of the archive) says which member is the config.
cfg=$(tar -xOf "$work/tour.tar" manifest.json | jq -r '.[0].Config')
# shellcheck disable=SC2016 # the inner sh expands them
check "the archive's config ($cfg) is the stored config, byte for byte" \
    sh -c 'tar -xOf "$1" "$2" | cmp -s - "$3"' sh "$work/tour.tar" "$cfg" \
    "$STORE/images/blobs/sha256/$hex"

say "rmi removes names; the image goes with its last name."
run rmi demo/tour:v1 layerbox-fixtures/three-layer
left=$(find "$STORE/images/blobs/sha256" -type f | wc -l)
check "no blob left in the store" [ "$left" -eq 0 ]

say "Load the saved copy: same config, so the same ID."
run load -i "$work/tour.tar"
id2=$("$LB" --root "$STORE" images -q --no-trunc)
check "the round trip kept the image ID" [ "$id2" = "$IMAGE_ID" ]

if [ "$(id -u)" = 0 ] && [ -r "$FIXTURES/busybox.docker.tar" ]; then
    BB=layerbox-fixtures/busybox
    "$LB" --root "$STORE" load -q -i "$FIXTURES/busybox.docker.tar" >/dev/null

    say "A container is the image plus a writable layer plus an isolated process."
    run run --rm $BB sh -c 'echo "hostname $(hostname), pid $$, $(ls /proc | grep -c "^[0-9]") processes"'
    inside=$("$LB" --root "$STORE" run --rm $BB lb-init pid)
    check "inside its own PID namespace it is pid 1" [ "$inside" = 1 ]

    say "run -d leaves it running under a monitor; ps, logs and stop work on it."
    run run -d --name web $BB sh -c 'echo serving; trap "exit 0" TERM; while :; do sleep 1; done'
    run ps
    sleep 1
    run logs web
    run stop web
    check "it stopped on SIGTERM with code 0" \
        [ "$("$LB" --root "$STORE" inspect -f '{{.State.ExitCode}}' web)" = 0 ]

    say "What a container changes stays in its writable layer; commit makes it a new layer."
    run run --name work $BB sh -c 'echo hello > /greeting; rm /bin/vi'
    run diff work
    run commit -m "add a greeting" work demo/committed:1
    run history demo/committed:1
    n=$("$LB" --root "$STORE" inspect -f '{{len .RootFS.Layers}}' demo/committed:1)
    check "busybox's layer plus one: two layers" [ "$n" = 2 ]

    say "export flattens the same container into one tar: import it, and the history is gone."
    run export -o "$work/work.tar" work
    run import "$work/work.tar" demo/flat:1
    run history demo/flat:1
    n=$("$LB" --root "$STORE" inspect -f '{{len .RootFS.Layers}}' demo/flat:1)
    check "one layer" [ "$n" = 1 ]
    "$LB" --root "$STORE" rm -f web work >/dev/null
fi

say "That was layerbox. The tutorials go slower: tutorials/01-images-are-layers.md, then 02, 03 (containers) and 04 (commit, export, save)"
