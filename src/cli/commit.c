/* commit.c — `layerbox commit [-m MSG] [-a AUTHOR] [-c CHANGE]... [-p|--pause=true|false]
 * CONTAINER [REPOSITORY[:TAG]]`: a container's writable layer becomes one more layer over its
 * image's, as a new image; prints its full ID ("sha256:<64 hex>") as docker does.
 *
 * Sits on: container/commit.h (lb_container_commit), container/container.h (resolve).
 * Interface: lb_cmd_commit
 */
#include "cli/cli.h"
#include "container/commit.h"
#include "core/cleanup.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

static const char commit_usage[] =
    "Usage:  layerbox commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n"
    "\n"
    "Create a new image from a container's changes: the image's layers, shared as they are,\n"
    "plus one layer holding what the container added, changed and deleted.\n"
    "\n"
    "Options:\n"
    "  -a, --author string    Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")\n"
    "  -c, --change list      Apply Dockerfile instruction to the created image (CMD,\n"
    "                         ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR)\n"
    "  -m, --message string   Commit message\n"
    "  -p, --pause            Pause container during commit (default true; --pause=false)\n"
    "  -h, --help             Print this help\n";

/* docker's boolean flag values (Go's strconv.ParseBool). */
static int parse_bool(const char *s, bool *out, struct lb_error **err)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(yes); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return lb_cli_usage_error(err, "commit", "invalid argument \"%s\" for \"-p, --pause\" flag", s);
}

int lb_cmd_commit(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    static const struct option longopts[] = {
        {"author", required_argument, NULL, 'a'},  {"change", required_argument, NULL, 'c'},
        {"message", required_argument, NULL, 'm'}, {"pause", optional_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},          {0}};
    _cleanup_strv_ char **changes = lb_xmalloc(sizeof(char *));
    struct lb_commit_opts o = {0};
    bool pause = true;
    int ch;
    while ((ch = lb_cli_getopt(argc, argv, "a:c:m:p::h", longopts, err)) != -1) {
        switch (ch) {
        case 'a':
            o.author = optarg;
            break;
        case 'c':
            lb_strv_push(&changes, optarg);
            break;
        case 'm':
            o.message = optarg;
            break;
        case 'p':
            pause = true;
            /* -p=false reaches us as "=false", --pause=false as "false" */
            if (optarg && parse_bool(optarg[0] == '=' ? optarg + 1 : optarg, &pause, err) < 0)
                return -1;
            break;
        case 'h':
            lb_cli_usage(commit_usage);
            return 0;
        default:
            return -1; /* lb_cli_getopt set err */
        }
    }
    if (lb_cli_nargs(argc, argv, 1, 2, err) < 0)
        return -1;
    o.changes = changes;
    o.no_pause = !pause;
    o.ref = optind + 1 < argc ? argv[optind + 1] : NULL;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_container *c = lb_container_resolve(s, argv[optind], err);
    if (c == NULL)
        return -1;
    struct lb_digest id;
    int rc = lb_container_commit(s, c, &o, &id, err);
    lb_container_free(c);
    if (rc < 0)
        return -1;
    printf("%s\n", id.str);
    return 0;
}
