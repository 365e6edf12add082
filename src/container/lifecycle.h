/* lifecycle.h — what the container commands do: create a container from an image, start it in
 * the foreground and wait for it, remove it; the pieces `inspect` shows.
 *
 * A container on disk (container.h has the records):
 *   ROOT/containers/<id>/diff/      its writable layer (overlay's upperdir)
 *   ROOT/containers/<id>/work/      overlay's workdir
 *   ROOT/containers/<id>/rootfs/    where the driver stacks the image's layers + diff/: the
 *                                   container's root. overlay: mounted by start, unmounted when
 *                                   the process ends. vfs: the copy is made by create and kept
 *                                   until the container is removed (it IS the writable layer)
 *   ROOT/containers/<id>/cgroups.json  the cgroup directories of the running process, so that
 *                                   whoever removes the container can remove them
 *
 * Every step that reads a state and changes it holds the store lock around the whole sequence
 * and asks the state machine (state.h) first, so an illegal move changes nothing. The lock is
 * not held while the container runs. Library code: nothing here prints or exits.
 *
 * Implemented by lifecycle.c (create, foreground start, remove, register, argv), detached.c
 * (the monitor), stop.c (stop, kill, wait), inspect.c and root.c (lb_lifecycle_root_*). */
#ifndef LB_CONTAINER_LIFECYCLE_H
#define LB_CONTAINER_LIFECYCLE_H

#include <jansson.h>
#include <stdbool.h>

#include "container/container.h"
#include "core/error.h"
#include "image/store.h"
#include "runtime/plan.h"
#include "runtime/process.h"

/* What `create` and `run` were asked for. Every pointer is borrowed. */
struct lb_create_request {
    const char *image;              /* as the user named it; resolved with lb_store_resolve */
    const char *name;               /* --name, NULL = generated */
    const struct lb_run_opts *opts; /* NULL = defaults */
    bool auto_remove;               /* --rm */
    const char *stop_signal;        /* NULL = default */
    int stop_timeout;               /* -1 = default */
    char *const *volumes;           /* -v specs (NULL = none): checked, their volumes made, and
                                       recorded as given, but an anonymous one as
                                       "<its volume's name>:/ctr[:ro]" */
};

/* Create a container: resolve the image, work out docker's Path and Args from the image's
 * Entrypoint/Cmd and the options (an error "no command specified" when there is none, as
 * docker), record it (lb_container_create) and make its diff/, work/ and rootfs/ directories
 * (vfs: copy the layers into rootfs/). Nothing is mounted with overlay. On failure nothing is
 * left in the store. Returns the record (caller frees) or NULL. */
struct lb_container *lb_lifecycle_create(struct lb_store *s, const struct lb_create_request *req,
                                         struct lb_error **err);

/* Start c in the foreground and wait for it: under the store lock, the liveness check and the
 * state machine (START; "already running" is an LB_EKIND_CONFLICT error here, as the
 * foreground cannot attach to a process it did not start), mount the root, build the plan from
 * the image config and c's options, start the process (popts: its stdio; stdin is /dev/null
 * unless c->opts.interactive or popts gives one), record it running (pid, start time,
 * StartedAt, this process as its monitor), unlock; forward signals to it, wait; then record the
 * exit (lb_container_record_exit), remove its cgroups and unmount its root (overlay).
 * Output: unless c was created with --rm (auto_remove) or with a tty (-t), the container's stdout
 * and stderr are pipes that this process copies, as they come, to popts' stdout_fd / stderr_fd
 * (ours when -1) and into containers/<id>/container.log (lb_log_tee, the monitor's writer), so
 * that `logs` shows a foreground run as docker does; it waits for the process once both pipes
 * are at end of file. With --rm or -t the container writes to them directly (nothing logged).
 * Returns 0 when the process ran, with *exit_code its code (128+N for signal N). Returns -1
 * when it could not be started, with *exit_code 125 (layerbox failed), 126 (not executable) or
 * 127 (not found) — the code is then recorded as the container's exit code, its state left as
 * it was (docker leaves a container whose command failed to start "created") — or when a later
 * step failed. */
int lb_lifecycle_start_foreground(struct lb_store *s, struct lb_container *c,
                                  const struct lb_process_opts *popts, int *exit_code,
                                  struct lb_error **err);

/* Start c detached, under a monitor process (design.md "The runtime"): fork; the child calls
 * setsid and forks again, and the grandchild — the monitor, a child subreaper with /dev/null as
 * stdin, stdout and stderr and no other inherited fd but the store's — starts the container as
 * start_foreground does, with its stdout and stderr on pipes that it copies into
 * containers/<id>/container.log (monitor.h), records it running, tells the caller "started" (or
 * the error) over a pipe, waits for it, records the exit, removes its cgroups, unmounts its root,
 * removes the container when it was created with --rm, and exits. It outlives the caller.
 * Returns 0 once the container runs (recorded). Returns -1 with *exit_code 125, 126 or 127 as
 * start_foreground when it could not be started. A running container is "already running"
 * (LB_EKIND_CONFLICT), as in start_foreground: `start` asks the state machine before. */
int lb_lifecycle_start_detached(struct lb_store *s, struct lb_container *c, int *exit_code,
                                struct lb_error **err);

/* Stop the container arg names: the state machine (STOP: a container that is not running is
 * "not modified", returns 0 with nothing done); its stop signal (--stop-signal, default
 * SIGTERM); wait up to timeout seconds (< 0: its --stop-timeout, default 10) for the process to
 * end, then SIGKILL; then wait for its monitor to record the exit (when there is no monitor left,
 * the liveness check records it). */
int lb_lifecycle_stop(struct lb_store *s, const char *arg, int timeout, struct lb_error **err);

/* Send sig to the container arg names (state machine KILL: "container 'x' is not running"). */
int lb_lifecycle_kill(struct lb_store *s, const char *arg, int sig, struct lb_error **err);

/* Block until the container arg names is not running, then give its exit code (a created
 * container: 0 at once). */
int lb_lifecycle_wait(struct lb_store *s, const char *arg, int *exit_code, struct lb_error **err);

/* Remove the container arg names (ID, name or unique prefix), under the store lock: liveness
 * check, state machine (REMOVE, or REMOVE_FORCE when force: SIGKILL the process and wait up to
 * 10 s for it to end), remove its cgroups, unmount its root, lb_container_remove. A record whose
 * files cannot be read is removed with force only. *id_out (may be NULL) gets the ID removed. */
int lb_lifecycle_remove(struct lb_store *s, const char *arg, bool force,
                        char id_out[LB_CONTAINER_ID_LEN + 1], struct lb_error **err);

/* lb_lifecycle_remove, then remove the container's anonymous volumes (docker's `rm -v`, and
 * --rm): those its -v specs name whose volume is anonymous. One another container also uses is
 * kept. Named volumes and binds are never touched. */
int lb_lifecycle_remove_with_volumes(struct lb_store *s, const char *arg, bool force,
                                     char id_out[LB_CONTAINER_ID_LEN + 1], struct lb_error **err);

/* Register the image-user seam on s (rmi refuses images a container uses) and the volume-user
 * seam (lb_volume_set_user_check: `volume rm` refuses a volume a container's -v names). */
void lb_lifecycle_register(struct lb_store *s);

/* docker's Path and Args for the image config's "config" object (may be NULL) and the options:
 * any --entrypoint (even "") drops the image's Cmd, arguments after IMAGE replace the Cmd, an
 * entrypoint of [""] is none. *argv_out is NULL-terminated (caller frees with lb_strv_free).
 * Errors: LB_EKIND_USAGE "no command specified"; LB_EKIND_INVALID for a mistyped config. */
int lb_lifecycle_argv(char ***argv_out, const json_t *image_config, const struct lb_run_opts *opts,
                      struct lb_error **err);

/* docker's `inspect` object for a container (call lb_container_check first for a truthful
 * State): Id, Created, Path, Args, State{Status, Running, Paused, Restarting, OOMKilled, Dead,
 * Pid, ExitCode, Error, StartedAt, FinishedAt}, Image, Name ("/x"), RestartCount, Driver,
 * Platform, HostConfig, Mounts (lb_volume_mounts_json of its -v specs), Config,
 * GraphDriver{Name, Data{LowerDir, MergedDir, UpperDir, WorkDir}}. LowerDir lists the image's
 * layers' diff/ directories top first (empty when the image cannot be loaded). New reference. */
json_t *lb_lifecycle_inspect_json(struct lb_store *s, const struct lb_container *c);

/* A container's file system seen from outside, for the commands that read or write it without
 * running anything in it (export, cp, diff, commit). */
struct lb_container_root {
    int fd;          /* O_DIRECTORY fd of the merged root: the container's "/" */
    char *path;      /* its path: ROOT/containers/<id>/rootfs */
    char *upper;     /* the writable layer alone (overlay's upper dir), NULL with vfs */
    int *layer_fds;  /* the image's layers' diff/ directories, TOP FIRST (O_DIRECTORY) */
    size_t n_layers; /* how many; 0 when the image is gone */
    bool running;    /* the container runs: its own mount is used as it is */
    /* private */
    struct lb_store *store_;
    bool locked_, mounted_;
};

/* Open c's root. A running container's (lb_container_check first) is its mount, used as it is.
 * A stopped container's is mounted now (overlay) or is the vfs copy, and the store lock is held
 * until lb_lifecycle_root_release, so that no start, rm or other mount of the same writable
 * layer happens meanwhile (overlayfs gives undefined results for two mounts of one upper dir).
 * Errors: the image is gone (overlay needs its layers; vfs does not), the mount failed. */
int lb_lifecycle_root_open(struct lb_store *s, struct lb_container *c,
                           struct lb_container_root *out, struct lb_error **err);

/* Close the fds, unmount what lb_lifecycle_root_open mounted, release the lock. Errors of the
 * unmount go to *err (may be NULL); the struct is released either way. */
int lb_lifecycle_root_release(struct lb_container_root *r, struct lb_error **err);

#endif
