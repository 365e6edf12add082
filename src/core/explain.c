/* explain.c — narration for students: a topic ("store", "layer", "mount") and one sentence.
 *
 * The concept: a container engine is a sequence of ordinary steps (hash a blob, rename a file,
 * mount a union). Saying each step out loud is how the tool teaches.
 *
 * Interface: lb_explain_set_sink, lb_explain_enabled, lb_explain_ (through lb_explain())
 */
#include "core/explain.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static lb_explain_sink explain_sink;
static void *explain_data;

void lb_explain_set_sink(lb_explain_sink sink, void *data)
{
    explain_sink = sink;
    explain_data = data;
}

bool lb_explain_enabled(void)
{
    return explain_sink != NULL;
}

void lb_explain_(const char *topic, const char *fmt, ...)
{
    if (explain_sink == NULL)
        return;
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        lb_oom();
    va_end(ap);
    explain_sink(topic, text, explain_data);
    free(text);
}
