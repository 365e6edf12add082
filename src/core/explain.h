/* explain.h — `--explain` narration: what each step does and which concept it shows.
 *
 *     lb_explain("layer", "unpacked %s (%s) into layers/%s", digest, size, chain);
 *
 * prints "[layer] unpacked ..." on stderr when explain mode is on, and costs one branch when off.
 * Library code only calls lb_explain(); the CLI decides where the text goes (lb_explain_set_sink),
 * so "library code never prints" still holds. */
#ifndef LB_CORE_EXPLAIN_H
#define LB_CORE_EXPLAIN_H

#include <stdbool.h>

typedef void (*lb_explain_sink)(const char *topic, const char *text, void *data);

/* Turn narration on (sink != NULL) or off (sink == NULL). */
void lb_explain_set_sink(lb_explain_sink sink, void *data);
bool lb_explain_enabled(void);

void lb_explain_(const char *topic, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define lb_explain(topic, ...)                                                                     \
    do {                                                                                           \
        if (lb_explain_enabled())                                                                  \
            lb_explain_(topic, __VA_ARGS__);                                                       \
    } while (0)

#endif
