/* test_state.c — the container state machine: every (state, event) pair against a table written
 * here from docker's documented behaviour and its daemon source (moby daemon/start.go, stop.go,
 * kill.go, restart.go, pause.go, unpause.go, delete.go), the wording of each refusal, and the
 * string conversions. */
#include "unit.h"

#include "container/state.h"

enum { ACT = LB_STEP_ACT, NONE = LB_STEP_NONE, RM = LB_STEP_REMOVE, KILL_RM = LB_STEP_KILL_REMOVE };
#define C LB_STATE_CREATED
#define R LB_STATE_RUNNING
#define P LB_STATE_PAUSED
#define X LB_STATE_EXITED

struct row {
    enum lb_state from;
    enum lb_event ev;
    const char *error; /* substring of the refusal, or NULL when allowed */
    int step;
    enum lb_state next;
};

/* clang-format off */
/* One row per pair. "304" = docker answers "not modified" and the CLI exits 0. */
static const struct row table[] = {
    /* created: a record, no process */
    {C, LB_EVENT_START, NULL, ACT, R},   /* start.go: not paused, not running → containerStart */
    {C, LB_EVENT_STOP, NULL, NONE, C},   /* stop.go: !IsRunning() → containerNotModifiedError (304) */
    {C, LB_EVENT_KILL, "container 'web' is not running", 0, C}, /* kill.go: errNotRunning */
    {C, LB_EVENT_RESTART, NULL, ACT, R}, /* restart.go: stop only if IsRunning(), then start */
    {C, LB_EVENT_PAUSE, "container 'web' is not running", 0, C},   /* pause.go: !Running */
    {C, LB_EVENT_UNPAUSE, "container 'web' is not paused", 0, C},  /* unpause.go: !Paused */
    {C, LB_EVENT_EXIT, NULL, NONE, C},   /* no process to end; a failed start stays Created (docker
                                            ps shows such containers as "Created") */
    {C, LB_EVENT_REMOVE, NULL, RM, C},   /* delete.go: not running → remove */
    {C, LB_EVENT_REMOVE_FORCE, NULL, RM, C},
    /* running */
    {R, LB_EVENT_START, NULL, NONE, R},  /* start.go: Running → containerNotModifiedError (304) */
    {R, LB_EVENT_STOP, NULL, ACT, X},    /* stop.go: stop signal, wait, SIGKILL → exited */
    {R, LB_EVENT_KILL, NULL, ACT, R},    /* kill.go: the signal is sent; the end is an exit event */
    {R, LB_EVENT_RESTART, NULL, ACT, R}, /* restart.go: containerStop then containerStart */
    {R, LB_EVENT_PAUSE, NULL, ACT, P},   /* pause.go: freeze the cgroup */
    {R, LB_EVENT_UNPAUSE, "container 'web' is not paused", 0, C}, /* unpause.go: !Paused */
    {R, LB_EVENT_EXIT, NULL, ACT, X},    /* the process ended */
    {R, LB_EVENT_REMOVE, "cannot remove running container 'web': stop it first or use -f", 0, C},
    /* delete.go: "container is running: stop the container before removing or force remove" */
    {R, LB_EVENT_REMOVE_FORCE, NULL, KILL_RM, R}, /* delete.go: ForceRemove → SIGKILL first */
    /* paused: running but frozen (docker's State.Running stays true) */
    {P, LB_EVENT_START, "cannot start a paused container 'web', try unpause instead", 0, C},
    /* start.go: "cannot start a paused container, try unpause instead" */
    {P, LB_EVENT_STOP, NULL, ACT, X},    /* kill.go: unpause = container.Paused, resumed after the
                                            signal so it lands; stop then ends it */
    {P, LB_EVENT_KILL, NULL, ACT, P},    /* kill.go: same; the end arrives as an exit event */
    {P, LB_EVENT_RESTART, NULL, ACT, R}, /* restart.go: IsRunning() is true for paused → stop, start */
    {P, LB_EVENT_PAUSE, "container 'web' is already paused", 0, C}, /* pause.go: Paused */
    {P, LB_EVENT_UNPAUSE, NULL, ACT, R}, /* unpause.go: thaw */
    {P, LB_EVENT_EXIT, NULL, ACT, X},    /* a frozen process still dies of SIGKILL or the OOM killer */
    {P, LB_EVENT_REMOVE, "cannot remove paused container 'web'", 0, C},
    /* delete.go: "container is paused and must be unpaused first" */
    {P, LB_EVENT_REMOVE_FORCE, NULL, KILL_RM, P}, /* delete.go: ForceRemove → SIGKILL first */
    /* exited */
    {X, LB_EVENT_START, NULL, ACT, R},   /* docker start: "Start one or more stopped containers" */
    {X, LB_EVENT_STOP, NULL, NONE, X},   /* stop.go: !IsRunning() → 304 */
    {X, LB_EVENT_KILL, "container 'web' is not running", 0, C}, /* kill.go: errNotRunning */
    {X, LB_EVENT_RESTART, NULL, ACT, R}, /* restart.go: not running → just start */
    {X, LB_EVENT_PAUSE, "container 'web' is not running", 0, C},   /* pause.go: !Running */
    {X, LB_EVENT_UNPAUSE, "container 'web' is not paused", 0, C},  /* unpause.go: !Paused */
    {X, LB_EVENT_EXIT, NULL, NONE, X},   /* already recorded: the monitor and the liveness check
                                            may both report one end */
    {X, LB_EVENT_REMOVE, NULL, RM, X},   /* delete.go: not running → remove */
    {X, LB_EVENT_REMOVE_FORCE, NULL, RM, X},
};
/* clang-format on */

static void test_state__every_pair_follows_dockers_table(void **state)
{
    (void)state;
    bool seen[LB_STATE_COUNT][LB_EVENT_COUNT] = {{false}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct row *r = &table[i];
        assert_false(seen[r->from][r->ev]); /* one row per pair */
        seen[r->from][r->ev] = true;
        struct lb_transition t = {.step = 99, .next = 99};
        struct lb_error *err = NULL;
        int ret = lb_state_transition(&t, r->from, r->ev, "web", &err);
        if (r->error) {
            if (ret != -1)
                fail_msg("%s of a %s container: allowed, expected '%s'", lb_event_to_string(r->ev),
                         lb_state_to_string(r->from), r->error);
            assert_int_equal(err->kind, LB_EKIND_CONFLICT);
            assert_int_equal(err->code, 0);
            assert_int_equal(t.step, 99); /* an illegal move writes nothing */
            assert_error_contains(err, r->error);
        } else {
            if (ret != 0)
                fail_msg("%s of a %s container: refused (%s)", lb_event_to_string(r->ev),
                         lb_state_to_string(r->from), err ? err->msg : "?");
            assert_null(err);
            if ((int)t.step != r->step || t.next != r->next)
                fail_msg("%s of a %s container: step %d next %s, expected step %d next %s",
                         lb_event_to_string(r->ev), lb_state_to_string(r->from), (int)t.step,
                         lb_state_to_string(t.next), r->step, lb_state_to_string(r->next));
        }
    }
    for (int s = 0; s < LB_STATE_COUNT; s++)
        for (int e = 0; e < LB_EVENT_COUNT; e++)
            if (!seen[s][e])
                fail_msg("no row for %s of a %s container", lb_event_to_string(e),
                         lb_state_to_string(s));
}

static void test_state__refusals_name_the_container_given(void **state)
{
    (void)state;
    struct lb_transition t;
    struct lb_error *err = NULL;
    assert_int_equal(lb_state_transition(&t, X, LB_EVENT_KILL, "db-1", &err), -1);
    assert_string_equal(err->msg, "container 'db-1' is not running");
    lb_error_clear(&err);
    assert_int_equal(lb_state_transition(&t, R, LB_EVENT_REMOVE, "db-1", &err), -1);
    assert_string_equal(err->msg,
                        "cannot remove running container 'db-1': stop it first or use -f");
    lb_error_clear(&err);
    /* no name: still a message, not a crash */
    assert_int_equal(lb_state_transition(&t, P, LB_EVENT_PAUSE, NULL, &err), -1);
    assert_error_contains(err, "container '?' is already paused");
    /* a NULL err is allowed */
    assert_int_equal(lb_state_transition(&t, P, LB_EVENT_PAUSE, "x", NULL), -1);
}

static void test_state__rejects_out_of_range_states_and_events(void **state)
{
    (void)state;
    struct lb_transition t;
    struct lb_error *err = NULL;
    assert_int_equal(
        lb_state_transition(&t, (enum lb_state)LB_STATE_COUNT, LB_EVENT_START, "w", &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "unknown container state 4");
    assert_int_equal(lb_state_transition(&t, C, (enum lb_event) - 1, "w", &err), -1);
    assert_error_contains(err, "unknown container event -1");
}

static void test_state__strings_are_dockers_words_and_round_trip(void **state)
{
    (void)state;
    static const char *const words[] = {"created", "running", "paused", "exited"};
    for (int s = 0; s < LB_STATE_COUNT; s++) {
        assert_string_equal(lb_state_to_string(s), words[s]);
        enum lb_state back = 99;
        assert_int_equal(lb_state_from_string(&back, words[s], NULL), 0);
        assert_int_equal(back, s);
    }
    assert_string_equal(lb_state_to_string((enum lb_state)7), "unknown");
    struct lb_error *err = NULL;
    enum lb_state out = C;
    assert_int_equal(lb_state_from_string(&out, "Running", &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "unknown container state 'Running'");
    assert_int_equal(lb_state_from_string(&out, "", &err), -1);
    assert_error_contains(err, "unknown container state ''");
    assert_int_equal(lb_state_from_string(&out, NULL, &err), -1);
    assert_error_contains(err, "unknown container state");
    assert_int_equal(out, C); /* untouched on error */

    static const char *const events[] = {"start",   "stop", "kill",   "restart",     "pause",
                                         "unpause", "exit", "remove", "remove-force"};
    for (int e = 0; e < LB_EVENT_COUNT; e++)
        assert_string_equal(lb_event_to_string(e), events[e]);
    assert_string_equal(lb_event_to_string((enum lb_event)LB_EVENT_COUNT), "unknown");
}

LB_UNIT_MAIN(cmocka_unit_test(test_state__every_pair_follows_dockers_table),
             cmocka_unit_test(test_state__refusals_name_the_container_given),
             cmocka_unit_test(test_state__rejects_out_of_range_states_and_events),
             cmocka_unit_test(test_state__strings_are_dockers_words_and_round_trip))
