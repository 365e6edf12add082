#!/bin/bash
# tests/run-integration.sh [BATS_ARGS…] — run the bats suites and end with one summary line,
# "N passed, N failed, N skipped", like the unit and tutorial runners (bats' TAP output has none).
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bats --tap "$@" | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -cE '^ok [0-9]+' "$log" | head -n 1)
skipped=$(grep -cE '^ok [0-9]+ .*# skip' "$log" | head -n 1)
failed=$(grep -cE '^not ok [0-9]+' "$log" | head -n 1)
echo "$((passed - skipped)) passed, $failed failed, $skipped skipped"
if [ "$rc" -eq 0 ] && [ "$failed" -ne 0 ]; then rc=1; fi
exit "$rc"
