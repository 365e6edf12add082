/* names.c — what a container may be called, and a friendly name when the user gives none.
 *
 * The concept: an ID is for machines (64 random hex), a name is for people. docker invents
 * "adjective_surname" names from two word lists (moby pkg/namesgenerator); these are layerbox's
 * own lists, with the people who built the systems this project stands on. Sits on core only.
 *
 * Interface: lb_names_validate, lb_names_strip_slash, lb_names_generate, lb_names_adjectives,
 *            lb_names_surnames
 */
#include "container/names.h"
#include "core/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char *const adjectives[] = {
    "agile",    "amused",   "ancient", "bold",    "brave",    "bright",   "busy",    "calm",
    "careful",  "cheerful", "clever",  "cosmic",  "curious",  "daring",   "eager",   "earnest",
    "elegant",  "fearless", "festive", "focused", "friendly", "gentle",   "gifted",  "glad",
    "graceful", "happy",    "honest",  "humble",  "jolly",    "keen",     "kind",    "lively",
    "lucid",    "merry",    "modest",  "nimble",  "patient",  "peaceful", "playful", "quiet",
    "quirky",   "rapid",    "serene",  "sharp",   "sleepy",   "steady",   "swift",   "tidy",
    "upbeat",   "vivid",    "witty",   "zealous",
};

static const char *const surnames[] = {
    "allen",    "babbage",   "backus",    "bartik",  "berners",    "cerf",       "corbato",
    "curie",    "dijkstra",  "engelbart", "euler",   "feynman",    "franklin",   "gauss",
    "goldberg", "hamilton",  "hoare",     "hopper",  "hypatia",    "johnson",    "kahn",
    "kay",      "kernighan", "knuth",     "lamarr",  "lamport",    "liskov",     "lovelace",
    "mccarthy", "mcilroy",   "meitner",   "minsky",  "noether",    "ossanna",    "perlman",
    "pike",     "ramanujan", "ritchie",   "shannon", "shaw",       "sutherland", "tanenbaum",
    "thompson", "torvalds",  "turing",    "vaughan", "vonneumann", "wilkes",     "wing",
    "wirth",
};

static bool name_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return !first && (c == '_' || c == '.' || c == '-');
}

int lb_names_validate(const char *name, struct lb_error **err)
{
    if (name == NULL || *name == '\0')
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "container name cannot be empty");
    size_t len = strlen(name);
    if (len > LB_NAME_MAX)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "invalid container name '%.32s…': longer than %d characters", name,
                             LB_NAME_MAX);
    for (size_t i = 0; i < len; i++)
        if (!name_char(name[i], i == 0))
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "invalid container name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                 "allowed",
                                 name);
    return 0;
}

const char *lb_names_strip_slash(const char *name)
{
    return name && name[0] == '/' ? name + 1 : name;
}

/* A uniform-enough random number below n (n is small: modulo bias is irrelevant here). */
static unsigned random_below(unsigned n)
{
    uint32_t r = 0;
    ssize_t got;
    do
        got = getrandom(&r, sizeof(r), 0);
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof(r)) {
        /* getrandom cannot fail for 4 bytes once the pool is ready; use the clock in case. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        r = (uint32_t)ts.tv_nsec * 2654435761u;
    }
    return r % n;
}

char *lb_names_generate(unsigned retry)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_addf(&sb, "%s_%s", adjectives[random_below(LB_ARRAY_SIZE(adjectives))],
                   surnames[random_below(LB_ARRAY_SIZE(surnames))]);
    if (retry > 0)
        for (unsigned d = 0; d < 1 + retry / 16; d++)
            lb_strbuf_addc(&sb, (char)('0' + random_below(10)));
    return lb_strbuf_detach(&sb);
}

const char *const *lb_names_adjectives(unsigned *n)
{
    *n = LB_ARRAY_SIZE(adjectives);
    return adjectives;
}

const char *const *lb_names_surnames(unsigned *n)
{
    *n = LB_ARRAY_SIZE(surnames);
    return surnames;
}
