/* cli.h — what every command file in src/cli/ shares: the global options, the lazily opened
 * store, option-parsing helpers and the output helpers. Only src/cli/ prints; only main.c exits.
 *
 * A command is one function:
 *
 *     int lb_cmd_images(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
 *
 * argv[0] is the command name. It returns the exit code (0 on success), or -1 with *err set;
 * main.c then prints "layerbox: <message>" once and exits with cli->fail_code (1 by default,
 * as docker's image commands do; 125 for usage errors). */
#ifndef LB_CLI_CLI_H
#define LB_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "container/lifecycle.h"
#include "core/error.h"
#include "image/store.h"

struct lb_cli {
    char *root;                 /* --root, else the default root */
    bool explain;               /* --explain or LAYERBOX_EXPLAIN=1 */
    const char *storage_driver; /* --storage-driver, or NULL */
    struct lb_store store;
    bool store_open;
    int fail_code; /* exit code for -1 returns; commands may change it */
};

/* Open the store on first use. */
int lb_cli_store(struct lb_cli *cli, struct lb_store **out, struct lb_error **err);

typedef int (*lb_cmd_fn)(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);

struct lb_command {
    const char *name;
    lb_cmd_fn fn;
    const char *summary; /* one line for `layerbox --help` */
};

/* Option parsing with getopt_long, turning unknown flags and missing arguments into LB_EKIND_USAGE
 * errors ("unknown flag: --x", "flag needs an argument: -o") that mention `layerbox CMD --help`.
 * Every command's long options should include {"help", no_argument, NULL, 'h'}; lb_cli_getopt
 * returns 'h' for it and the command prints its usage with lb_cli_usage and returns 0.
 * Returns the option character, -1 at the end, or -2 on error (err set). */
int lb_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
                  struct lb_error **err);

/* Print a command's usage text to stdout. */
void lb_cli_usage(const char *text);

/* One option of a command whose options only record what they were given. Set one of flag,
 * value and list (none: a flag that is accepted and ignored). */
struct lb_cli_opt {
    const char *name;   /* long name: "force" for --force */
    char shortname;     /* 'f' for -f; 0 for the long name only */
    bool *flag;         /* a flag: set to true */
    const char **value; /* takes a value: the last one given (a pointer into argv) */
    char ***list;       /* takes a value and may be repeated: each one appended (lb_strv_push) */
};

/* Parse a command's options with lb_cli_getopt (so with its errors), from opts (ended by {0}; NULL
 * for a command with no option but --help), plus --help/-h, which prints usage with lb_cli_usage.
 * Returns 1 to go on (the positional arguments start at optind), 0 when --help printed the usage
 * (the command returns 0), -1 on error (err set): a command goes `if (r <= 0) return r;`. */
int lb_cli_options(int argc, char **argv, const char *usage, const struct lb_cli_opt *opts,
                   struct lb_error **err);

/* A usage error: "<msg> (see 'layerbox <cmd> --help')". Returns -1. */
int lb_cli_usage_error(struct lb_error **err, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Require between min and max positional arguments (max < 0: no limit; max == 0: "accepts no
 * arguments"), from optind. */
int lb_cli_nargs(int argc, char **argv, int min, int max, struct lb_error **err);

/* Parse a non-negative integer option value. */
int lb_cli_parse_uint(const char *cmd, const char *flag, const char *s, unsigned long *out,
                      struct lb_error **err);

/* Print a warning line "layerbox: warning: ..." to stderr. */
void lb_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For a command that tries every argument and fails if any failed (inspect, rmi): make e the
 * last error, after printing the one it replaces (if any) as main.c prints the last one,
 * "layerbox: <message>" on stderr (stdout flushed first, so the lines keep their order). */
void lb_cli_keep_last(struct lb_error **last, struct lb_error *e);

/* docker's pattern for commands over several containers (stop, kill, restart, rm): call fn for
 * each positional argument from optind, print the argument on stdout when fn succeeds, report
 * every failure but the last on stderr and return -1 with the last one. */
typedef int (*lb_cli_each_fn)(struct lb_store *s, const char *arg, void *data,
                              struct lb_error **err);
int lb_cli_each_container(struct lb_store *s, int argc, char **argv, lb_cli_each_fn fn, void *data,
                          struct lb_error **err);

/* The output of save and export: -o FILE (out != NULL) or stdout, which must not be a terminal
 * (docker's "cowardly refusing to save to a terminal"): lb_cli_output_check says so before any
 * work. lb_cli_output_write calls write(fd, data, err) on stdout, or on a temp file next to FILE
 * (mode 0666 & ~umask) and renames it: a failure leaves no FILE behind. */
typedef int (*lb_cli_write_fn)(int fd, void *data, struct lb_error **err);
int lb_cli_output_check(const char *out, struct lb_error **err);
int lb_cli_output_write(const char *out, lb_cli_write_fn write, void *data, struct lb_error **err);

/* -t/--time: seconds for stop and restart (capped), or -1 when not given. */
int lb_cli_parse_timeout(const char *cmd, const char *s, int *out, struct lb_error **err);

/* The options create and run share (create.c): docker's flags, parsed up to IMAGE. */
struct lb_cli_create {
    struct lb_run_opts opts; /* owns cmd, env, env_files, cap_add, cap_drop; the rest point
                                into argv */
    char **volumes;          /* -v specs as given (owned), or NULL */
    const char *image;
    const char *name;
    bool auto_remove;
    const char *stop_signal;
    int stop_timeout;
};

/* The option lines of create's and run's usage. */
#define LB_CLI_CREATE_OPTIONS_USAGE                                                                \
    "      --cap-add list          Add Linux capabilities\n"                                       \
    "      --cap-drop list         Drop Linux capabilities\n"                                      \
    "      --cpus decimal          Number of CPUs\n"                                               \
    "      --entrypoint string     Overwrite the default ENTRYPOINT of the image\n"                \
    "  -e, --env list              Set environment variables (K=V, or K: taken from ours)\n"       \
    "      --env-file list         Read in a file of environment variables\n"                      \
    "      --hostname string       Container host name (default: the short ID)\n"                  \
    "  -i, --interactive           Keep STDIN open\n"                                              \
    "  -m, --memory bytes          Memory limit (e.g. 64m)\n"                                      \
    "      --name string           Assign a name to the container\n"                               \
    "      --network string        none or host (default host)\n"                                  \
    "      --pids-limit int        Tune container pids limit (-1 for unlimited)\n"                 \
    "      --read-only             Mount the container's root filesystem as read only\n"           \
    "      --rm                    Automatically remove the container when it exits\n"             \
    "      --security-opt list     Security options (no-new-privileges)\n"                         \
    "      --stop-signal string    Signal to stop the container\n"                                 \
    "      --stop-timeout int      Timeout (in seconds) to stop a container\n"                     \
    "  -t, --tty                   Allocate a pseudo-TTY (accepted; the terminal is ours)\n"       \
    "  -u, --user string           Username or UID (format: <name|uid>[:<group|gid>])\n"           \
    "  -v, --volume list           Bind mount a volume (/host:/ctr[:ro], name:/ctr[:ro], /ctr)\n"  \
    "  -w, --workdir string        Working directory inside the container\n"                       \
    "  -h, --help                  Print this help\n"

/* Parse create/run's options (getopt stops at IMAGE; what follows is the command). Returns 1 to
 * go on, 0 when --help printed usage, -1 on error. Release with lb_cli_create_release always. */
int lb_cli_create_parse(struct lb_cli_create *c, int argc, char **argv, const char *usage,
                        struct lb_error **err);
void lb_cli_create_release(struct lb_cli_create *c);
/* The lifecycle request for c (borrowing from it). */
struct lb_create_request lb_cli_create_request(const struct lb_cli_create *c);

/* Commands (one file each). */
int lb_cmd_version(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_info(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_image(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_images(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_tag(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_rmi(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_inspect(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_layers(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_history(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_import(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_load(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_save(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_create(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_run(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_start(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_rm(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_ps(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_top(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_volume(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_stop(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_kill(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_logs(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_wait(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_rename(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_restart(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_cp(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_commit(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_diff(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);
int lb_cmd_export(struct lb_cli *cli, int argc, char **argv, struct lb_error **err);

#endif
