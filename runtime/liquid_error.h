/*
 * liquid_error.h - the runtimes' last error: one line per thread, set by
 * lq_set_error and returned by P_last_error / P_lm_last_error. Included by
 * liquid_model.c and liquid_lm.c (each gets its own, file-local copy;
 * liquid_lm.c lends its to liquid_lm_text.c and liquid_lm_state.c).
 */
#ifndef LIQUID_ERROR_H
#define LIQUID_ERROR_H

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char lq_err_buf[512];

static void lq_vset_error(const char *fmt, va_list ap)
{
    vsnprintf(lq_err_buf, sizeof lq_err_buf, fmt, ap);
    /* Keep the message on one line. */
    for (char *p = lq_err_buf; *p; ++p)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

static void lq_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lq_vset_error(fmt, ap);
    va_end(ap);
}

#endif /* LIQUID_ERROR_H */
