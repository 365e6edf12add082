/* container.h — container records in the store: IDs, names, config.json and state.json, and the
 * liveness check that keeps "running" truthful.
 *
 *   ROOT/containers/<id>/config.json   written once by create (rename is the one exception):
 *                                      what to run — image, command, the run options
 *   ROOT/containers/<id>/state.json    what is happening: status, pid + its start time, exit
 *                                      code, times, OOMKilled, monitor pid
 *   (diff/, work/, rootfs/, container.log are added by the runtime and the driver)
 *
 * Both files are written atomically (temp + fsync + rename). A record appears whole: create builds
 * it in containers/.tmp-<id> and renames it into place, under the store lock (lb_store_lock,
 * ROOT/lock), which also makes a name unique: of 20 concurrent creates with one --name exactly
 * one succeeds. Every function that changes records takes the store lock itself (the lock nests);
 * a command that reads a state, asks lb_state_transition and then saves should hold the lock
 * around the whole sequence so that a concurrent command cannot slip in between.
 *
 * "Running" is a fact checked, not a flag trusted: lb_container_check() compares the recorded pid
 * and its start time (/proc/PID/stat field 22) with the live process and corrects the record.
 *
 * Ownership: every struct lb_container returned is the caller's (lb_container_free); it owns
 * every pointer in it, including the strings inside its opts.
 *
 * Implemented by container.c (create, load, list, save, rename, remove, tombstones, image user),
 * record_json.c (config.json/state.json, the opts JSON), resolve.c (lb_container_resolve*) and
 * liveness.c (check, record_exit, proc_start, parse_stat); container_internal.h joins them. */
#ifndef LB_CONTAINER_CONTAINER_H
#define LB_CONTAINER_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container/state.h"
#include "core/error.h"
#include "core/human.h"
#include "image/digest.h"
#include "image/store.h"
#include "runtime/plan.h"

#define LB_CONTAINER_ID_LEN       64 /* lowercase hex */
#define LB_CONTAINER_SHORT_ID_LEN 12 /* as `ps` shows it */

/* state.json. Times {0,0} = never (the key is left out of the file). */
struct lb_container_state {
    enum lb_state status;
    pid_t pid;          /* the container's first process, as a host pid; 0 = none. Kept after
                           it exits (the last run's, so a late monitor can be matched); show 0
                           when the container is not running, as docker does */
    uint64_t pid_start; /* its start time: /proc/PID/stat field 22 (clock ticks after boot) */
    int exit_code;      /* last exit code; -1 = unknown (the process was found dead and nobody
                           recorded how it ended) */
    struct lb_time started;
    struct lb_time finished;
    bool oom_killed;
    pid_t monitor_pid; /* the supervising monitor process, 0 = none */
};

/* A container: config.json + state.json. */
struct lb_container {
    char id[LB_CONTAINER_ID_LEN + 1];
    char *name; /* without docker's leading '/' */
    struct lb_digest image_id;
    char *image; /* the image as the user named it ("busybox"), for `ps` */
    struct lb_time created;
    char *path;              /* the resolved program (docker's Path): argv[0] of the process */
    char **args;             /* the rest of argv (docker's Args); never NULL once loaded */
    struct lb_run_opts opts; /* owned copies of everything the run options point to */
    bool auto_remove;        /* --rm */
    char *stop_signal;       /* --stop-signal as given ("SIGTERM", "15"), NULL = the default */
    int stop_timeout;        /* --stop-timeout in seconds, -1 = the default (10) */
    char **volumes;          /* -v specs as given ("host:/ctr:ro", "/anon", "name:/ctr"), or NULL */
    struct lb_container_state state;
};

/* What create records. Every pointer is borrowed (copied into the record); may be NULL except
 * image_id. opts NULL = all defaults. */
struct lb_container_spec {
    const char *name; /* --name ("/web" = "web"); NULL or "" = generate one */
    const struct lb_digest *image_id;
    const char *image; /* as the user gave it */
    const char *path;
    char *const *args;
    const struct lb_run_opts *opts;
    bool auto_remove;
    const char *stop_signal;
    int stop_timeout; /* -1 = default */
    char *const *volumes;
};

/* Create the record: a new random ID (getrandom), the name validated (names.h) or generated,
 * reserved under the store lock, config.json and state.json ("created", exit code 0, created =
 * now) written in containers/.tmp-<id> and renamed to containers/<id>. Errors: the name's
 * (LB_EKIND_INVALID), LB_EKIND_CONFLICT "the container name 'web' is already in use by container
 * '<12 hex>'". Returns the new record (caller frees) or NULL. */
struct lb_container *lb_container_create(struct lb_store *s, const struct lb_container_spec *spec,
                                         struct lb_error **err);

/* Load containers/<id>/ (id: 64 lowercase hex, checked before any path is built). A missing
 * record is LB_EKIND_NOT_FOUND "no such container: '<id>'"; a malformed config.json or state.json
 * (bad JSON, a missing or mistyped field, an ID that is not its directory's) is LB_EKIND_INVALID
 * naming the file and the container. Does not check liveness. */
struct lb_container *lb_container_load(struct lb_store *s, const char *id, struct lb_error **err);

/* Every record, newest first (created, then ID). Records that cannot be loaded (a crash left a
 * directory without config.json, or a file is corrupt) are left out (narrated with --explain);
 * lb_container_resolve_id still finds them by ID so that `rm -f` can remove them. Does not check
 * liveness. *out is NULL-free, free with lb_container_list_free. */
int lb_container_list(struct lb_store *s, struct lb_container ***out, size_t *n,
                      struct lb_error **err);
void lb_container_list_free(struct lb_container **v, size_t n);

/* Resolve a command-line argument to a container ID, in docker's order: the exact ID, then an
 * exact name (with or without a leading '/'), then a unique ID prefix. id_out gets the 64 hex +
 * NUL. Works for records whose files are corrupt (by ID or prefix). Errors: LB_EKIND_NOT_FOUND
 * "no such container: 'x'"; LB_EKIND_INVALID "container ID prefix 'ab' is ambiguous: it matches
 * <12 hex>, <12 hex>"; LB_EKIND_USAGE "container name cannot be empty". */
int lb_container_resolve_id(struct lb_store *s, const char *arg,
                            char id_out[LB_CONTAINER_ID_LEN + 1], struct lb_error **err);

/* lb_container_resolve_id + lb_container_load. Caller frees. */
struct lb_container *lb_container_resolve(struct lb_store *s, const char *arg,
                                          struct lb_error **err);

/* Write c->state to state.json (atomically, under the store lock). */
int lb_container_save_state(struct lb_store *s, const struct lb_container *c,
                            struct lb_error **err);

/* Rename: validate new_name (one leading '/' allowed), check it is free (LB_EKIND_CONFLICT as
 * create), rewrite config.json, update c->name. Renaming to the current name is LB_EKIND_INVALID
 * "renaming a container with the same name as its current name" (docker's text). */
int lb_container_rename(struct lb_store *s, struct lb_container *c, const char *new_name,
                        struct lb_error **err);

/* Remove containers/<id>/ and everything in it, under the store lock. Everything but config.json
 * goes first and config.json last, so a failure (a mount point still mounted inside: refused by
 * lb_rm_tree_at, nothing below it touched) leaves a record that is still listed and can be
 * removed again. A missing record is LB_EKIND_NOT_FOUND. The caller has asked the state machine
 * and ended the process (rm -f) and unmounted the root first. */
int lb_container_remove(struct lb_store *s, const char *id, struct lb_error **err);

/* The exit code of a --rm container outlives its record for a minute, so that a `wait` that
 * started while it ran still gets it (docker's wait does): containers/.exit-<id> holds the code.
 * Written by whoever removes the container after its exit; read by lb_lifecycle_wait when the
 * record it was watching is gone (LB_EKIND_NOT_FOUND without one); removed, once older than
 * LB_EXIT_TOMBSTONE_SECONDS, by the next create. */
#define LB_EXIT_TOMBSTONE_SECONDS 60
int lb_container_tombstone_write(struct lb_store *s, const char *id, int exit_code,
                                 struct lb_error **err);
int lb_container_tombstone_read(struct lb_store *s, const char *id, int *exit_code,
                                struct lb_error **err);

/* The liveness check ("running is checked, not trusted"). For a record in state running or
 * paused: under the store lock, re-read state.json (the monitor may have recorded the end
 * meanwhile: then that is the state, and c->state is refreshed); if the pid is gone, a zombie, or
 * its /proc/PID/stat start time differs from the recorded one (the pid was reused, e.g. after a
 * reboot), the container is exited: status exited, exit code -1 (unknown: nobody saw how it
 * ended), finished = now, monitor pid 0; the corrected state is saved. Returns 1 when the record
 * was corrected, 0 when it is unchanged (not live, or alive), -1 on error. */
int lb_container_check(struct lb_store *s, struct lb_container *c, struct lb_error **err);

/* The monitor's report that the process it supervised (pid, pid_start) ended. Under the lock,
 * re-reads state.json; when the record still belongs to that process (same pid and start time)
 * and is running or paused — or was already marked exited with code -1 by a liveness check that
 * got there first — writes status exited, exit_code, oom_killed, finished = now, monitor pid 0.
 * Returns 1 when recorded, 0 when the record has moved on (a newer run, or already recorded),
 * -1 on error. c->state is refreshed either way. */
int lb_container_record_exit(struct lb_store *s, struct lb_container *c, pid_t pid,
                             uint64_t pid_start, int exit_code, bool oom_killed,
                             struct lb_error **err);

/* Read a process's state and start time from /proc/PID/stat. Returns 1 when it is alive (a
 * zombie or dead task counts as gone), 0 when gone (or pid <= 0), -1 on another error.
 * *start_out gets field 22 when alive. */
int lb_container_proc_start(pid_t pid, uint64_t *start_out, struct lb_error **err);

/* Parse the text of a /proc/PID/stat line: comm may hold spaces and ')', so the fields are taken
 * after the LAST ')'. *state_out gets field 3 ('R', 'S', 'Z', ...), *start_out field 22.
 * A malformed line is LB_EKIND_INVALID. */
int lb_container_parse_stat(const char *line, char *state_out, uint64_t *start_out,
                            struct lb_error **err);

/* The image-user seam (lb_image_user_fn, registered with lb_store_set_image_user_check): the name
 * of a container, in any state, whose image is image_id, or NULL when none uses it. store is the
 * struct lb_store. Records whose config.json cannot be read are skipped. Caller frees. */
char *lb_container_image_user(void *store, const struct lb_digest *image_id);

/* The run options as config.json's "Options" object (new reference), and back. from_json fills
 * *out with owned copies (free with lb_container_opts_release); missing keys are defaults,
 * mistyped ones an LB_EKIND_INVALID error naming the key. */
json_t *lb_container_opts_to_json(const struct lb_run_opts *opts);
int lb_container_opts_from_json(struct lb_run_opts *out, const json_t *j, struct lb_error **err);
void lb_container_opts_release(struct lb_run_opts *opts);

void lb_container_free(struct lb_container *c);

#endif
