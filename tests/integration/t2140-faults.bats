#!/usr/bin/env bats
# Truth under faults (issue 4, item 7): many containers at once, commands racing on one
# container, and a store whose pids are stale as after a reboot. Each ends with the same
# question, asked of the kernel and the file system rather than of layerbox: is anything left —
# a record, a mount (/proc/self/mountinfo), a cgroup directory (/sys/fs/cgroup), a monitor or a
# container process (ps)? The container killed behind layerbox's back and the monitor killed are
# in t2100-detached.bats.

load helpers

BUSYBOX=layerbox-fixtures/busybox

setup() {
    busybox_setup
    # A number no other test uses: container processes of this test run "lb-init sleep 30.$MARK"
    # (or 300.$MARK), so ps can find them without asking layerbox.
    MARK=$$$RANDOM
    OTHER_PID=
}

teardown() {
    remove_all_containers
    # whatever a failed test left running: our own processes, by pid
    local pid
    for pid in $(stray_pids) $OTHER_PID; do
        kill -9 "$pid" 2>/dev/null
    done
    lb_teardown
}

# --- what is left, asked of the system ---------------------------------------------------------

# pids of container processes of this test (their args carry $MARK) and of layerbox processes of
# this store (their args carry $LB_ROOT: the monitors, a foreground run)
stray_pids() {
    ps -eo pid=,args= | awk -v mark=".$MARK" -v root="${LB_ROOT:-/nonexistent}" -v me=$$ '
        $1 != me && (index($0, "lb-init ") && index($0, mark) || index($0, root)) &&
        !index($0, "awk ") { print $1 }'
}

# Print one line per thing left behind: records, mounts under the store, cgroup directories of
# the containers whose IDs (or 12-hex prefixes) are given, processes. Nothing printed = clean.
leaks() { # [ID...]
    local e line id
    for e in "$LB_ROOT"/containers/* "$LB_ROOT"/containers/.[!.]*; do
        [ -e "$e" ] && echo "record: ${e##*/}"
    done
    while IFS= read -r line; do
        [[ $line == *"$LB_ROOT/"* ]] && echo "mount: $line"
    done </proc/self/mountinfo
    for id in "$@"; do
        find /sys/fs/cgroup -maxdepth 5 -type d -name "layerbox-$id*" -printf 'cgroup: %p\n' 2>/dev/null
    done
    local pid
    for pid in $(stray_pids); do
        # a zombie is being reaped by init: not ours to count
        grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && continue
        [ -d "/proc/$pid" ] && echo "process: $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
    done
    return 0
}

# Poll leaks until nothing is left (monitors need a moment to finish after rm -f), up to 5 s;
# then fail with the list.
assert_no_leaks() { # [ID...]
    local out i
    for i in $(seq 50); do
        out=$(leaks "$@")
        [ -z "$out" ] && return 0
        sleep 0.1
    done
    echo "left behind:" >&2
    printf '%s\n' "$out" >&2
    return 1
}

state_of() { # ID FIELD
    jq -r ".$2" "$LB_ROOT/containers/$1/state.json"
}

alive() { # PID
    [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

wait_dead() { # PID
    local i
    for i in $(seq 100); do
        alive "$1" || return 0
        sleep 0.05
    done
    echo "pid $1 still alive" >&2
    return 1
}

start_time_of() { # PID: /proc/PID/stat field 22, counted after the last ')'
    local stat
    stat=$(<"/proc/$1/stat") || return 1
    stat=${stat##*) }
    # the text after ") " starts with field 3
    awk '{ print $20 }' <<<"$stat"
}

# `ps -a` must still parse: a header and one line per container, nothing on stderr.
assert_ps_parses() { # EXPECTED_COUNT
    run --separate-stderr lb ps -a
    assert_equal "$status" 0 "ps -a exit status"
    assert_equal "$stderr" "" "ps -a stderr"
    [[ ${lines[0]} == "CONTAINER ID"* ]] || { echo "ps -a header: ${lines[0]}" >&2; return 1; }
    assert_equal "$((${#lines[@]} - 1))" "$1" "containers listed by ps -a"
}

# --- the detectors see what they must see ------------------------------------------------------

@test "the leak detectors of this file see a running container's record, mount, cgroups and processes" {
    local id
    id=$(lb run -d --memory 64m --pids-limit 50 "$BUSYBOX" lb-init sleep "30.$MARK")
    run leaks "$id"
    [[ $output == *"record: $id"* ]] || { echo "no record seen: $output" >&2; return 1; }
    [[ $output == *"mount: "*" $LB_ROOT/containers/$id/rootfs "* ]] ||
        { echo "no mount seen: $output" >&2; return 1; }
    # one directory per limited controller: memory and pids (v1) or one group (v2)
    local ncg
    ncg=$(grep -c "^cgroup: .*/layerbox-$id\$" <<<"$output")
    [ "$ncg" -ge 1 ] || { echo "no cgroup seen: $output" >&2; return 1; }
    [[ $output == *"process: $(state_of "$id" Pid) lb-init sleep 30.$MARK"* ]] ||
        { echo "container process not seen: $output" >&2; return 1; }
    [[ $output == *"process: $(state_of "$id" MonitorPid) "*"$LB_ROOT"* ]] ||
        { echo "monitor not seen: $output" >&2; return 1; }
    # the 12-hex prefix finds the same cgroups (the parallel test only knows the short ID)
    run leaks "${id:0:12}"
    assert_equal "$(grep -c "^cgroup: .*/layerbox-$id\$" <<<"$output")" "$ncg" "cgroups by short ID"
    run lb rm -f "$id"
    assert_equal "$status" 0
    assert_no_leaks "$id"
}

# --- 20 parallel run --rm ----------------------------------------------------------------------

@test "20 parallel run --rm: each exits with its own code and nothing is left" {
    local i
    local -a pids=()
    for i in $(seq 1 20); do
        local limits=()
        # every other one with limits, so that cgroups exist and must be removed
        [ $((i % 2)) -eq 0 ] && limits=(--memory 64m --pids-limit 50)
        lb run --rm "${limits[@]}" "$BUSYBOX" sh -c "hostname; exit $i" \
            >"$LB_TMP/out.$i" 2>"$LB_TMP/err.$i" 3>&- &
        pids[i]=$!
    done
    local rc
    for i in $(seq 1 20); do
        rc=0
        wait "${pids[i]}" || rc=$?
        assert_equal "$rc" "$i" "exit code of run $i (stderr: $(cat "$LB_TMP/err.$i"))"
        assert_equal "$(cat "$LB_TMP/err.$i")" "" "stderr of run $i"
    done
    # each printed its host name, the container's 12-hex short ID, and all 20 differ
    local -a short=()
    for i in $(seq 1 20); do
        short[i]=$(cat "$LB_TMP/out.$i")
        [[ ${short[i]} =~ ^[0-9a-f]{12}$ ]] || { echo "run $i printed '${short[i]}'" >&2; return 1; }
    done
    assert_equal "$(printf '%s\n' "${short[@]}" | sort -u | wc -l)" 20 "distinct containers"
    run --separate-stderr lb ps -a -q
    assert_equal "$status" 0
    assert_equal "$output" "" "ps -a -q"
    assert_no_leaks "${short[@]}"
    # the store still works
    run lb run --rm "$BUSYBOX" lb-init echo still works
    assert_equal "$status" 0
    assert_equal "$output" "still works"
}

# --- commands racing on one container ---------------------------------------------------------

@test "parallel start and rm -f of one container, 20 rounds: rm -f always wins and nothing is left" {
    local round id sp rp src rrc
    for round in $(seq 20); do
        id=$(lb create --memory 64m --pids-limit 50 "$BUSYBOX" lb-init sleep "30.$MARK")
        lb start "$id" >"$LB_TMP/start.out" 2>"$LB_TMP/start.err" 3>&- &
        sp=$!
        lb rm -f "$id" >"$LB_TMP/rm.out" 2>"$LB_TMP/rm.err" 3>&- &
        rp=$!
        src=0 rrc=0
        wait "$sp" || src=$?
        wait "$rp" || rrc=$?
        # start may win or lose the race; rm -f must succeed either way (it kills a winner)
        assert_equal "$rrc" 0 "round $round: rm -f exit code (start: $src $(cat "$LB_TMP/start.err"); rm: $(cat "$LB_TMP/rm.err"))"
        assert_equal "$(cat "$LB_TMP/rm.out")" "$id" "round $round: rm -f prints the container"
        if [ "$src" -eq 0 ]; then
            assert_equal "$(cat "$LB_TMP/start.out")" "$id" "round $round: start prints the container"
        fi
        [ "$src" -lt 128 ] || { echo "round $round: start crashed ($src)" >&2; return 1; }
        assert_no_leaks "$id" || { echo "round $round (start exit $src: $(cat "$LB_TMP/start.err"))" >&2; return 1; }
    done
    assert_ps_parses 0
    run lb run --rm "$BUSYBOX" lb-init exit 3
    assert_equal "$status" 3 "a run after the races"
}

@test "parallel start and rm -f of one container: a start that loses says 'no such container'" {
    local round id sp rp src losses=0
    for round in $(seq 20); do
        id=$(lb create "$BUSYBOX" lb-init sleep "30.$MARK")
        lb start "$id" >"$LB_TMP/start.out" 2>"$LB_TMP/start.err" 3>&- &
        sp=$!
        lb rm -f "$id" >/dev/null 2>&1 3>&- &
        rp=$!
        src=0
        wait "$sp" || src=$?
        wait "$rp" || true # its result and the leaks are the previous test's business
        if [ "$src" -ne 0 ]; then
            losses=$((losses + 1))
            assert_equal "$src" 1 "round $round: start's exit code when it loses"
            assert_equal "$(cat "$LB_TMP/start.err")" "layerbox: no such container: '$id'" \
                "round $round: the message of a start that lost"
        fi
    done
    # not an assertion on the race itself (either order is legal), but report how it went
    echo "# start lost $losses of 20 rounds" >&3
}

@test "two parallel start of one created container run one process, and rm -f leaves nothing" {
    local round id a b arc brc n
    for round in $(seq 10); do
        id=$(lb create --pids-limit 50 "$BUSYBOX" lb-init sleep "30.$MARK")
        lb start "$id" >/dev/null 2>"$LB_TMP/a.err" 3>&- &
        a=$!
        lb start "$id" >/dev/null 2>"$LB_TMP/b.err" 3>&- &
        b=$!
        arc=0 brc=0
        wait "$a" || arc=$?
        wait "$b" || brc=$?
        # docker: the second start of a running container is "not modified" (exit 0)
        assert_equal "$arc $brc" "0 0" "round $round: start exit codes ($(cat "$LB_TMP/a.err" "$LB_TMP/b.err"))"
        n=$(ps -eo args= | grep -c "^lb-init sleep 30\.$MARK\$")
        assert_equal "$n" 1 "round $round: container processes after two starts"
        assert_equal "$(lb inspect -f '{{.State.Running}}' "$id")" true
        run lb rm -f "$id"
        assert_equal "$status" 0
        assert_no_leaks "$id" || return 1
    done
}

@test "parallel stop and rm -f of a running detached container, 10 rounds: consistent and clean" {
    local round id sp rp src rrc
    for round in $(seq 10); do
        # lb-init trap ends on SIGTERM, so stop is quick and the two really overlap
        id=$(lb run -d --memory 64m --pids-limit 50 "$BUSYBOX" lb-init trap "30.$MARK")
        lb stop -t 5 "$id" >"$LB_TMP/stop.out" 2>"$LB_TMP/stop.err" 3>&- &
        sp=$!
        lb rm -f "$id" >"$LB_TMP/rm.out" 2>"$LB_TMP/rm.err" 3>&- &
        rp=$!
        src=0 rrc=0
        wait "$sp" || src=$?
        wait "$rp" || rrc=$?
        assert_equal "$rrc" 0 "round $round: rm -f (rm: $(cat "$LB_TMP/rm.err"))"
        if [ "$src" -eq 0 ]; then
            assert_equal "$(cat "$LB_TMP/stop.out")" "$id" "round $round: stop prints the container"
        else
            # stop lost: the container was removed under it
            assert_equal "$src" 1 "round $round: stop's exit code"
            assert_equal "$(cat "$LB_TMP/stop.err")" "layerbox: no such container: '$id'" \
                "round $round: stop's message"
        fi
        assert_no_leaks "$id" || return 1
    done
    assert_ps_parses 0
}

@test "two parallel rm -f of one running container, 10 rounds: one removes it, the other finds none" {
    local round id p1 p2 r1 r2 e
    for round in $(seq 10); do
        id=$(lb run -d --name "twice$round" --memory 64m --pids-limit 50 "$BUSYBOX" lb-init sleep "30.$MARK")
        lb rm -f "twice$round" >"$LB_TMP/1.out" 2>"$LB_TMP/1.err" 3>&- &
        p1=$!
        lb rm -f "$id" >"$LB_TMP/2.out" 2>"$LB_TMP/2.err" 3>&- &
        p2=$!
        r1=0 r2=0
        wait "$p1" || r1=$?
        wait "$p2" || r2=$?
        case "$r1 $r2" in
        "0 0") ;; # both removed it? then both must have printed it
        "0 1") e=$(cat "$LB_TMP/2.err")
            assert_equal "$e" "layerbox: no such container: '$id'" "round $round: loser's message" ;;
        "1 0") e=$(cat "$LB_TMP/1.err")
            assert_equal "$e" "layerbox: no such container: 'twice$round'" "round $round: loser's message" ;;
        *)
            echo "round $round: exit codes $r1 $r2: $(cat "$LB_TMP/1.err" "$LB_TMP/2.err")" >&2
            return 1 ;;
        esac
        [ "$r1" -ne 0 ] || assert_equal "$(cat "$LB_TMP/1.out")" "twice$round"
        [ "$r2" -ne 0 ] || assert_equal "$(cat "$LB_TMP/2.out")" "$id"
        assert_no_leaks "$id" || return 1
    done
    assert_ps_parses 0
}

# --- a store whose pids are stale, as after a reboot ------------------------------------------

@test "after a simulated reboot (monitors and processes gone, pids stale or reused) every container is exited and usable" {
    local -a ids=()
    local n
    for n in reused dead1 dead2; do
        ids+=("$(lb run -d --name "$n" --pids-limit 50 "$BUSYBOX" \
            sh -c "echo boot $n; exec lb-init sleep 300.$MARK")")
    done
    # the "reboot": monitors first (so none records an exit), then the containers, then their
    # root mounts and (for two of them) their cgroups vanish, all behind layerbox's back
    local id pid mon
    for id in "${ids[@]}"; do
        assert_equal "$(state_of "$id" Status)" running
        pid=$(lb inspect -f '{{.State.Pid}}' "$id")
        assert_equal "$pid" "$(state_of "$id" Pid)" "inspect's pid"
        mon=$(state_of "$id" MonitorPid)
        alive "$pid" && alive "$mon" || { echo "$id: pid $pid / monitor $mon not alive" >&2; return 1; }
        kill -9 "$mon"
        wait_dead "$mon"
        kill -9 "$pid"
        wait_dead "$pid"
    done
    for id in "${ids[@]}"; do
        grep -qF " $LB_ROOT/containers/$id/rootfs " /proc/self/mountinfo ||
            { echo "$id: no root mount to lose" >&2; return 1; }
        umount -l "$LB_ROOT/containers/$id/rootfs"
    done
    local cg
    for id in "${ids[0]}" "${ids[1]}"; do
        for cg in $(jq -r '.Dirs[]' "$LB_ROOT/containers/$id/cgroups.json"); do
            rmdir "$cg"
        done
    done
    # reused: its recorded pid and monitor pid now belong to an unrelated live process, whose
    # start time differs from the recorded one (a pid reused after the reboot)
    sleep 300 3>&- &
    OTHER_PID=$!
    local rec_start
    rec_start=$(state_of "${ids[0]}" PidStartTime)
    [ "$(start_time_of "$OTHER_PID")" != "$rec_start" ] ||
        { echo "the unrelated process has the recorded start time" >&2; return 1; }
    jq --argjson p "$OTHER_PID" '.Pid = $p | .MonitorPid = $p' \
        "$LB_ROOT/containers/${ids[0]}/state.json" >"$LB_TMP/state.json"
    mv "$LB_TMP/state.json" "$LB_ROOT/containers/${ids[0]}/state.json"
    assert_equal "$(state_of "${ids[0]}" PidStartTime)" "$rec_start"
    # the records still say running: only the liveness check can tell
    for id in "${ids[@]}"; do assert_equal "$(state_of "$id" Status)" running; done

    run --separate-stderr lb ps -a --format '{{.Names}}|{{.Status}}'
    assert_equal "$status" 0
    assert_equal "$stderr" ""
    assert_line_count 3
    local line
    for line in "${lines[@]}"; do
        # exit code unknown: nobody saw how they ended (container.h: -1)
        [[ $line =~ ^(reused|dead1|dead2)\|Exited\ \(-1\)\  ]] || { echo "ps -a: $line" >&2; return 1; }
    done
    run lb ps -q
    assert_equal "$output" "" "ps (running only)"
    for n in reused dead1 dead2; do
        assert_equal "$(lb inspect -f '{{.State.Running}} {{.State.Status}} {{.State.Pid}} {{.State.ExitCode}}' "$n")" \
            "false exited 0 -1" "inspect $n"
    done
    # the records were corrected on disk
    for id in "${ids[@]}"; do
        assert_equal "$(state_of "$id" Status) $(state_of "$id" ExitCode) $(state_of "$id" MonitorPid)" \
            "exited -1 0" "state.json of $id"
    done
    # nothing signals the process that merely holds the old pid
    must_fail lb kill reused
    assert_one_line_error "container 'reused' is not running"
    alive "$OTHER_PID" || { echo "kill signalled the unrelated process" >&2; return 1; }

    # start works again: dead1 runs, ps shows it Up, its log has both boots
    run --separate-stderr lb start dead1
    assert_equal "$status" 0 "start dead1 ($stderr)"
    assert_equal "$output" dead1
    run lb ps --format '{{.Names}}|{{.Status}}'
    [[ $output == "dead1|Up "* ]] || { echo "ps: $output" >&2; return 1; }
    assert_line_count 1
    pid=$(state_of "${ids[1]}" Pid)
    alive "$pid" || { echo "dead1's new process $pid not alive" >&2; return 1; }
    assert_equal "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "lb-init sleep 300.$MARK "
    local i
    for i in $(seq 50); do
        [ "$(lb logs dead1 | grep -c "^boot dead1\$")" -ge 2 ] && break
        sleep 0.1
    done
    assert_equal "$(lb logs dead1)" "boot dead1"$'\n'"boot dead1" "logs of dead1"

    # rm without -f removes the exited ones, the stale cgroups of dead2 with it
    run --separate-stderr lb rm reused dead2
    assert_equal "$status" 0 "rm ($stderr)"
    assert_equal "$output" "reused"$'\n'"dead2"
    alive "$OTHER_PID" || { echo "rm signalled the unrelated process" >&2; return 1; }
    [ ! -e "$LB_ROOT/containers/${ids[0]}" ] && [ ! -e "$LB_ROOT/containers/${ids[2]}" ] ||
        { echo "records still there" >&2; return 1; }
    run leaks "${ids[2]}" "${ids[0]}"
    [[ $output != *cgroup:* ]] || { echo "cgroups left: $output" >&2; return 1; }

    run lb rm -f dead1
    assert_equal "$status" 0
    assert_no_leaks "${ids[@]}"
    assert_ps_parses 0
    alive "$OTHER_PID" || { echo "the unrelated process was killed" >&2; return 1; }
}
