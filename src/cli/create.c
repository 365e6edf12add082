/* create.c — `layerbox create [OPTIONS] IMAGE [COMMAND] [ARG...]`: a container is an image plus a
 * writable layer, recorded but not running. Prints the new container's full ID, as docker does.
 *
 * Also the option parser `run` shares (lb_cli_create_parse): docker's flags, parsed up to the
 * first argument that is not an option (the IMAGE), so `run img sh -c x` hands "-c" to sh.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_create).
 * Interface: lb_cmd_create, lb_cli_create_parse, lb_cli_create_release
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char create_usage[] = "Usage:  layerbox create [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
                                   "\n"
                                   "Create a new container (an image plus a writable layer) "
                                   "without starting it; print its ID.\n"
                                   "\n"
                                   "Options:\n" LB_CLI_CREATE_OPTIONS_USAGE;

enum {
    OPT_CAP_ADD = 256,
    OPT_CAP_DROP,
    OPT_CPUS,
    OPT_ENTRYPOINT,
    OPT_ENV_FILE,
    OPT_NAME,
    OPT_NETWORK,
    OPT_PIDS_LIMIT,
    OPT_READ_ONLY,
    OPT_RM,
    OPT_SECURITY_OPT,
    OPT_STOP_SIGNAL,
    OPT_STOP_TIMEOUT,
    OPT_HOSTNAME,
};

static const struct option create_longopts[] = {
    {"cap-add", required_argument, NULL, OPT_CAP_ADD},
    {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
    {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, OPT_ENV_FILE},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"interactive", no_argument, NULL, 'i'},
    {"memory", required_argument, NULL, 'm'},
    {"name", required_argument, NULL, OPT_NAME},
    {"network", required_argument, NULL, OPT_NETWORK},
    {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
    {"read-only", no_argument, NULL, OPT_READ_ONLY},
    {"rm", no_argument, NULL, OPT_RM},
    {"security-opt", required_argument, NULL, OPT_SECURITY_OPT},
    {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
    {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
    {"tty", no_argument, NULL, 't'},
    {"user", required_argument, NULL, 'u'},
    {"volume", required_argument, NULL, 'v'},
    {"workdir", required_argument, NULL, 'w'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
static const char create_shortopts[] = "e:him:tu:v:w:";

/* Where the options end: the index of the first argument that is not an option or an option's
 * value (or argc). getopt only sees argv up to there, so nothing after IMAGE is permuted. */
static int options_end(int argc, char **argv)
{
    int i = 1;
    while (i < argc) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return i + 1 < argc ? i + 1 : argc;
        if (a[0] != '-' || a[1] == '\0')
            return i;
        if (a[1] == '-') {
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            bool takes = false;
            for (const struct option *o = create_longopts; o->name; o++)
                if (strlen(o->name) == n && strncmp(o->name, a + 2, n) == 0)
                    takes = o->has_arg == required_argument;
            i += (takes && eq == NULL) ? 2 : 1;
            continue;
        }
        int skip = 1;
        for (const char *p = a + 1; *p; p++) {
            const char *o = strchr(create_shortopts, *p);
            if (o && o[1] == ':') {
                if (p[1] == '\0')
                    skip = 2;
                break;
            }
        }
        i += skip;
    }
    return argc;
}

/* docker's RAMInBytes: a number with an optional unit b, k, m, g, t (optionally followed by b). */
static int parse_memory(const char *s, int64_t *out, struct lb_error **err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0 || !isfinite(v))
        goto bad;
    double mult = 1;
    if (*end) {
        switch (tolower((unsigned char)*end)) {
        case 'b':
            mult = 1;
            break;
        case 'k':
            mult = 1024.0;
            break;
        case 'm':
            mult = 1024.0 * 1024;
            break;
        case 'g':
            mult = 1024.0 * 1024 * 1024;
            break;
        case 't':
            mult = 1024.0 * 1024 * 1024 * 1024;
            break;
        default:
            goto bad;
        }
        end++;
        if (mult != 1 && tolower((unsigned char)*end) == 'b')
            end++;
        if (*end)
            goto bad;
    }
    *out = (int64_t)(v * mult);
    return 0;
bad:
    return lb_error_setk(err, LB_EKIND_USAGE, 0,
                         "invalid argument \"%s\" for \"-m, --memory\" flag: invalid size", s);
}

static int parse_int(const char *flag, const char *s, int64_t min, int64_t *out,
                     struct lb_error **err)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min)
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "invalid argument \"%s\" for \"%s\" flag", s,
                             flag);
    *out = v;
    return 0;
}

/* "-e K": K's value from our environment, as docker's CLI does; left as "K" when unset (the plan
 * then removes K). */
static void add_env(struct lb_run_opts *o, const char *kv)
{
    const char *v = strchr(kv, '=') ? NULL : getenv(kv);
    if (v != NULL) {
        _cleanup_free_ char *full = lb_xasprintf("%s=%s", kv, v);
        lb_strv_push(&o->env, full);
    } else {
        lb_strv_push(&o->env, kv);
    }
}

/* --env-file: one K=V (or K) per line; blank lines and '#' comments skipped. */
static int read_env_file(struct lb_run_opts *o, const char *path, struct lb_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (lb_read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, err) < 0)
        return lb_error_wrap(err, "reading env file");
    char *line = text;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != '#')
            add_env(o, p);
        line = nl ? nl + 1 : NULL;
    }
    lb_strv_push(&o->env_files, path);
    return 0;
}

int lb_cli_create_parse(struct lb_cli_create *c, int argc, char **argv, const char *usage,
                        struct lb_error **err)
{
    *c = (struct lb_cli_create){.stop_timeout = -1};
    struct lb_run_opts *o = &c->opts;
    int end = options_end(argc, argv);
    int ch;
    while ((ch = lb_cli_getopt(end, argv, create_shortopts, create_longopts, err)) != -1) {
        switch (ch) {
        case 'e':
            add_env(o, optarg);
            break;
        case OPT_HOSTNAME:
            o->hostname = optarg;
            break;
        case 'i':
            o->interactive = true;
            break;
        case 't':
            o->tty = true;
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'v':
            lb_strv_push(&c->volumes, optarg);
            break;
        case 'w':
            /* refused here, before anything is created, as docker refuses it */
            if (optarg[0] != '\0' && optarg[0] != '/')
                return lb_error_setk(err, LB_EKIND_USAGE, 0,
                                     "the working directory '%s' is invalid, it needs to be an "
                                     "absolute path",
                                     optarg);
            o->workdir = optarg;
            break;
        case 'm':
            if (parse_memory(optarg, &o->memory_bytes, err) < 0)
                return -1;
            break;
        case OPT_CAP_ADD:
            lb_strv_push(&o->cap_add, optarg);
            break;
        case OPT_CAP_DROP:
            lb_strv_push(&o->cap_drop, optarg);
            break;
        case OPT_CPUS: {
            char *e = NULL;
            errno = 0;
            o->cpus = strtod(optarg, &e);
            if (errno || e == optarg || *e || o->cpus < 0 || !isfinite(o->cpus))
                return lb_cli_usage_error(err, argv[0],
                                          "invalid argument \"%s\" for \"--cpus\" flag", optarg);
            break;
        }
        case OPT_ENTRYPOINT:
            o->entrypoint = optarg;
            break;
        case OPT_ENV_FILE:
            if (read_env_file(o, optarg, err) < 0)
                return -1;
            break;
        case OPT_NAME:
            c->name = optarg;
            break;
        case OPT_NETWORK:
            if (strcmp(optarg, "none") == 0)
                o->network = LB_NET_NONE;
            else if (strcmp(optarg, "host") == 0)
                o->network = LB_NET_HOST;
            else
                return lb_cli_usage_error(
                    err, argv[0], "network '%s' is not supported: use none or host", optarg);
            break;
        case OPT_PIDS_LIMIT:
            if (parse_int("--pids-limit", optarg, -1, &o->pids_limit, err) < 0)
                return -1;
            break;
        case OPT_READ_ONLY:
            o->read_only = true;
            break;
        case OPT_RM:
            c->auto_remove = true;
            break;
        case OPT_SECURITY_OPT:
            if (strcmp(optarg, "no-new-privileges") == 0 ||
                strcmp(optarg, "no-new-privileges=true") == 0 ||
                strcmp(optarg, "no-new-privileges:true") == 0)
                o->no_new_privileges = true;
            else
                return lb_cli_usage_error(err, argv[0], "unsupported security option '%s'", optarg);
            break;
        case OPT_STOP_SIGNAL:
            c->stop_signal = optarg;
            break;
        case OPT_STOP_TIMEOUT: {
            int64_t v = 0;
            if (parse_int("--stop-timeout", optarg, -1, &v, err) < 0)
                return -1;
            c->stop_timeout = (int)v;
            break;
        }
        case 'h':
            lb_cli_usage(usage);
            return 0;
        default:
            return -1;
        }
    }
    if (optind >= argc)
        return lb_cli_usage_error(err, argv[0], "\"%s\" requires at least 1 argument", argv[0]);
    c->image = argv[optind];
    if (optind + 1 < argc) {
        o->cmd = lb_xmalloc(sizeof(char *));
        for (int i = optind + 1; i < argc; i++)
            lb_strv_push(&o->cmd, argv[i]);
    }
    return 1;
}

void lb_cli_create_release(struct lb_cli_create *c)
{
    lb_strv_free(c->opts.cmd);
    lb_strv_free(c->opts.env);
    lb_strv_free(c->opts.env_files);
    lb_strv_free(c->opts.cap_add);
    lb_strv_free(c->opts.cap_drop);
    lb_strv_free(c->volumes);
    *c = (struct lb_cli_create){0};
}

struct lb_create_request lb_cli_create_request(const struct lb_cli_create *c)
{
    return (struct lb_create_request){.image = c->image,
                                      .name = c->name,
                                      .opts = &c->opts,
                                      .auto_remove = c->auto_remove,
                                      .stop_signal = c->stop_signal,
                                      .stop_timeout = c->stop_timeout,
                                      .volumes = c->volumes};
}

int lb_cmd_create(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    cli->fail_code = 125; /* docker: create's own failures exit 125 */
    struct lb_cli_create c;
    int r = lb_cli_create_parse(&c, argc, argv, create_usage, err);
    if (r <= 0) {
        lb_cli_create_release(&c);
        return r;
    }
    struct lb_store *s = NULL;
    int rc = -1;
    if (lb_cli_store(cli, &s, err) == 0) {
        struct lb_create_request req = lb_cli_create_request(&c);
        struct lb_container *ct = lb_lifecycle_create(s, &req, err);
        if (ct != NULL) {
            printf("%s\n", ct->id);
            lb_container_free(ct);
            rc = 0;
        }
    }
    lb_cli_create_release(&c);
    return rc;
}
