/* start.c — `layerbox start [-a] CONTAINER...`: run created (or exited) containers again.
 *
 * Without -a the container runs detached under its monitor (its output goes to its log) and the
 * argument is printed once it runs, as docker does; a container that is already running is left
 * alone and printed too. With -a (one container) it runs in the foreground, attached to our
 * stdio as `run` does (its output also appended to its log), and the exit code is the
 * container's.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_start_foreground, lb_lifecycle_start_detached).
 * Interface: lb_cmd_start
 */
#include "cli/cli.h"

#include <stdio.h>

static const char start_usage[] =
    "Usage:  layerbox start [OPTIONS] CONTAINER [CONTAINER...]\n"
    "\n"
    "Start one or more stopped containers in the background (with -a: one, in the foreground,\n"
    "attached to this terminal; exit with its exit code).\n"
    "\n"
    "Options:\n"
    "  -a, --attach        Attach STDOUT/STDERR and forward signals\n"
    "  -i, --interactive   Attach the container's STDIN\n"
    "  -h, --help          Print this help\n";

/* Detached start of one container: 0, or -1 with *code the exit code. */
static int start_one(struct lb_store *s, const char *arg, int *code, struct lb_error **err)
{
    *code = 125;
    /* Resolve and load under the lock: a concurrent rm -f may be half-way through the record
     * (state.json gone, config.json still there). Not held across the fork of the monitor,
     * which takes it itself. */
    if (lb_store_lock(s, err) < 0)
        return -1;
    struct lb_container *c = lb_container_resolve(s, arg, err);
    struct lb_transition t;
    int rc = -1;
    if (c == NULL || lb_container_check(s, c, err) < 0 ||
        lb_state_transition(&t, c->state.status, LB_EVENT_START, c->name, err) < 0) {
        lb_store_unlock(s);
        goto out;
    }
    lb_store_unlock(s);
    if (t.step == LB_STEP_NONE) /* already running: docker's "not modified" */
        rc = 0;
    else if ((rc = lb_lifecycle_start_detached(s, c, code, err)) < 0 &&
             (*err)->kind == LB_EKIND_CONFLICT) {
        /* a concurrent start ran it first: "not modified" too */
        lb_error_clear(err);
        rc = 0;
    }
out:
    lb_container_free(c);
    return rc;
}

int lb_cmd_start(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool attach = false, interactive = false;
    const struct lb_cli_opt opts[] = {
        {"attach", 'a', .flag = &attach}, {"interactive", 'i', .flag = &interactive}, {0}};
    int r = lb_cli_options(argc, argv, start_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, attach ? 1 : -1, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    if (!attach) {
        struct lb_error *last = NULL;
        int code = 0;
        for (int i = optind; i < argc; i++) {
            struct lb_error *e = NULL;
            int c = 125;
            if (start_one(s, argv[i], &c, &e) < 0) {
                lb_cli_keep_last(&last, e);
                code = c;
            } else {
                printf("%s\n", argv[i]);
                fflush(stdout);
            }
        }
        if (last == NULL)
            return 0;
        (void)code; /* docker's start fails with 1 whatever the cause */
        *err = last;
        return -1;
    }
    struct lb_container *c = lb_container_resolve(s, argv[optind], err);
    if (c == NULL)
        return -1;
    if (interactive)
        c->opts.interactive = true;
    int code = 125;
    int rc = lb_lifecycle_start_foreground(s, c, NULL, &code, err);
    lb_container_free(c);
    if (rc < 0) {
        cli->fail_code = code;
        return -1;
    }
    return code;
}
