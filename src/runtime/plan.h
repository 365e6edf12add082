/* plan.h — a container's process as plain data, before anything touches the kernel.
 *
 * The concept (bubblewrap's SetupOp list): turn the image config and the command-line options into
 * a plan — argv, env, user, namespaces, mounts in order, capabilities, limits — that unit tests can
 * check without root. A separate executor (process.h) applies it. Nothing here mounts, clones or
 * writes to the kernel. */
#ifndef LB_RUNTIME_PLAN_H
#define LB_RUNTIME_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

enum lb_network_mode {
    LB_NET_HOST, /* share the host's network namespace (layerbox's default: there is no bridge) */
    LB_NET_NONE, /* a new network namespace with only lo, brought up */
};

/* What the user asked for on the command line (run/create). Every pointer may be NULL. */
struct lb_run_opts {
    char **cmd;             /* arguments after IMAGE; NULL/empty = the image's Cmd */
    const char *entrypoint; /* --entrypoint: NULL = the image's; "" = none */
    char **env;             /* -e K=V / -e K (K taken from layerbox's own environment) */
    char **env_files;       /* --env-file paths (read by the CLI into env before planning) */
    const char *workdir;    /* -w */
    const char *user;       /* -u user[:group], names or numbers */
    const char *hostname;   /* --hostname; default: the short container ID */
    bool read_only;         /* --read-only */
    enum lb_network_mode network;
    int64_t memory_bytes; /* --memory, 0 = unlimited */
    int64_t pids_limit;   /* --pids-limit, 0 = unlimited */
    double cpus;          /* --cpus, 0 = unlimited */
    char **cap_add;       /* "NET_ADMIN", "CAP_NET_ADMIN", "ALL" */
    char **cap_drop;
    bool no_new_privileges; /* --security-opt no-new-privileges */
    bool tty;               /* -t */
    bool interactive;       /* -i */
};

/* One mount of the container's root file system setup, applied in order after the root itself is
 * mounted and before pivot_root. target is inside the rootfs ("/proc"), resolved safely. */
enum lb_mount_kind {
    LB_MOUNT_PROC,   /* proc on target */
    LB_MOUNT_TMPFS,  /* tmpfs with data (e.g. "mode=755,size=65536k") */
    LB_MOUNT_DEVPTS, /* devpts, newinstance, ptmxmode=0666, mode=0620 */
    LB_MOUNT_MQUEUE,
    LB_MOUNT_SYSFS,  /* read-only sysfs (bind of the host's /sys when no netns) */
    LB_MOUNT_BIND,   /* bind source (host path) on target; flags may add MS_RDONLY */
    LB_MOUNT_DEVICE, /* bind-mount the host device node source (e.g. /dev/null) on target */
};

struct lb_mount_spec {
    enum lb_mount_kind kind;
    char *source;        /* host path for BIND/DEVICE, else NULL */
    char *target;        /* absolute path inside the container */
    unsigned long flags; /* MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY ... */
    char *data;          /* mount data string, or NULL */
    mode_t mode;         /* type and permission bits of the target to create: S_IFCHR | 0666 for
                          * DEVICE (an empty file to bind the host's node on), S_IFDIR | 0755 else */
};

struct lb_run_plan {
    /* the process */
    char **argv; /* argv[0] is looked up in PATH of env when it has no '/' */
    char **env;  /* NULL-terminated "K=V" */
    char *cwd;   /* absolute, inside the container */
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* supplementary groups (from /etc/group of the image) */
    size_t n_groups;
    char *hostname;
    bool tty;
    bool no_new_privs;
    /* capabilities kept in the bounding, permitted and effective sets (bit n = CAP number n);
     * inheritable and ambient are always empty. docker's default is 0x00000000a80425fb. */
    uint64_t caps;
    /* namespaces: CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC [| CLONE_NEWNET] */
    int clone_flags;
    /* the root file system */
    char *rootfs; /* absolute host path where the driver mounted it */
    bool readonly_rootfs;
    struct lb_mount_spec *mounts;
    size_t n_mounts;
    char **masked_paths;   /* docker's: /proc/kcore, /proc/keys, ... (bind /dev/null or ro tmpfs) */
    char **readonly_paths; /* docker's: /proc/bus, /proc/fs, /proc/irq, /proc/sys, ... */
    /* limits (cgroups) */
    int64_t memory_bytes;
    int64_t pids_limit;
    int64_t cpu_quota_us; /* with cpu_period_us 100000; 0 = unlimited */
    int64_t cpu_period_us;
    char *cgroup_name; /* "layerbox-<id>" (one directory per controller / in the v2 tree) */
};

/* docker's default capability set (CapEff 00000000a80425fb). */
#define LB_CAPS_DOCKER_DEFAULT 0x00000000a80425fbULL

/* Build the plan. image_config is the image config's "config" object (Cmd, Entrypoint, Env,
 * WorkingDir, User; may be NULL); rootfs_fd is an O_DIRECTORY fd of the container's root, used
 * to read /etc/passwd and /etc/group safely (never following a symlink out of it); rootfs is its
 * path, copied into the plan; id is the container ID (hostname default, cgroup name).
 * Errors (LB_EKIND_INVALID or LB_EKIND_USAGE) name the bad option: "unknown capability
 * 'CAP_FOO'", "unable to find user bob: no matching entries in passwd file" (docker's text), "no
 * command specified" (docker: "No command specified" — lowercase here).
 * Docker's rules, as plan.c applies them:
 *  - argv: any --entrypoint, even "", drops the image's Cmd (daemon/commit.go merge); cmd
 *    replaces Cmd; an entrypoint of [""] is none.
 *  - env: PATH (default), HOSTNAME, TERM=xterm with tty, then -e values and the image's Env
 *    over them (-e wins); "-e K" with K unset in our environment removes K, the image's too;
 *    HOME from the user's passwd entry ("/" without one) when nothing set it.
 *  - user: runtime/user.h; groups starts with the primary gid, as in docker.
 *  - caps: --cap-add ALL = every capability except those dropped; else --cap-drop ALL = only
 *    those added; else (default - dropped) + added. "ALL" is bits 0..CAP_LAST_CAP of the build's
 *    linux/capability.h: the executor drops what the running kernel does not know.
 *  - mounts: moby's defaults in their order (/proc, /dev, /dev/pts, /sys, /dev/mqueue,
 *    /dev/shm), then DEVICE binds of the host's null, zero, full, random, urandom and tty.
 *    Not in the plan (the executor's job): /dev/ptmx -> pts/ptmx and the /dev/fd, stdin,
 *    stdout, stderr symlinks.
 *  - limits: memory 0 or >= 6 MiB; pids -1 = 0 = unlimited; cpus 0.01..online CPUs, quota
 *    rounded to the microsecond; cpu_period_us is 0 with no cpu limit.
 *  - the image's /dev, /proc or /sys being a symlink (or a non-directory) is an error. */
int lb_plan_build(struct lb_run_plan *plan, const json_t *image_config,
                  const struct lb_run_opts *opts, int rootfs_fd, const char *rootfs, const char *id,
                  struct lb_error **err);
void lb_plan_release(struct lb_run_plan *plan);

/* Parse a capability name ("NET_ADMIN", "CAP_NET_ADMIN", case-insensitive) to its number. */
int lb_cap_from_name(const char *name, int *out, struct lb_error **err);

#endif
