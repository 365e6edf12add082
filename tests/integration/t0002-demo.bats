#!/usr/bin/env bats
# tutorials/demo.sh, what `make demo` (the README's first command) runs: it must finish, every
# one of its own checks must say ok, and it must leave nothing behind (no temp store, no mount).

load helpers

setup() {
    lb_setup
}

@test "the demo runs to its end, all its checks ok, and cleans up after itself" {
    fixture three-layer.ids >/dev/null
    local before_tmp
    before_tmp=$(ls -d "${TMPDIR:-/tmp}"/layerbox-demo.* 2>/dev/null | sort)
    run sh "$LB_REPO/tutorials/demo.sh" "$LAYERBOX" "$FIXTURES"
    assert_equal "$status" 0
    assert_output_contains "That was layerbox."
    # every check printed "ok:"; a failing one stops the demo with "FAILED" instead
    [[ $output != *FAILED* ]]
    local oks
    oks=$(grep -c '^ *ok: ' <<<"$output")
    if [ "$(id -u)" = 0 ]; then
        [ "$oks" -ge 14 ] || { echo "only $oks checks ran" >&2; return 1; }
        assert_output_contains "ok: busybox's layer plus one: two layers"
        assert_output_contains "ok: one layer"
    else
        [ "$oks" -ge 9 ] || { echo "only $oks checks ran" >&2; return 1; }
    fi
    assert_equal "$(ls -d "${TMPDIR:-/tmp}"/layerbox-demo.* 2>/dev/null | sort)" "$before_tmp"
    ! grep -q layerbox-demo /proc/self/mountinfo
}
