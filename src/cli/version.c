/* version.c — `layerbox version`: what this binary is and what it was built from and with.
 * The library versions come from the libraries themselves at run time (the shared objects
 * actually loaded), not from the headers seen at build time.
 *
 * Sits on: libarchive, jansson and OpenSSL's version calls; cli/output.h for --format.
 * Interface: lb_cmd_version
 */
#include "cli/cli.h"
#include "cli/output.h"
#include "core/cleanup.h"
#include "core/json.h"
#include "core/util.h"

#include <archive.h>
#include <jansson.h>
#include <openssl/opensslv.h>
#include <stdio.h>
#include <string.h>

#ifndef LB_VERSION
#define LB_VERSION "unknown"
#endif
#ifndef LB_GIT_REV
#define LB_GIT_REV "unknown"
#endif

#if defined(__clang__)
#define LB_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define LB_COMPILER "gcc " __VERSION__
#else
#define LB_COMPILER "unknown compiler"
#endif

/* Go's GOARCH names, as docker prints OS/Arch. */
#if defined(__x86_64__)
#define LB_ARCH "amd64"
#elif defined(__aarch64__)
#define LB_ARCH "arm64"
#elif defined(__i386__)
#define LB_ARCH "386"
#elif defined(__arm__)
#define LB_ARCH "arm"
#elif defined(__riscv) && __riscv_xlen == 64
#define LB_ARCH "riscv64"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LB_ARCH "ppc64le"
#elif defined(__s390x__)
#define LB_ARCH "s390x"
#else
#define LB_ARCH "unknown"
#endif

static const char version_usage[] =
    "Usage:  layerbox version [OPTIONS]\n"
    "\n"
    "Show the layerbox version, the commit it was built from, the compiler, and the versions of\n"
    "the libraries it uses (as loaded at run time).\n"
    "\n"
    "Options:\n"
    "  -f, --format string   Format the output using the given Go template\n"
    "                        (fields: .Version .GitCommit .BuiltWith .Libarchive .Jansson\n"
    "                        .OpenSSL .Os .Arch; 'json' prints them as JSON)\n"
    "  -h, --help            Print this help\n";

/* "libarchive 3.6.2" → "3.6.2" */
static const char *libarchive_version(void)
{
    const char *v = archive_version_string();
    if (v && lb_str_has_prefix(v, "libarchive "))
        v += strlen("libarchive ");
    return v ? v : "unknown";
}

static json_t *version_json(void)
{
    return lb_out_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Version", LB_VERSION,
                       "GitCommit", LB_GIT_REV, "BuiltWith", LB_COMPILER, "Libarchive",
                       libarchive_version(), "Jansson", jansson_version_str(), "OpenSSL",
                       OPENSSL_VERSION_STR, "Os", "linux", "Arch", LB_ARCH);
}

int lb_cmd_version(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    (void)cli;
    const char *format = NULL;
    const struct lb_cli_opt opts[] = {{"format", 'f', .value = &format}, {0}};
    int r = lb_cli_options(argc, argv, version_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 0, 0, err) < 0)
        return -1;

    _cleanup_json_ json_t *v = version_json();
    if (format != NULL && *format != '\0')
        return lb_out_object(format, v, err) < 0 ? -1 : 0;

    printf("layerbox:\n");
    printf(" Version:       %s\n", lb_json_str(v, "Version"));
    printf(" Git commit:    %s\n", lb_json_str(v, "GitCommit"));
    printf(" Built with:    %s\n", lb_json_str(v, "BuiltWith"));
    printf(" libarchive:    %s\n", lb_json_str(v, "Libarchive"));
    printf(" jansson:       %s\n", lb_json_str(v, "Jansson"));
    printf(" OpenSSL:       %s\n", lb_json_str(v, "OpenSSL"));
    printf(" OS/Arch:       %s/%s\n", lb_json_str(v, "Os"), lb_json_str(v, "Arch"));
    return 0;
}
