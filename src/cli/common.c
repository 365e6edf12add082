/* common.c — option parsing and output helpers shared by the command files.
 *
 * Interface: lb_cli_store, lb_cli_getopt, lb_cli_usage, lb_cli_usage_error, lb_cli_nargs,
 *            lb_cli_parse_uint, lb_cli_warn
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int lb_cli_store(struct lb_cli *cli, struct lb_store **out, struct lb_error **err)
{
    if (!cli->store_open) {
        if (lb_store_open(&cli->store, cli->root, err) < 0)
            return -1;
        cli->store.requested_driver = cli->storage_driver; /* load/import unpack with it */
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

int lb_cli_nargs(int argc, char **argv, int min, int max, struct lb_error **err)
{
    int n = argc - optind;
    if (n < min || (max >= 0 && n > max)) {
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
