/* state.h — a container's life as a state machine: one enum, one pure transition function.
 *
 *    create        start          process exits / stop / kill
 *   ───────▶ created ─────▶ running ─────────────────────────▶ exited
 *                            │  ▲                                │
 *                     pause  ▼  │ unpause          start/restart │
 *                           paused                    ◀──────────┘
 *    rm: from created or exited (rm -f also from running/paused: kill first)
 *
 * Every command asks lb_state_transition() before it acts: an illegal move is an error that
 * changes nothing, a move docker treats as "not modified" (stop of a stopped container) is an
 * explicit "allowed, no change" (LB_STEP_NONE). The words are docker's ("created", "running",
 * "paused", "exited"). The function only decides; it never touches a record or a process. */
#ifndef LB_CONTAINER_STATE_H
#define LB_CONTAINER_STATE_H

#include "core/error.h"

enum lb_state {
    LB_STATE_CREATED,
    LB_STATE_RUNNING,
    LB_STATE_PAUSED,
    LB_STATE_EXITED,
};
#define LB_STATE_COUNT 4

enum lb_event {
    LB_EVENT_START,   /* start / run */
    LB_EVENT_STOP,    /* stop: stop signal, wait, SIGKILL */
    LB_EVENT_KILL,    /* kill [-s SIG]: deliver a signal */
    LB_EVENT_RESTART, /* restart: stop (when live) then start */
    LB_EVENT_PAUSE,
    LB_EVENT_UNPAUSE,
    LB_EVENT_EXIT,         /* the container's process ended (monitor, or the liveness check) */
    LB_EVENT_REMOVE,       /* rm */
    LB_EVENT_REMOVE_FORCE, /* rm -f */
};
#define LB_EVENT_COUNT 9

/* What the command must do when the move is allowed. */
enum lb_step {
    LB_STEP_NONE,        /* allowed, no change: succeed without acting (docker's "304 not
                            modified": start of a running container, stop of a stopped one) */
    LB_STEP_ACT,         /* do it; when the command is done the container is in `next` */
    LB_STEP_REMOVE,      /* remove the record (no process to end) */
    LB_STEP_KILL_REMOVE, /* SIGKILL the process and wait for it, then remove the record */
};

struct lb_transition {
    enum lb_step step;
    /* The state once the command has done its work. NONE, REMOVE, KILL_REMOVE: the current
     * state. KILL: also the current state — kill only delivers a signal; if the process ends,
     * that is an EXIT event (the monitor or the liveness check reports it). STOP: exited (stop
     * ends with SIGKILL, so the process is gone when it returns). */
    enum lb_state next;
};

/* Decide (from, ev). name is the container's name as messages show it (NULL: "?").
 * Illegal moves fail with LB_EKIND_CONFLICT and docker's wording:
 *   "container 'web' is not running"              kill/pause of a created or exited container
 *   "container 'web' is already paused"            pause of a paused one
 *   "container 'web' is not paused"                unpause of anything else
 *   "cannot start a paused container 'web', try unpause instead"
 *   "cannot remove running container 'web': stop it first or use -f"
 *   "cannot remove paused container 'web': unpause and stop it first or use -f"
 * An out-of-range state or event is an LB_EKIND_INVALID error. *out is written only on success. */
int lb_state_transition(struct lb_transition *out, enum lb_state from, enum lb_event ev,
                        const char *name, struct lb_error **err);

/* "created", "running", "paused", "exited" ("unknown" out of range). Static string. */
const char *lb_state_to_string(enum lb_state s);

/* The inverse, for state.json: exact lowercase words only; anything else is LB_EKIND_INVALID
 * "unknown container state 'x'". */
int lb_state_from_string(enum lb_state *out, const char *s, struct lb_error **err);

/* "start", "stop", "kill", "restart", "pause", "unpause", "exit", "remove", "remove-force"
 * ("unknown" out of range). Static string, for messages and --explain. */
const char *lb_event_to_string(enum lb_event ev);

#endif
