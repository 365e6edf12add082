/* common.c — option parsing and output helpers shared by the command files.
 *
 * Interface: lb_cli_store, lb_cli_getopt, lb_cli_usage, lb_cli_options, lb_cli_usage_error,
 *            lb_cli_nargs, lb_cli_parse_uint, lb_cli_warn, lb_cli_keep_last,
 *            lb_cli_each_container, lb_cli_parse_timeout, lb_cli_output_check,
 *            lb_cli_output_write
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lb_cli_store(struct lb_cli *cli, struct lb_store **out, struct lb_error **err)
{
    if (!cli->store_open) {
        if (lb_store_open(&cli->store, cli->root, err) < 0)
            return -1;
        cli->store.requested_driver = cli->storage_driver; /* load/import unpack with it */
        lb_lifecycle_register(&cli->store); /* rmi asks the containers who uses an image */
        cli->store_open = true;
    }
    *out = &cli->store;
    return 0;
}

int lb_cli_usage_error(struct lb_error **err, const char *cmd, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        lb_oom();
    va_end(ap);
    return lb_error_setk(err, LB_EKIND_USAGE, 0, "%s (see 'layerbox %s --help')", msg, cmd);
}

int lb_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
                  struct lb_error **err)
{
    _cleanup_free_ char *opts = lb_xasprintf(":%s", shortopts); /* ':' → report missing args */
    opterr = 0;
    int c = getopt_long(argc, argv, opts, longopts, NULL);
    if (c == '?') {
        const char *bad = argv[optind - 1];
        if (optopt && (bad == NULL || !lb_str_has_prefix(bad, "--")))
            lb_cli_usage_error(err, argv[0], "unknown shorthand flag: '%c' in -%c", optopt, optopt);
        else
            lb_cli_usage_error(err, argv[0], "unknown flag: %s", bad ? bad : "?");
        return -2;
    }
    if (c == ':') {
        const char *bad = argv[optind - 1];
        lb_cli_usage_error(err, argv[0], "flag needs an argument: %s", bad ? bad : "?");
        return -2;
    }
    return c;
}

void lb_cli_usage(const char *text)
{
    fputs(text, stdout);
}

/* The getopt value of opts[i]: its short name, else one above every character. */
static int opt_val(const struct lb_cli_opt *opts, size_t i)
{
    return opts[i].shortname ? opts[i].shortname : 256 + (int)i;
}

int lb_cli_options(int argc, char **argv, const char *usage, const struct lb_cli_opt *opts,
                   struct lb_error **err)
{
    size_t n = 0;
    while (opts && opts[n].name)
        n++;
    /* The getopt_long tables, --help last as the commands always had it. */
    _cleanup_free_ struct option *longopts = lb_xmalloc((n + 2) * sizeof(*longopts));
    _cleanup_free_ char *shortopts = lb_xmalloc(2 * n + 2);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool takes_value = opts[i].value || opts[i].list;
        longopts[i] = (struct option){opts[i].name, takes_value ? required_argument : no_argument,
                                      NULL, opt_val(opts, i)};
        if (opts[i].shortname) {
            shortopts[k++] = opts[i].shortname;
            if (takes_value)
                shortopts[k++] = ':';
        }
    }
    longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n + 1] = (struct option){NULL, 0, NULL, 0};
    shortopts[k++] = 'h';
    shortopts[k] = '\0';

    int c;
    while ((c = lb_cli_getopt(argc, argv, shortopts, longopts, err)) != -1) {
        if (c == 'h') {
            lb_cli_usage(usage);
            return 0;
        }
        size_t i = 0;
        while (i < n && opt_val(opts, i) != c)
            i++;
        if (i == n)
            return -1; /* -2: lb_cli_getopt set err */
        if (opts[i].value)
            *opts[i].value = optarg;
        else if (opts[i].list)
            lb_strv_push(opts[i].list, optarg);
        else if (opts[i].flag)
            *opts[i].flag = true;
    }
    return 1;
}

int lb_cli_nargs(int argc, char **argv, int min, int max, struct lb_error **err)
{
    int n = argc - optind;
    if (n < min || (max >= 0 && n > max)) {
        if (max == 0)
            return lb_cli_usage_error(err, argv[0], "\"%s\" accepts no arguments", argv[0]);
        if (min == max)
            return lb_cli_usage_error(err, argv[0], "\"%s\" requires exactly %d argument%s",
                                      argv[0], min, min == 1 ? "" : "s");
        if (n < min)
            return lb_cli_usage_error(err, argv[0], "\"%s\" requires at least %d argument%s",
                                      argv[0], min, min == 1 ? "" : "s");
        return lb_cli_usage_error(err, argv[0], "\"%s\" requires at most %d argument%s", argv[0],
                                  max, max == 1 ? "" : "s");
    }
    return 0;
}

int lb_cli_parse_uint(const char *cmd, const char *flag, const char *s, unsigned long *out,
                      struct lb_error **err)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || *s == '-')
        return lb_cli_usage_error(err, cmd, "invalid argument \"%s\" for \"%s\" flag", s, flag);
    *out = v;
    return 0;
}

void lb_cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("layerbox: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void lb_cli_keep_last(struct lb_error **last, struct lb_error *e)
{
    if (*last != NULL) {
        _cleanup_free_ char *msg = lb_error_string(*last);
        fflush(stdout);
        fprintf(stderr, "layerbox: %s\n", msg);
        lb_error_free(*last);
    }
    *last = e;
}

int lb_cli_each_container(struct lb_store *s, int argc, char **argv, lb_cli_each_fn fn, void *data,
                          struct lb_error **err)
{
    struct lb_error *last = NULL;
    for (int i = optind; i < argc; i++) {
        struct lb_error *e = NULL;
        if (fn(s, argv[i], data, &e) < 0) {
            lb_cli_keep_last(&last, e);
        } else {
            printf("%s\n", argv[i]);
            fflush(stdout);
        }
    }
    if (last == NULL)
        return 0;
    *err = last;
    return -1;
}

int lb_cli_parse_timeout(const char *cmd, const char *s, int *out, struct lb_error **err)
{
    *out = -1;
    if (s == NULL)
        return 0;
    unsigned long v = 0;
    if (lb_cli_parse_uint(cmd, "--time", s, &v, err) < 0)
        return -1;
    *out = v > 1000000 ? 1000000 : (int)v;
    return 0;
}

int lb_cli_output_check(const char *out, struct lb_error **err)
{
    if (out == NULL && isatty(STDOUT_FILENO))
        return lb_error_set(err, 0,
                            "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    return 0;
}

/* Create "<dir>/.<base>.tmp-XXXXXX" next to path, mode 0666 & ~umask; *tmp gets its name. */
static int open_temp(const char *path, char **tmp, struct lb_error **err)
{
    _cleanup_free_ char *d = lb_xstrdup(path), *b = lb_xstrdup(path);
    char *t = lb_xasprintf("%s/.%s.tmp-XXXXXX", dirname(d), basename(b));
    int fd = mkostemp(t, O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        free(t);
        return lb_error_set(err, saved, "cannot write '%s'", path);
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    *tmp = t;
    return fd;
}

int lb_cli_output_write(const char *out, lb_cli_write_fn write_fn, void *data,
                        struct lb_error **err)
{
    if (out == NULL) {
        fflush(stdout);
        return write_fn(STDOUT_FILENO, data, err);
    }
    _cleanup_free_ char *tmp = NULL;
    int fd = open_temp(out, &tmp, err);
    if (fd < 0)
        return -1;
    /* No fsync: an output file is the user's, durable as any file cp or tar writes (docker's
     * -o does not sync either); the rename makes it appear whole or not at all. */
    int rc = write_fn(fd, data, err);
    if (close(fd) < 0 && rc == 0)
        rc = lb_error_set(err, errno, "cannot write '%s'", out);
    if (rc == 0 && rename(tmp, out) < 0)
        rc = lb_error_set(err, errno, "cannot write '%s'", out);
    if (rc < 0)
        unlink(tmp);
    return rc;
}
