#!/bin/sh
# tests/deps.sh — install (as root) or list (otherwise) the Debian packages layerbox needs to
# build and test, then configure podman the way /work/shared/peers.md explains.
#
#   sh tests/deps.sh                 what `make deps` runs
#   sh tests/deps.sh --quiet-if-ok   print nothing when nothing was needed (`make demo`)
#
# Fast and idempotent: one dpkg-query call decides; apt-get runs only when something is missing.
# Not root and something missing: prints the exact apt-get line and exits 1.
# POSIX sh on purpose: the Makefile runs it with `sh`, on a machine that may lack everything.
set -eu

quiet_if_ok=0
for arg in "$@"; do
    case "$arg" in
    --quiet-if-ok) quiet_if_ok=1 ;;
    -h | --help)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "deps.sh: unknown option '$arg'" >&2
        exit 2
        ;;
    esac
done

# Build: compiler, pkg-config and the -dev packages of every library in the Makefile's PKGS.
BUILD_PKGS="build-essential clang pkg-config libarchive-dev zlib1g-dev libzstd-dev libcap-dev libjansson-dev libssl-dev
    libcurl4-openssl-dev"
# The static archives libarchive's own objects need (the Makefile links LINK=static by default);
# Debian's libarchive-dev does not depend on them.
BUILD_PKGS="$BUILD_PKGS libacl1-dev nettle-dev liblzma-dev liblz4-dev libbz2-dev"
# Test: unit (cmocka), CLI (bats), coverage, memcheck, format, archives, the static busybox the
# fixtures are made of, curl and jq for the registry tests.
TEST_PKGS="libcmocka-dev bats lcov valgrind clang-format zstd gzip tar libarchive-tools
    busybox-static curl jq time"
# Peers the interop tests and benchmarks compare against.
PEER_PKGS="runc skopeo umoci docker-registry hyperfine uidmap"
# podman is installed WITH its recommends: without them apt picks crun and the CNI plugins
# instead of netavark, and leaves out catatonit (--init), slirp4netns and fuse-overlayfs
# (rootless) — not the configuration the peer tests were checked with.
PODMAN_PKGS="podman"
# LB_DEPS_EXTRA: more packages to require (used to test this script's "missing" path).
TEST_PKGS="$TEST_PKGS ${LB_DEPS_EXTRA:-}"

CONTAINERS_CONF=/etc/containers/containers.conf

say() {
    printf '%s\n' "$*"
}

# Print the packages of "$@" that are not installed ("ii"), on one line.
missing_of() {
    # dpkg-query exits 1 when a name is unknown to dpkg; that name is then simply missing.
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null || true)
    out=""
    for p in "$@"; do
        case "
$installed
" in
        *"
$p ii "*) ;;
        *) out="$out $p" ;;
        esac
    done
    printf '%s' "${out# }"
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: dpkg-query not found: this script knows Debian (and derivatives) only." >&2
    echo "deps.sh: install the equivalents of: $BUILD_PKGS $TEST_PKGS $PEER_PKGS $PODMAN_PKGS" >&2
    exit 1
fi

# shellcheck disable=SC2086 # word splitting of the lists is wanted
missing=$(missing_of $BUILD_PKGS $TEST_PKGS $PEER_PKGS)
# shellcheck disable=SC2086
missing_podman=$(missing_of $PODMAN_PKGS)

apt_line=""
if [ -n "$missing" ]; then
    apt_line="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing"
fi
apt_line_podman=""
if [ -n "$missing_podman" ]; then
    apt_line_podman="DEBIAN_FRONTEND=noninteractive apt-get install -y $missing_podman"
fi

podman_conf_ok() {
    [ -r "$CONTAINERS_CONF" ] &&
        grep -Eq '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$CONTAINERS_CONF" &&
        grep -Eq '^[[:space:]]*default_ulimits[[:space:]]*=.*nofile=' "$CONTAINERS_CONF"
}

is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1

if [ -n "$missing$missing_podman" ]; then
    if [ "$is_root" -ne 1 ]; then
        echo "deps.sh: missing packages: $missing${missing_podman:+ $missing_podman}" >&2
        echo "deps.sh: as root, run:" >&2
        [ -n "$apt_line" ] && echo "    $apt_line" >&2
        [ -n "$apt_line_podman" ] && echo "    $apt_line_podman" >&2
        exit 1
    fi
    # Update the package lists only when they cannot serve the install: no lists at all, older
    # than a day, or a missing package without an install candidate.
    need_update=0
    lists=/var/lib/apt/lists
    if [ -z "$(find "$lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
        need_update=1
    else
        for p in $missing $missing_podman; do
            cand=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
            if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
                need_update=1
                break
            fi
        done
    fi
    if [ "$need_update" -eq 1 ]; then
        say "deps.sh: apt-get update"
        apt-get update
    fi
    if [ -n "$missing" ]; then
        say "deps.sh: $apt_line"
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
    fi
    if [ -n "$missing_podman" ]; then
        say "deps.sh: $apt_line_podman"
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y $missing_podman
    fi
    # shellcheck disable=SC2086
    still=$(missing_of $BUILD_PKGS $TEST_PKGS $PEER_PKGS $PODMAN_PKGS)
    if [ -n "$still" ]; then
        echo "deps.sh: still missing after apt-get install: $still" >&2
        exit 1
    fi
fi

# podman: crun fails on this machine's hybrid cgroups and podman's default rlimits exceed what
# the machine allows (see peers.md). Write the config only if it does not already say so, and
# never overwrite a containers.conf someone else wrote.
conf_changed=0
if ! podman_conf_ok; then
    if [ "$is_root" -ne 1 ]; then
        echo "deps.sh: note: $CONTAINERS_CONF does not set runtime \"runc\" and default_ulimits;" \
            "podman tests need it (run 'make deps' as root)" >&2
    elif [ -e "$CONTAINERS_CONF" ]; then
        echo "deps.sh: $CONTAINERS_CONF exists but does not set runtime = \"runc\" and" \
            "default_ulimits; add by hand:" >&2
        echo '    [containers]  default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]' >&2
        echo '    [engine]      runtime = "runc"' >&2
        exit 1
    else
        mkdir -p "$(dirname "$CONTAINERS_CONF")"
        tmp="$CONTAINERS_CONF.tmp.$$"
        cat >"$tmp" <<'EOF'
# Written by layerbox's tests/deps.sh (see docs/testing.md): crun fails on hybrid cgroups and
# podman's default rlimits can exceed what the machine allows.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
EOF
        mv "$tmp" "$CONTAINERS_CONF"
        conf_changed=1
        say "deps.sh: wrote $CONTAINERS_CONF (podman: runtime runc, ulimits)"
    fi
fi

if [ -z "$missing$missing_podman" ] && [ "$conf_changed" -eq 0 ] && [ "$quiet_if_ok" -eq 0 ]; then
    # shellcheck disable=SC2086
    set -- $BUILD_PKGS $TEST_PKGS $PEER_PKGS $PODMAN_PKGS
    say "deps.sh: all $# packages installed$(podman_conf_ok && printf '; podman configured')"
fi
exit 0
