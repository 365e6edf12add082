/* state.c — the container state machine as data: a table of (state, event) → step, next state,
 * or the error docker gives. A command asks before it acts, so an illegal move changes nothing.
 *
 * The concept: "running" is not something a command decides; it follows from events. The table
 * is the whole truth of what layerbox allows, written where a student can read it in one screen
 * (xv6's enum procstate). Rows follow docker's daemon (moby daemon/start.go, stop.go, kill.go,
 * restart.go, pause.go, unpause.go, delete.go); the unit test checks every pair.
 * Sits on core/error only: pure, no I/O.
 *
 * Interface: lb_state_transition, lb_state_to_string, lb_state_from_string, lb_event_to_string
 */
#include "container/state.h"
#include "core/util.h"

#include <string.h>

/* Why a move is refused; each maps to one message below. */
enum refusal {
    OK = 0,
    NOT_RUNNING,
    ALREADY_PAUSED,
    NOT_PAUSED,
    START_PAUSED,
    RM_RUNNING,
    RM_PAUSED,
};

struct rule {
    enum refusal refuse;
    enum lb_step step;
    enum lb_state next;
};

/* The table is laid out to be read as a table. */
/* clang-format off */
#define C LB_STATE_CREATED
#define R LB_STATE_RUNNING
#define P LB_STATE_PAUSED
#define X LB_STATE_EXITED
#define ALLOW(step, next) {OK, LB_STEP_##step, next}
#define DENY(why)         {why, LB_STEP_NONE, C}

/* rules[state][event]. For NONE/REMOVE/KILL/KILL_REMOVE, next is the current state. */
static const struct rule rules[LB_STATE_COUNT][LB_EVENT_COUNT] = {
    [LB_STATE_CREATED] = {
        [LB_EVENT_START]        = ALLOW(ACT, R),
        [LB_EVENT_STOP]         = ALLOW(NONE, C),   /* docker: stop of a non-running container
                                                       is "not modified", exit 0 */
        [LB_EVENT_KILL]         = DENY(NOT_RUNNING),
        [LB_EVENT_RESTART]      = ALLOW(ACT, R),    /* stop is a no-op, then start */
        [LB_EVENT_PAUSE]        = DENY(NOT_RUNNING),
        [LB_EVENT_UNPAUSE]      = DENY(NOT_PAUSED),
        [LB_EVENT_EXIT]         = ALLOW(NONE, C),   /* no process: a failed start stays created,
                                                       as in docker */
        [LB_EVENT_REMOVE]       = ALLOW(REMOVE, C),
        [LB_EVENT_REMOVE_FORCE] = ALLOW(REMOVE, C),
    },
    [LB_STATE_RUNNING] = {
        [LB_EVENT_START]        = ALLOW(NONE, R),   /* docker: "not modified", exit 0 */
        [LB_EVENT_STOP]         = ALLOW(ACT, X),
        [LB_EVENT_KILL]         = ALLOW(ACT, R),    /* the end, if any, is an EXIT */
        [LB_EVENT_RESTART]      = ALLOW(ACT, R),
        [LB_EVENT_PAUSE]        = ALLOW(ACT, P),
        [LB_EVENT_UNPAUSE]      = DENY(NOT_PAUSED),
        [LB_EVENT_EXIT]         = ALLOW(ACT, X),
        [LB_EVENT_REMOVE]       = DENY(RM_RUNNING),
        [LB_EVENT_REMOVE_FORCE] = ALLOW(KILL_REMOVE, R),
    },
    [LB_STATE_PAUSED] = {
        [LB_EVENT_START]        = DENY(START_PAUSED),
        [LB_EVENT_STOP]         = ALLOW(ACT, X),    /* docker thaws it so the signal lands */
        [LB_EVENT_KILL]         = ALLOW(ACT, P),
        [LB_EVENT_RESTART]      = ALLOW(ACT, R),
        [LB_EVENT_PAUSE]        = DENY(ALREADY_PAUSED),
        [LB_EVENT_UNPAUSE]      = ALLOW(ACT, R),
        [LB_EVENT_EXIT]         = ALLOW(ACT, X),
        [LB_EVENT_REMOVE]       = DENY(RM_PAUSED),
        [LB_EVENT_REMOVE_FORCE] = ALLOW(KILL_REMOVE, P),
    },
    [LB_STATE_EXITED] = {
        [LB_EVENT_START]        = ALLOW(ACT, R),
        [LB_EVENT_STOP]         = ALLOW(NONE, X),
        [LB_EVENT_KILL]         = DENY(NOT_RUNNING),
        [LB_EVENT_RESTART]      = ALLOW(ACT, R),
        [LB_EVENT_PAUSE]        = DENY(NOT_RUNNING),
        [LB_EVENT_UNPAUSE]      = DENY(NOT_PAUSED),
        [LB_EVENT_EXIT]         = ALLOW(NONE, X),   /* already recorded: idempotent, so the
                                                       monitor and the liveness check may both
                                                       report the same end */
        [LB_EVENT_REMOVE]       = ALLOW(REMOVE, X),
        [LB_EVENT_REMOVE_FORCE] = ALLOW(REMOVE, X),
    },
};
/* clang-format on */
#undef C
#undef R
#undef P
#undef X
#undef ALLOW
#undef DENY

static const char *const state_names[LB_STATE_COUNT] = {"created", "running", "paused", "exited"};
static const char *const event_names[LB_EVENT_COUNT] = {
    "start", "stop", "kill", "restart", "pause", "unpause", "exit", "remove", "remove-force"};

int lb_state_transition(struct lb_transition *out, enum lb_state from, enum lb_event ev,
                        const char *name, struct lb_error **err)
{
    if ((unsigned)from >= LB_STATE_COUNT)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "unknown container state %d", (int)from);
    if ((unsigned)ev >= LB_EVENT_COUNT)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "unknown container event %d", (int)ev);
    if (name == NULL)
        name = "?";
    const struct rule *r = &rules[from][ev];
    switch (r->refuse) {
    case OK:
        out->step = r->step;
        out->next = r->next;
        return 0;
    case NOT_RUNNING:
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0, "container '%s' is not running", name);
    case ALREADY_PAUSED:
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0, "container '%s' is already paused", name);
    case NOT_PAUSED:
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0, "container '%s' is not paused", name);
    case START_PAUSED:
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                             "cannot start a paused container '%s', try unpause instead", name);
    case RM_RUNNING:
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                             "cannot remove running container '%s': stop it first or use -f", name);
    case RM_PAUSED:
        return lb_error_setk(
            err, LB_EKIND_CONFLICT, 0,
            "cannot remove paused container '%s': unpause and stop it first or use -f", name);
    }
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "no rule for %s of a %s container",
                         event_names[ev], state_names[from]);
}

const char *lb_state_to_string(enum lb_state s)
{
    return (unsigned)s < LB_STATE_COUNT ? state_names[s] : "unknown";
}

int lb_state_from_string(enum lb_state *out, const char *s, struct lb_error **err)
{
    for (size_t i = 0; s && i < LB_STATE_COUNT; i++) {
        if (strcmp(s, state_names[i]) == 0) {
            *out = (enum lb_state)i;
            return 0;
        }
    }
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "unknown container state '%s'", s ? s : "");
}

const char *lb_event_to_string(enum lb_event ev)
{
    return (unsigned)ev < LB_EVENT_COUNT ? event_names[ev] : "unknown";
}
