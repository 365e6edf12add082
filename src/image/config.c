/* config.c — the Dockerfile-style changes (`import -c`, `commit -c`) that edit an image config.
 *
 * The concept: an image config is plain JSON (OCI image-spec config.json); CMD, ENV, EXPOSE …
 * are just edits of its "config" object. This file parses one instruction the way docker does
 * (buildkit's dockerfile parser and shell lexer):
 *   - CMD / ENTRYPOINT: a JSON array of strings is the exec form; anything else is the shell
 *     form, run as ["/bin/sh", "-c", <text as written>] (no quote removal, no expansion);
 *   - ENV / LABEL: "K=V K2=V2" (words split on unquoted blanks) or the old "K some value" form;
 *   - EXPOSE, VOLUME (non-JSON): blank-separated words; WORKDIR, USER, STOPSIGNAL: the whole
 *     rest as one word;
 *   - every word but CMD/ENTRYPOINT goes through the shell lexer: quotes removed, backslash
 *     escapes, $VAR / ${VAR} / ${VAR:-x} / ${VAR:+x} expanded from the config's current Env.
 * The change is applied to a copy that replaces the original only when it succeeded, so an error
 * changes nothing.
 *
 * Sits on: jansson, core/json. Interface: lb_config_apply_change, lb_config_apply_changes
 */
#include "image/config.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/explain.h"
#include "core/json.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The most ports one EXPOSE range may expand to (docker has no limit; a typo like 1-65535 should
 * not make a 65,535-key object silently). */
#define MAX_EXPOSE_RANGE 1024

struct change {
    const char *name; /* upper-case instruction */
    const char *rest; /* text after the instruction word, leading blanks skipped */
    json_t *cfg;      /* the (copied) "config" object being edited */
    char **env;       /* Env before this change, for expansion */
};

/* ---------------------------------------------------------------------------------------- */
/* The shell lexer (buildkit's shell.Lex.ProcessWord): quotes, escapes and variables.         */

static const char *env_lookup(char *const *env, const char *name, size_t len)
{
    const char *found = NULL;
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
            found = env[i] + len + 1; /* the last definition wins */
    return found;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static int lex_until(const char *s, size_t *i, char stop, char *const *env, struct lb_strbuf *sb,
                     struct lb_error **err);

/* s[*i] is just after '$'. */
static int lex_variable(const char *s, size_t *i, char *const *env, struct lb_strbuf *sb,
                        struct lb_error **err)
{
    if (s[*i] != '{') {
        size_t start = *i;
        while (is_name_char(s[*i]))
            (*i)++;
        if (*i == start) { /* "$" followed by something else is a literal dollar */
            lb_strbuf_addc(sb, '$');
            return 0;
        }
        const char *v = env_lookup(env, s + start, *i - start);
        lb_strbuf_adds(sb, v ? v : "");
        return 0;
    }
    (*i)++;
    size_t start = *i;
    while (is_name_char(s[*i]))
        (*i)++;
    size_t len = *i - start;
    if (len == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "bad substitution in '%s'", s);
    const char *v = env_lookup(env, s + start, len);
    if (s[*i] == '}') {
        (*i)++;
        lb_strbuf_adds(sb, v ? v : "");
        return 0;
    }
    bool colon = false;
    if (s[*i] == ':') {
        colon = true;
        (*i)++;
    }
    char op = s[*i];
    if (op != '-' && op != '+')
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "unsupported modifier in '%s'", s);
    (*i)++;
    struct lb_strbuf word = LB_STRBUF_INIT;
    lb_strbuf_adds(&word, "");
    if (lex_until(s, i, '}', env, &word, err) < 0) {
        lb_strbuf_release(&word);
        return -1;
    }
    if (s[*i] != '}') {
        lb_strbuf_release(&word);
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "missing '}' in '%s'", s);
    }
    (*i)++;
    bool set = v != NULL && (!colon || *v != '\0');
    if (op == '-')
        lb_strbuf_adds(sb, set ? v : word.buf);
    else if (set)
        lb_strbuf_adds(sb, word.buf);
    lb_strbuf_release(&word);
    return 0;
}

/* Process s from *i until an unquoted `stop` (or the end); *i is left on the stop character. */
static int lex_until(const char *s, size_t *i, char stop, char *const *env, struct lb_strbuf *sb,
                     struct lb_error **err)
{
    while (s[*i] != '\0' && s[*i] != stop) {
        char c = s[(*i)++];
        if (c == '\'') {
            const char *end = strchr(s + *i, '\'');
            if (end == NULL)
                return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                     "unexpected end of statement while looking for matching "
                                     "single-quote in '%s'",
                                     s);
            lb_strbuf_add(sb, s + *i, (size_t)(end - (s + *i)));
            *i = (size_t)(end - s) + 1;
        } else if (c == '"') {
            for (;;) {
                char d = s[*i];
                if (d == '\0')
                    return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                         "unexpected end of statement while looking for matching "
                                         "double-quote in '%s'",
                                         s);
                (*i)++;
                if (d == '"')
                    break;
                if (d == '\\' && (s[*i] == '"' || s[*i] == '\\' || s[*i] == '$')) {
                    lb_strbuf_addc(sb, s[(*i)++]);
                } else if (d == '$') {
                    if (lex_variable(s, i, env, sb, err) < 0)
                        return -1;
                } else {
                    lb_strbuf_addc(sb, d);
                }
            }
        } else if (c == '\\') {
            if (s[*i] != '\0')
                lb_strbuf_addc(sb, s[(*i)++]);
        } else if (c == '$') {
            if (lex_variable(s, i, env, sb, err) < 0)
                return -1;
        } else {
            lb_strbuf_addc(sb, c);
        }
    }
    return 0;
}

static char *lex_word(const char *s, char *const *env, struct lb_error **err)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    size_t i = 0;
    if (lex_until(s, &i, '\0', env, &sb, err) < 0) {
        lb_strbuf_release(&sb);
        return NULL;
    }
    return lb_strbuf_detach(&sb);
}

/* buildkit's parseWords: split on unquoted blanks, keeping quotes and escapes in the words (the
 * lexer removes them later). */
static void push_word(char ***words, struct lb_strbuf *w)
{
    lb_strv_push(words, w->buf);
    lb_strbuf_reset(w);
}

static char **split_words(const char *rest)
{
    char **words = lb_xmalloc(sizeof(char *));
    struct lb_strbuf w = LB_STRBUF_INIT;
    lb_strbuf_adds(&w, "");
    bool in_word = false, blank_ok = false;
    char quote = 0;
    for (size_t i = 0;; i++) {
        char c = rest[i];
        if (c == '\0') {
            if (in_word && (blank_ok || w.len > 0))
                push_word(&words, &w);
            break;
        }
        if (quote) {
            if (c == quote)
                quote = 0;
            else if (c == '\\' && quote != '\'' && rest[i + 1] != '\0')
                lb_strbuf_addc(&w, rest[i++]);
            lb_strbuf_addc(&w, rest[i]);
            continue;
        }
        if (isspace((unsigned char)c)) {
            if (in_word && (blank_ok || w.len > 0))
                push_word(&words, &w);
            in_word = blank_ok = false;
            continue;
        }
        in_word = true;
        if (c == '\'' || c == '"') {
            quote = c;
            blank_ok = true;
        } else if (c == '\\') {
            if (rest[i + 1] == '\0')
                continue;
            lb_strbuf_addc(&w, rest[i++]);
        }
        lb_strbuf_addc(&w, rest[i]);
    }
    lb_strbuf_release(&w);
    return words;
}

/* A JSON array of strings, as the exec form of CMD/ENTRYPOINT/VOLUME; NULL when rest is not one
 * (docker then falls back to the shell form, even for a malformed "[..."). */
static char **parse_json_strv(const char *rest)
{
    if (rest[0] != '[')
        return NULL;
    json_error_t je;
    _cleanup_json_ json_t *j = json_loads(rest, JSON_DECODE_ANY, &je);
    return j ? lb_json_to_strv(j) : NULL;
}

static void trim_right(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

static int need_args(const struct change *c, struct lb_error **err)
{
    if (c->rest[0] == '\0')
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s requires at least one argument",
                             c->name);
    return 0;
}

/* The whole rest as one lexed word (WORKDIR, USER, STOPSIGNAL). */
static char *one_word(const struct change *c, struct lb_error **err)
{
    if (c->rest[0] == '\0') {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s requires exactly one argument", c->name);
        return NULL;
    }
    _cleanup_free_ char *w = lex_word(c->rest, c->env, err);
    if (w == NULL)
        return NULL;
    if (w[0] == '\0') {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s requires exactly one argument", c->name);
        return NULL;
    }
    return lb_steal_pointer(&w);
}

/* CMD / ENTRYPOINT value: exec form or ["/bin/sh", "-c", rest]. */
static json_t *command_value(const struct change *c, struct lb_error **err)
{
    _cleanup_strv_ char **v = parse_json_strv(c->rest);
    if (v != NULL)
        return lb_json_from_strv(v);
    if (need_args(c, err) < 0)
        return NULL;
    json_t *a = json_array();
    json_array_append_new(a, json_string("/bin/sh"));
    json_array_append_new(a, json_string("-c"));
    json_array_append_new(a, json_string(c->rest));
    return a;
}

static int do_cmd(struct change *c, struct lb_error **err)
{
    json_t *v = command_value(c, err);
    if (v == NULL)
        return -1;
    json_object_set_new(c->cfg, "Cmd", v);
    return 0;
}

/* Setting ENTRYPOINT clears an inherited CMD, as docker's builder does when the same change set
 * has not set CMD (a CMD given after the ENTRYPOINT sets it again). */
static int do_entrypoint(struct change *c, struct lb_error **err)
{
    json_t *v = command_value(c, err);
    if (v == NULL)
        return -1;
    json_object_set_new(c->cfg, "Entrypoint", v);
    json_object_del(c->cfg, "Cmd");
    return 0;
}

/* buildkit's parseNameVal: the new "K=V ..." form or the old "K value" form, each key and value
 * then lexed. Calls set(key, value) for each pair. */
static int name_values(struct change *c,
                       int (*set)(struct change *, const char *, const char *, struct lb_error **),
                       struct lb_error **err)
{
    if (need_args(c, err) < 0)
        return -1;
    _cleanup_strv_ char **words = split_words(c->rest);
    if (words[0] == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s requires at least one argument",
                             c->name);
    _cleanup_strv_ char **pairs = NULL; /* raw key, raw value, key, value, ... */
    if (strchr(words[0], '=') == NULL) {
        /* old form: the first blank ends the key, the rest of the line is the value */
        size_t klen = strcspn(c->rest, " \t\r\n\v\f");
        const char *val = c->rest + klen;
        while (isspace((unsigned char)*val))
            val++;
        if (*val == '\0')
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s must have two arguments", c->name);
        _cleanup_free_ char *k = lb_xstrndup(c->rest, klen);
        lb_strv_push(&pairs, k);
        lb_strv_push(&pairs, val);
    } else {
        for (size_t i = 0; words[i]; i++) {
            char *eq = strchr(words[i], '=');
            if (eq == NULL)
                return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                     "Syntax error - can't find = in \"%s\". Must be of the "
                                     "form: name=value",
                                     words[i]);
            _cleanup_free_ char *k = lb_xstrndup(words[i], (size_t)(eq - words[i]));
            lb_strv_push(&pairs, k);
            lb_strv_push(&pairs, eq + 1);
        }
    }
    for (size_t i = 0; pairs[i]; i += 2) {
        _cleanup_free_ char *k = lex_word(pairs[i], c->env, err);
        if (k == NULL)
            return -1;
        _cleanup_free_ char *v = lex_word(pairs[i + 1], c->env, err);
        if (v == NULL)
            return -1;
        if (k[0] == '\0')
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s names can not be blank", c->name);
        if (set(c, k, v, err) < 0)
            return -1;
    }
    return 0;
}

static int set_env(struct change *c, const char *k, const char *v, struct lb_error **err)
{
    (void)err;
    json_t *env = lb_json_arr(c->cfg, "Env");
    if (env == NULL) {
        env = json_array();
        json_object_set_new(c->cfg, "Env", env);
    }
    _cleanup_free_ char *kv = lb_xasprintf("%s=%s", k, v);
    size_t klen = strlen(k);
    size_t i;
    json_t *e;
    json_array_foreach(env, i, e)
    {
        const char *s = json_string_value(e);
        if (s && strncmp(s, k, klen) == 0 && s[klen] == '=')
            return json_array_set_new(env, i, json_string(kv)) == 0 ? 0 : -1;
    }
    json_array_append_new(env, json_string(kv));
    return 0;
}

static int set_label(struct change *c, const char *k, const char *v, struct lb_error **err)
{
    (void)err;
    json_t *labels = lb_json_obj(c->cfg, "Labels");
    if (labels == NULL) {
        labels = json_object();
        json_object_set_new(c->cfg, "Labels", labels);
    }
    json_object_set_new(labels, k, json_string(v));
    return 0;
}

static int do_env(struct change *c, struct lb_error **err)
{
    return name_values(c, set_env, err);
}

static int do_label(struct change *c, struct lb_error **err)
{
    return name_values(c, set_label, err);
}

/* Blank-separated, lexed words (EXPOSE, VOLUME's non-JSON form). */
static char **lexed_words(struct change *c, struct lb_error **err)
{
    if (need_args(c, err) < 0)
        return NULL;
    _cleanup_strv_ char **raw = split_words(c->rest);
    _cleanup_strv_ char **out = lb_xmalloc(sizeof(char *));
    for (size_t i = 0; raw[i]; i++) {
        _cleanup_free_ char *w = lex_word(raw[i], c->env, err);
        if (w == NULL)
            return NULL;
        lb_strv_push(&out, w);
    }
    return lb_steal_pointer(&out);
}

static int parse_port(const char *s, const char *spec, unsigned long *out, struct lb_error **err)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || !isdigit((unsigned char)s[0]) || v > 65535)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid containerPort: %s", spec);
    *out = v;
    return 0;
}

/* "80", "80/udp", "8000-8002/tcp" → keys "80/tcp"… of ExposedPorts (docker's nat.ParsePortSpecs).
 */
static int expose_one(json_t *ports, const char *spec, struct lb_error **err)
{
    _cleanup_free_ char *port = lb_xstrdup(spec);
    char *slash = strchr(port, '/');
    _cleanup_free_ char *proto = lb_xstrdup(slash ? slash + 1 : "tcp");
    if (slash)
        *slash = '\0';
    for (char *p = proto; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid proto: %s", proto);
    unsigned long lo = 0, hi = 0;
    char *dash = strchr(port, '-');
    if (dash) {
        *dash = '\0';
        if (parse_port(port, spec, &lo, err) < 0 || parse_port(dash + 1, spec, &hi, err) < 0)
            return -1;
        if (hi < lo)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "invalid range specified for container port: %s", spec);
        if (hi - lo >= MAX_EXPOSE_RANGE)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "port range %s is too large (at most %d ports)", spec,
                                 MAX_EXPOSE_RANGE);
    } else {
        if (parse_port(port, spec, &lo, err) < 0)
            return -1;
        hi = lo;
    }
    for (unsigned long p = lo; p <= hi; p++) {
        _cleanup_free_ char *key = lb_xasprintf("%lu/%s", p, proto);
        json_object_set_new(ports, key, json_object());
    }
    return 0;
}

static int do_expose(struct change *c, struct lb_error **err)
{
    _cleanup_strv_ char **words = lexed_words(c, err);
    if (words == NULL)
        return -1;
    if (words[0] == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "EXPOSE requires at least one argument");
    json_t *ports = lb_json_obj(c->cfg, "ExposedPorts");
    if (ports == NULL) {
        ports = json_object();
        json_object_set_new(c->cfg, "ExposedPorts", ports);
    }
    for (size_t i = 0; words[i]; i++)
        if (expose_one(ports, words[i], err) < 0)
            return -1;
    return 0;
}

static int do_volume(struct change *c, struct lb_error **err)
{
    _cleanup_strv_ char **vols = parse_json_strv(c->rest);
    if (vols == NULL) {
        vols = lexed_words(c, err);
        if (vols == NULL)
            return -1;
    }
    if (vols[0] == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "VOLUME requires at least one argument");
    json_t *obj = lb_json_obj(c->cfg, "Volumes");
    if (obj == NULL) {
        obj = json_object();
        json_object_set_new(c->cfg, "Volumes", obj);
    }
    for (size_t i = 0; vols[i]; i++) {
        trim_right(vols[i]);
        if (vols[i][0] == '\0')
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "VOLUME specified can not be an empty string");
        json_object_set_new(obj, vols[i], json_object());
    }
    return 0;
}

static int do_workdir(struct change *c, struct lb_error **err)
{
    _cleanup_free_ char *w = one_word(c, err);
    if (w == NULL)
        return -1;
    _cleanup_free_ char *dir = NULL;
    if (w[0] == '/') {
        dir = lb_steal_pointer(&w); /* docker keeps an absolute WORKDIR as written */
    } else {
        const char *cur = lb_json_str(c->cfg, "WorkingDir");
        _cleanup_free_ char *joined = lb_xasprintf("/%s/%s", cur ? cur : "", w);
        dir = lb_path_clean_abs(joined);
    }
    json_object_set_new(c->cfg, "WorkingDir", json_string(dir));
    return 0;
}

static int do_user(struct change *c, struct lb_error **err)
{
    _cleanup_free_ char *w = one_word(c, err);
    if (w == NULL)
        return -1;
    json_object_set_new(c->cfg, "User", json_string(w));
    return 0;
}

static const char *const signal_names[] = {
    "ABRT", "ALRM",   "BUS",  "CHLD",   "CLD",   "CONT", "FPE",  "HUP",  "ILL",
    "INT",  "IO",     "IOT",  "KILL",   "PIPE",  "POLL", "PROF", "PWR",  "QUIT",
    "SEGV", "STKFLT", "STOP", "SYS",    "TERM",  "TRAP", "TSTP", "TTIN", "TTOU",
    "URG",  "USR1",   "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
};

/* docker's signal.ParseSignal: a number, "TERM", "SIGTERM" or "RTMIN+3". */
static bool valid_signal(const char *s)
{
    char *end = NULL;
    if (isdigit((unsigned char)s[0])) {
        unsigned long v = strtoul(s, &end, 10);
        return *end == '\0' && v >= 1 && v <= 64;
    }
    const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (size_t i = 0; i < LB_ARRAY_SIZE(signal_names); i++)
        if (strcasecmp(name, signal_names[i]) == 0)
            return true;
    if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
        const char *off = name + 5;
        if (*off == '\0')
            return true;
        if ((*off == '+' || *off == '-') && isdigit((unsigned char)off[1])) {
            unsigned long v = strtoul(off + 1, &end, 10);
            return *end == '\0' && v <= 30;
        }
    }
    return false;
}

static int do_stopsignal(struct change *c, struct lb_error **err)
{
    _cleanup_free_ char *w = one_word(c, err);
    if (w == NULL)
        return -1;
    if (!valid_signal(w))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "Invalid signal: %s", w);
    json_object_set_new(c->cfg, "StopSignal", json_string(w));
    return 0;
}

/* ONBUILD stores the trigger instruction (its name upper-cased) for images built FROM this one. */
static int do_onbuild(struct change *c, struct lb_error **err)
{
    if (need_args(c, err) < 0)
        return -1;
    size_t len = strcspn(c->rest, " \t\r\n\v\f");
    _cleanup_free_ char *trigger = lb_xstrndup(c->rest, len);
    for (char *p = trigger; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (strcmp(trigger, "ONBUILD") == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (strcmp(trigger, "FROM") == 0 || strcmp(trigger, "MAINTAINER") == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s isn't allowed as an ONBUILD trigger",
                             trigger);
    json_t *list = lb_json_arr(c->cfg, "OnBuild");
    if (list == NULL) {
        list = json_array();
        json_object_set_new(c->cfg, "OnBuild", list);
    }
    _cleanup_free_ char *line = lb_xasprintf("%s%s", trigger, c->rest + len);
    json_array_append_new(list, json_string(line));
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(struct change *c, struct lb_error **err);
} instructions[] = {
    {"CMD", do_cmd},
    {"ENTRYPOINT", do_entrypoint},
    {"ENV", do_env},
    {"EXPOSE", do_expose},
    {"LABEL", do_label},
    {"ONBUILD", do_onbuild},
    {"STOPSIGNAL", do_stopsignal},
    {"USER", do_user},
    {"VOLUME", do_volume},
    {"WORKDIR", do_workdir},
};

/* Dockerfile instructions that make no sense as a change of an existing image's config. */
static const char *const not_changes[] = {"ADD",         "ARG",        "COPY", "FROM",
                                          "HEALTHCHECK", "MAINTAINER", "RUN",  "SHELL"};

static int apply(json_t *cfg, const char *change, struct lb_error **err)
{
    const char *s = change;
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strcspn(s, " \t\r\n\v\f");
    if (len == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "empty change");
    _cleanup_free_ char *name = lb_xstrndup(s, len);
    for (char *p = name; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    _cleanup_free_ char *rest = lb_xstrdup(s + len + strspn(s + len, " \t\r\n\v\f"));
    trim_right(rest);

    for (size_t i = 0; i < LB_ARRAY_SIZE(not_changes); i++)
        if (strcmp(name, not_changes[i]) == 0)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not a valid change command",
                                 name);
    for (size_t i = 0; i < LB_ARRAY_SIZE(instructions); i++) {
        if (strcmp(name, instructions[i].name) != 0)
            continue;
        _cleanup_strv_ char **env = lb_json_to_strv(lb_json_arr(cfg, "Env"));
        struct change c = {.name = instructions[i].name, .rest = rest, .cfg = cfg, .env = env};
        return instructions[i].fn(&c, err);
    }
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "unknown instruction: %s", name);
}

int lb_config_apply_change(json_t *image_config, const char *change, struct lb_error **err)
{
    if (!json_is_object(image_config))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "image config is not a JSON object");
    json_t *old = json_object_get(image_config, "config");
    _cleanup_json_ json_t *cfg = json_is_object(old) ? json_deep_copy(old) : json_object();
    if (cfg == NULL)
        lb_oom();
    if (apply(cfg, change, err) < 0)
        return lb_error_wrap(err, "invalid change '%s'", change);
    json_object_set(image_config, "config", cfg);
    return 0;
}

static bool is_cmd(const char *change)
{
    change += strspn(change, " \t");
    return strncasecmp(change, "CMD", 3) == 0 &&
           (change[3] == '\0' || isspace((unsigned char)change[3]));
}

int lb_config_apply_changes(json_t *image_config, char *const *changes, struct lb_error **err)
{
    const char *last_cmd = NULL;
    for (size_t i = 0; changes && changes[i]; i++) {
        if (lb_config_apply_change(image_config, changes[i], err) < 0)
            return -1;
        if (is_cmd(changes[i]))
            last_cmd = changes[i];
        lb_explain("config", "applied change '%s' to the config", changes[i]);
    }
    if (last_cmd && lb_config_apply_change(image_config, last_cmd, err) < 0)
        return -1;
    return 0;
}
