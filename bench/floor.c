/* bench/floor.c — the physical floor for starting a container on this machine.
 *
 * What any engine must do at the very least to run a command in a container made from an image:
 * clone into new mount, PID, UTS and IPC namespaces; make the mount tree private; mount an
 * overlay of the image's root file system (LOWER) with a fresh upper and work dir; pivot_root
 * into it and detach the old root; mount /proc; exec the command (default /bin/true). The parent
 * waits and returns the child's exit status. Nothing else: no capabilities, cgroups, records,
 * logging, user lookup or /dev. bench/run-container.sh compares `layerbox run` with this.
 *
 * The overlay is mounted inside the child's mount namespace, so it goes away with that
 * namespace when the child exits; the upper/work/merged dirs (a mkdtemp dir under SCRATCH, which
 * must not be on overlayfs) are removed by the parent at exit.
 *
 * Usage: floor LOWER SCRATCH [CMD [ARG...]]      (root; exit status: the command's, 125 on error)
 * Build: cc -O2 -static -o floor bench/floor.c   (make bench builds build/bench/floor)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_SIZE (256 * 1024)

struct child_args {
    const char *merged;
    const char *options;
    char **argv;
};

static char stack[STACK_SIZE] __attribute__((aligned(16)));

static int fail(const char *what)
{
    fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
    return 125;
}

static int child_main(void *p)
{
    const struct child_args *a = p;

    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        _exit(fail("cannot make / private"));
    if (mount("overlay", a->merged, "overlay", 0, a->options) < 0)
        _exit(fail("cannot mount overlay"));
    if (chdir(a->merged) < 0)
        _exit(fail("cannot enter the merged dir"));
    /* pivot_root(".", "."): the old root is stacked under the new one, then detached (runc). */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        _exit(fail("pivot_root"));
    if (umount2(".", MNT_DETACH) < 0)
        _exit(fail("cannot detach the old root"));
    if (chdir("/") < 0)
        _exit(fail("chdir /"));
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        _exit(fail("cannot mount /proc"));
    execv(a->argv[0], a->argv);
    fprintf(stderr, "floor: cannot execute '%s': %s\n", a->argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
        fprintf(stderr, "floor: cannot remove '%s': %s\n", path, strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    static char *default_cmd[] = { "/bin/true", NULL };
    char dir[4096], upper[4200], work[4200], merged[4200], options[13000];
    struct child_args a;
    int status = 0, rc = 125;
    pid_t pid;

    if (argc < 3) {
        fprintf(stderr, "usage: floor LOWER SCRATCH [CMD [ARG...]]\n");
        return 2;
    }
    if ((size_t)snprintf(dir, sizeof(dir), "%s/floor.XXXXXX", argv[2]) >= sizeof(dir)) {
        fprintf(stderr, "floor: scratch path too long\n");
        return 2;
    }
    if (mkdtemp(dir) == NULL)
        return fail("cannot create the scratch dir");
    snprintf(upper, sizeof(upper), "%s/upper", dir);
    snprintf(work, sizeof(work), "%s/work", dir);
    snprintf(merged, sizeof(merged), "%s/merged", dir);
    if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(merged, 0755) < 0) {
        rc = fail("cannot create upper/work/merged");
        goto out;
    }
    snprintf(options, sizeof(options), "lowerdir=%s,upperdir=%s,workdir=%s", argv[1], upper, work);

    a.merged = merged;
    a.options = options;
    a.argv = argc > 3 ? argv + 3 : default_cmd;
    pid = clone(child_main, stack + sizeof(stack),
                CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, &a);
    if (pid < 0) {
        rc = fail("clone");
        goto out;
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            rc = fail("waitpid");
            goto out;
        }
    }
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
