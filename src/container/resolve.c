/* resolve.c — from a command-line argument to a container: docker's order, the exact ID, then an
 * exact name, then a unique ID prefix.
 *
 * The concept: a name is a second key to a record, kept in its config.json; an ID prefix is a
 * convenience that must never guess, so an ambiguous one is an error listing the candidates.
 * Resolution works from the directory names and the names alone, so a record whose files are
 * corrupt can still be found by ID (and removed).
 * Sits on container.c (the IDs and names of the records: container_internal.h), container/names.
 *
 * Interface: lb_container_resolve_id, lb_container_resolve
 */
#include "container/container_internal.h"
#include "container/names.h"
#include "core/cleanup.h"
#include "core/util.h"

#include <string.h>

int lb_container_resolve_id(struct lb_store *s, const char *arg,
                            char id_out[LB_CONTAINER_ID_LEN + 1], struct lb_error **err)
{
    if (arg == NULL || *arg == '\0')
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "container name cannot be empty");
    _cleanup_strv_ char **ids = NULL;
    if (lb_container_list_ids(s, &ids, err) < 0)
        return -1;

    /* 1. The exact ID. */
    if (lb_container_valid_id(arg) && lb_strv_contains(ids, arg)) {
        memcpy(id_out, arg, LB_CONTAINER_ID_LEN + 1);
        return 0;
    }

    /* 2. An exact name; docker writes names with a leading '/'. */
    const char *name = lb_names_strip_slash(arg);
    if (*name != '\0') {
        _cleanup_strv_ char **names = lb_container_read_names(s, ids);
        const char *owner = lb_container_name_owner(ids, names, name, NULL);
        if (owner != NULL) {
            memcpy(id_out, owner, LB_CONTAINER_ID_LEN + 1);
            return 0;
        }
    }

    /* 3. A unique prefix of an ID. */
    size_t len = strlen(arg);
    if (len < LB_CONTAINER_ID_LEN && lb_is_lower_hex(arg, len)) {
        const char *found = NULL;
        size_t matches = 0;
        _cleanup_strbuf_ struct lb_strbuf cands = LB_STRBUF_INIT;
        for (size_t i = 0; ids[i]; i++) {
            if (strncmp(ids[i], arg, len) != 0)
                continue;
            lb_strbuf_addf(&cands, "%s%.12s", matches ? ", " : "", ids[i]);
            found = ids[i];
            matches++;
        }
        if (matches == 1) {
            memcpy(id_out, found, LB_CONTAINER_ID_LEN + 1);
            return 0;
        }
        if (matches > 1)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "container ID prefix '%s' is ambiguous: it matches %s", arg,
                                 cands.buf);
    }
    return lb_container_not_found(err, arg);
}

struct lb_container *lb_container_resolve(struct lb_store *s, const char *arg,
                                          struct lb_error **err)
{
    char id[LB_CONTAINER_ID_LEN + 1];
    if (lb_container_resolve_id(s, arg, id, err) < 0)
        return NULL;
    return lb_container_load(s, id, err);
}
