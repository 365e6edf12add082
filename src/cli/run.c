/* run.c — `layerbox run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create + start in the foreground.
 * The container's stdin is ours with -i (else /dev/null); its stdout and stderr reach ours,
 * copied through layerbox into its container.log as well (so `logs` shows a foreground run), or
 * directly with --rm (nothing to keep a log for) or -t (lb_lifecycle_start_foreground). The
 * signals we get are forwarded to it, and our exit code is its own: 125 when layerbox itself
 * fails, 126 when the command cannot be executed, 127 when it is not found (docker's codes).
 * --rm removes the container once it has exited.
 *
 * -d (--detach): the container runs under its monitor (lb_lifecycle_start_detached), its output
 * goes to its log (`layerbox logs`), and run prints its full ID and exits as soon as it runs
 * (125/126/127 when it could not be started, as in the foreground).
 *
 * Sits on: container/lifecycle.h (create, start_foreground, start_detached, remove),
 *          cli/create.c's parser.
 * Interface: lb_cmd_run
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The create options that take a value (cli/create.c's table): needed to find IMAGE, so that a
 * -d after it (the command's) is left alone. */
static bool takes_value_long(const char *name, size_t n)
{
    static const char *const with_value[] = {
        "cap-add",     "cap-drop",     "cpus", "entrypoint", "env",        "env-file",
        "hostname",    "memory",       "name", "network",    "pids-limit", "security-opt",
        "stop-signal", "stop-timeout", "user", "workdir"};
    for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
        if (strlen(with_value[i]) == n && strncmp(with_value[i], name, n) == 0)
            return true;
    return false;
}

/* Take -d / --detach out of run's options (create does not know it): a copy of argv without
 * them (the strings are borrowed, but for a cluster like "-dit" rewritten as "-it", which is
 * added to *owned). *detach is set when one was there. */
static char **strip_detach(int argc, char **argv, int *argc_out, bool *detach, char ***owned)
{
    char **out = lb_xmalloc(((size_t)argc + 1) * sizeof(char *));
    int n = 0, i = 0;
    *detach = false;
    out[n++] = argv[i++];
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0)
            break;
        if (strcmp(a, "-d") == 0 || strcmp(a, "--detach") == 0 || strcmp(a, "--detach=true") == 0) {
            *detach = true;
            continue;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            out[n++] = argv[i];
            if (eq == NULL && takes_value_long(a + 2, len) && i + 1 < argc)
                out[n++] = argv[++i];
            continue;
        }
        /* a cluster of short flags: "-itd"; a value letter (e m u w) takes the rest */
        const char *d = NULL;
        bool value_next = false;
        for (const char *p = a + 1; *p; p++) {
            if (strchr("emuw", *p)) {
                value_next = p[1] == '\0';
                break;
            }
            if (*p == 'd' && d == NULL)
                d = p;
        }
        if (d != NULL) {
            *detach = true;
            char *copy = lb_xstrdup(a);
            memmove(copy + (d - a), copy + (d - a) + 1, strlen(d));
            lb_strv_push(owned, copy);
            free(copy);
            out[n++] = (*owned)[lb_strv_len(*owned) - 1];
        } else {
            out[n++] = argv[i];
        }
        if (value_next && i + 1 < argc)
            out[n++] = argv[++i];
    }
    for (; i < argc; i++)
        out[n++] = argv[i];
    out[n] = NULL;
    *argc_out = n;
    return out;
}

static const char run_usage[] =
    "Usage:  layerbox run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
    "\n"
    "Create and run a new container from an image, in the foreground: its output is ours and\n"
    "layerbox exits with its exit code (125: layerbox failed, 126: the command cannot be\n"
    "executed, 127: it was not found).\n"
    "\n"
    "Options:\n"
    "  -d, --detach                Run the container in the background and print its "
    "ID\n" LB_CLI_CREATE_OPTIONS_USAGE;

int lb_cmd_run(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    cli->fail_code = 125;
    struct lb_cli_create c;
    bool detach = false;
    int nargc = 0;
    _cleanup_strv_ char **owned = NULL;
    _cleanup_free_ char **nargv = strip_detach(argc, argv, &nargc, &detach, &owned);
    int r = lb_cli_create_parse(&c, nargc, nargv, run_usage, err);
    if (r <= 0) {
        lb_cli_create_release(&c);
        return r;
    }
    struct lb_store *s = NULL;
    int rc = -1;
    struct lb_container *ct = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        goto out;
    struct lb_create_request req = lb_cli_create_request(&c);
    ct = lb_lifecycle_create(s, &req, err);
    if (ct == NULL)
        goto out;
    fflush(stdout); /* nothing of ours may come after the container's output */
    int code = 125;
    if (detach) {
        if (lb_lifecycle_start_detached(s, ct, &code, err) == 0) {
            printf("%s\n", ct->id); /* the monitor honours --rm from now on */
            rc = 0;
            goto out;
        }
        cli->fail_code = code;
    } else if (lb_lifecycle_start_foreground(s, ct, NULL, &code, err) < 0)
        cli->fail_code = code;
    else
        rc = code;
    if (c.auto_remove) {
        struct lb_error *e = NULL;
        if (lb_lifecycle_remove_with_volumes(s, ct->id, true, NULL, &e) < 0) {
            if (rc >= 0) /* the container's code stands; say why it is still there */
                lb_cli_keep_last(&e, NULL);
            else
                lb_cli_keep_last(err, e);
        }
    }
out:
    lb_container_free(ct);
    lb_cli_create_release(&c);
    return rc;
}
