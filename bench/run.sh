#!/bin/sh
# bench/run.sh — every benchmark, one after the other (`make bench`). Each prints its own ratios.
set -eu
here=$(dirname "$0")
for b in "$here"/load.sh "$here"/unpack.sh "$here"/run-container.sh; do
    echo "== $b"
    sh "$b"
    echo
done
