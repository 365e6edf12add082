/* reference.c — image names: what "busybox" means, and why it is
 * "docker.io/library/busybox:latest".
 *
 * The concept: an image is stored under one fully qualified name (domain, repository path, tag
 * and/or digest) but people type a short "familiar" one. This file turns the short form into the
 * full one exactly as docker does (github.com/distribution/reference: ParseNormalizedNamed,
 * TagNameOnly) and back (FamiliarName, FamiliarString), so a name means the same image in
 * layerbox, docker and podman. Sits on core/error, core/util and image/digest (lb_digest_parse
 * checks the "@sha256:..." part).
 *
 * The grammar is checked by hand rather than with a regex engine, one small function per
 * production, so each rule can be read next to the grammar in reference.h.
 *
 * Interface: lb_reference_parse, lb_reference_release, lb_reference_name, lb_reference_string,
 *            lb_reference_familiar_name, lb_reference_familiar_string, lb_reference_new_image_name
 */
#include "image/reference.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "image/digest.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DOMAIN        "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_REPO_PREFIX  "library/"
#define DEFAULT_TAG           "latest"
#define NAME_TOTAL_LENGTH_MAX 255
#define TAG_LENGTH_MAX        128

#define BAD_FORMAT "invalid reference format"

/* Character classes in plain ASCII: the grammar is ASCII and must not depend on the locale. */
static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || is_upper(c);
}

static bool is_xdigit(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* \w in Go's regexp: [0-9A-Za-z_]. */
static bool is_word(char c)
{
    return is_alnum(c) || c == '_';
}

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_upper(s[i]))
            return true;
    return false;
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator := [._] | "__" | "-"+ */
static bool valid_path_component(const char *c, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_lower_alnum(c[0]))
        return false;
    for (;;) {
        while (i < n && is_lower_alnum(c[i]))
            i++;
        if (i == n)
            return true;
        if (c[i] == '.') {
            i++;
        } else if (c[i] == '_') {
            i++;
            if (i < n && c[i] == '_')
                i++;
        } else if (c[i] == '-') {
            while (i < n && c[i] == '-')
                i++;
        } else {
            return false;
        }
        if (i == n || !is_lower_alnum(c[i]))
            return false; /* a separator must be followed by an alphanumeric run */
    }
}

/* domain := host [":" port]   host := domain-name | "[" IPv6 "]"
 * domain-name := component ("." component)*   component := [a-zA-Z0-9] |
 * [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool valid_domain(const char *d, size_t n)
{
    const char *p = d, *end = d + n;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', n);
        if (close == NULL || close == p + 1)
            return false;
        for (const char *q = p + 1; q < close; q++)
            if (!is_xdigit(*q) && *q != ':')
                return false;
        p = close + 1;
    } else {
        for (;;) {
            const char *start = p;
            while (p < end && (is_alnum(*p) || *p == '-'))
                p++;
            if (p == start || *start == '-' || p[-1] == '-')
                return false;
            if (p < end && *p == '.') {
                p++;
                continue;
            }
            break;
        }
    }
    if (p < end && *p == ':') {
        const char *start = ++p;
        while (p < end && is_digit(*p))
            p++;
        if (p == start)
            return false;
    }
    return p == end;
}

/* tag := [\w][\w.-]{0,127} */
static bool valid_tag(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > TAG_LENGTH_MAX || !is_word(t[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word(t[i]) && t[i] != '.' && t[i] != '-')
            return false;
    return true;
}

/* Checks every '/'-separated component of path; on failure bad and badlen name the culprit. */
static bool valid_path(const char *path, const char **bad, size_t *badlen)
{
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!valid_path_component(p, n)) {
            *bad = p;
            *badlen = n;
            return false;
        }
        if (slash == NULL)
            return true;
        p = slash + 1;
    }
}

/* splitDockerDomain: the first component is a domain only if it looks like one ('.' or ':'),
 * is "localhost", or has an uppercase letter (a path never does); otherwise the image lives on
 * Docker Hub, where a single-component name is an official image under "library/". */
static void split_docker_domain(const char *s, char **domain, char **remainder)
{
    const char *slash = strchr(s, '/');
    if (slash == NULL) {
        *domain = lb_xstrdup(DEFAULT_DOMAIN);
        *remainder = lb_xstrdup(s);
    } else {
        size_t n = (size_t)(slash - s);
        bool looks_like_domain = memchr(s, '.', n) != NULL || memchr(s, ':', n) != NULL ||
                                 (n == 9 && memcmp(s, "localhost", 9) == 0) || has_upper(s, n);
        if (looks_like_domain) {
            *domain = lb_xstrndup(s, n);
            *remainder = lb_xstrdup(slash + 1);
        } else {
            *domain = lb_xstrdup(DEFAULT_DOMAIN);
            *remainder = lb_xstrdup(s);
        }
    }
    if (strcmp(*domain, LEGACY_DEFAULT_DOMAIN) == 0) {
        free(*domain);
        *domain = lb_xstrdup(DEFAULT_DOMAIN);
    }
    if (strcmp(*domain, DEFAULT_DOMAIN) == 0 && strchr(*remainder, '/') == NULL) {
        char *r = lb_xasprintf(OFFICIAL_REPO_PREFIX "%s", *remainder);
        free(*remainder);
        *remainder = r;
    }
}

/* An invalid domain chosen only for its uppercase letters ("Foo_bar/baz") is, for docker, a
 * repository name that must be lowercase: lowercased, the whole name would parse as a path. */
static bool domain_is_uppercase_path(const char *domain)
{
    size_t n = strlen(domain);
    if (!has_upper(domain, n))
        return false;
    _cleanup_free_ char *lower = lb_xstrdup(domain);
    for (char *p = lower; *p; p++)
        if (is_upper(*p))
            *p = (char)(*p - 'A' + 'a');
    return valid_path_component(lower, n);
}

int lb_reference_parse(struct lb_reference *ref, const char *s, int flags, struct lb_error **err)
{
    memset(ref, 0, sizeof(*ref));
    if (*s == '\0')
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             BAD_FORMAT ": repository name must have at least one component");
    if (strlen(s) == LB_DIGEST_HEX_LEN && lb_is_lower_hex(s, LB_DIGEST_HEX_LEN))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             BAD_FORMAT ": invalid repository name '%s', cannot specify 64-byte "
                                        "hexadecimal strings",
                             s);

    _cleanup_free_ char *domain = NULL;
    _cleanup_free_ char *remainder = NULL;
    split_docker_domain(s, &domain, &remainder);

    /* docker checks case on everything before the first ':' of the remainder, before the
     * grammar, so "Busybox" gets this clearer message rather than the generic one. */
    size_t remote_len = strcspn(remainder, ":");
    if (has_upper(remainder, remote_len))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             BAD_FORMAT ": repository name must be lowercase");

    /* remainder := path [":" tag] ["@" digest]; a path has neither ':' nor '@'. */
    char *digest = NULL, *tag = NULL;
    char *at = strchr(remainder, '@');
    if (at) {
        *at = '\0';
        digest = at + 1;
    }
    char *colon = strchr(remainder, ':');
    if (colon) {
        *colon = '\0';
        tag = colon + 1;
    }
    const char *path = remainder;

    if (!valid_domain(domain, strlen(domain))) {
        if (domain_is_uppercase_path(domain))
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 BAD_FORMAT ": repository name must be lowercase");
        return lb_error_setk(err, LB_EKIND_INVALID, 0, BAD_FORMAT ": invalid domain '%s'", domain);
    }
    const char *bad = NULL;
    size_t badlen = 0;
    if (!valid_path(path, &bad, &badlen)) {
        if (badlen == 0)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 BAD_FORMAT ": empty component in repository name '%s'", path);
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             BAD_FORMAT ": invalid repository name component '%.*s'", (int)badlen,
                             bad);
    }
    if (tag && !valid_tag(tag))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, BAD_FORMAT ": invalid tag '%s'", tag);
    if (strlen(domain) + 1 + strlen(path) > NAME_TOTAL_LENGTH_MAX)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             BAD_FORMAT ": repository name must not be more than %d characters",
                             NAME_TOTAL_LENGTH_MAX);
    struct lb_digest d;
    if (digest) {
        _cleanup_error_ struct lb_error *derr = NULL;
        if (lb_digest_parse(&d, digest, &derr) < 0)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, BAD_FORMAT ": %s", derr->msg);
    }

    ref->domain = lb_steal_pointer(&domain);
    ref->path = lb_xstrdup(path);
    if (tag)
        ref->tag = lb_xstrdup(tag);
    else if (!digest && !(flags & LB_REFERENCE_NO_DEFAULT_TAG))
        ref->tag = lb_xstrdup(DEFAULT_TAG);
    if (digest)
        ref->digest = lb_xstrdup(d.str);
    return 0;
}

void lb_reference_release(struct lb_reference *ref)
{
    if (ref == NULL)
        return;
    free(ref->domain);
    free(ref->path);
    free(ref->tag);
    free(ref->digest);
    memset(ref, 0, sizeof(*ref));
}

/* name + [":" tag] + ["@" digest] */
static char *with_tag_and_digest(char *name, const struct lb_reference *ref)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, name);
    free(name);
    if (ref->tag)
        lb_strbuf_addf(&sb, ":%s", ref->tag);
    if (ref->digest)
        lb_strbuf_addf(&sb, "@%s", ref->digest);
    return lb_strbuf_detach(&sb);
}

char *lb_reference_name(const struct lb_reference *ref)
{
    return lb_xasprintf("%s/%s", ref->domain, ref->path);
}

char *lb_reference_string(const struct lb_reference *ref)
{
    return with_tag_and_digest(lb_reference_name(ref), ref);
}

/* familiarizeName: drop "docker.io/", and "library/" too unless what follows has its own '/'
 * ("docker.io/library/a/b" stays "library/a/b", which parses back to the same name). */
char *lb_reference_familiar_name(const struct lb_reference *ref)
{
    if (strcmp(ref->domain, DEFAULT_DOMAIN) != 0)
        return lb_reference_name(ref);
    const char *path = ref->path;
    if (lb_str_has_prefix(path, OFFICIAL_REPO_PREFIX) &&
        strchr(path + strlen(OFFICIAL_REPO_PREFIX), '/') == NULL)
        path += strlen(OFFICIAL_REPO_PREFIX);
    return lb_xstrdup(path);
}

char *lb_reference_familiar_string(const struct lb_reference *ref)
{
    return with_tag_and_digest(lb_reference_familiar_name(ref), ref);
}

char *lb_reference_new_image_name(const char *s, const char *cmd, struct lb_error **err)
{
    struct lb_reference ref = {0};
    if (lb_reference_parse(&ref, s, 0, err) < 0)
        return NULL;
    char *full = NULL;
    if (ref.digest)
        lb_error_setk(err, LB_EKIND_INVALID, 0,
                      "'%s' has a digest: %s needs a repository[:tag] name", s, cmd);
    else
        full = lb_reference_string(&ref);
    lb_reference_release(&ref);
    return full;
}
