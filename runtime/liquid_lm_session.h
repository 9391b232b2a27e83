/*
 * liquid_lm_session.h - the text side of a language-model program
 * (liquid_lm_main.c): streamed output that holds back what could still
 * become a stop string or a split UTF-8 character, one-shot completion, and
 * the multi-turn chat that keeps the caches between turns. Header-only,
 * static functions, on the API of liquid_lm_runtime.h.
 */
#ifndef LIQUID_LM_SESSION_H
#define LIQUID_LM_SESSION_H

#include "liquid_cli.h"
#include "liquid_lm_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define LQ_MAX_STOPS 8

/* What a generation prints, and the ids it made. */
typedef struct {
    LQ_LM *lm;
    FILE *out;
    const char *stops[LQ_MAX_STOPS];
    int n_stops;
    char *buf; /* generated text not printed yet */
    size_t len, cap;
    lq_utf8_stream utf8;
    int32_t *ids; /* sampled ids, for --show-ids */
    long n_ids, cap_ids;
    int stopped, oom;
} lq_text_out;

/* Prints `n` bytes of generated text as whole UTF-8 characters. */
static void lq_emit(lq_text_out *t, const char *s, size_t n)
{
    char *tmp = malloc(3 * n + 12);
    if (!tmp) {
        t->oom = 1;
        return;
    }
    size_t m = LQ_TOK_FN(utf8_feed)(&t->utf8, s, n, tmp);
    fwrite(tmp, 1, m, t->out);
    fflush(t->out);
    free(tmp);
}

/* Bytes at the end of the buffer that are the start of a stop string. */
static size_t lq_stop_prefix(const lq_text_out *t)
{
    size_t hold = 0;
    for (int i = 0; i < t->n_stops; ++i) {
        size_t sl = strlen(t->stops[i]);
        for (size_t k = sl - 1; k > hold && k > 0; --k)
            if (k <= t->len && memcmp(t->buf + t->len - k, t->stops[i], k) == 0) {
                hold = k;
                break;
            }
    }
    return hold;
}

/* The generation callback: records the id, prints its text (control tokens
 * print nothing), stops at a stop string (which is not printed). */
static int lq_on_token(void *user, int32_t id)
{
    lq_text_out *t = user;
    if (t->n_ids == t->cap_ids) {
        long c = t->cap_ids ? 2 * t->cap_ids : 64;
        int32_t *v = realloc(t->ids, sizeof(int32_t) * (size_t)c);
        if (!v)
            return t->oom = 1;
        t->ids = v;
        t->cap_ids = c;
    }
    t->ids[t->n_ids++] = id;
    size_t n;
    const char *p = LQ_SYM(_lm_token_piece)(t->lm, id, 0, &n);
    if (!p || n == 0)
        return 0;
    if (t->len + n > t->cap) {
        size_t c = 2 * (t->len + n) + 64;
        char *b = realloc(t->buf, c);
        if (!b)
            return t->oom = 1;
        t->buf = b;
        t->cap = c;
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
    for (int i = 0; i < t->n_stops; ++i) {
        size_t sl = strlen(t->stops[i]);
        for (size_t k = 0; sl && k + sl <= t->len; ++k)
            if (memcmp(t->buf + k, t->stops[i], sl) == 0) {
                lq_emit(t, t->buf, k);
                t->len = 0;
                return t->stopped = 1;
            }
    }
    size_t keep = lq_stop_prefix(t);
    lq_emit(t, t->buf, t->len - keep);
    memmove(t->buf, t->buf + t->len - keep, keep);
    t->len = keep;
    return 0;
}

/* After a generation: what was held back, then the end of the UTF-8 stream. */
static void lq_text_finish(lq_text_out *t)
{
    if (!t->stopped)
        lq_emit(t, t->buf, t->len);
    t->len = 0;
    char tail[12];
    size_t n = LQ_TOK_FN(utf8_flush)(&t->utf8, tail);
    fwrite(tail, 1, n, t->out);
    t->stopped = 0;
}

static void lq_print_ids(FILE *f, const char *what, const int32_t *ids, long n)
{
    fprintf(f, "%s:", what);
    for (long i = 0; i < n; ++i)
        fprintf(f, i ? ",%d" : " %d", ids[i]);
    fprintf(f, "\n");
}

/* Tokenizes `len` bytes of text (*ids malloc'd); the count, or -1. */
static int64_t lq_tokenize_all(LQ_LM *lm, const char *text, size_t len, int add_bos,
                               int parse_special, int32_t **ids)
{
    int64_t cap = (int64_t)len + 8;
    *ids = malloc(sizeof(int32_t) * (size_t)cap);
    int64_t n = *ids ? LQ_SYM(_lm_tokenize)(lm, text, len, add_bos, parse_special, *ids, cap) : -1;
    if (n > cap) {
        int32_t *v = realloc(*ids, sizeof(int32_t) * (size_t)n);
        if (!v) {
            n = -1;
        } else {
            *ids = v;
            n = LQ_SYM(_lm_tokenize)(lm, text, len, add_bos, parse_special, *ids, n);
        }
    }
    if (n < 0) {
        free(*ids);
        *ids = NULL;
    }
    return n;
}

/* Appends the rendering of one chat part to *s (malloc'd, NUL-terminated). */
static int lq_append_part(LQ_LM *lm, char **s, size_t *len, const char *role,
                          const char *content)
{
    int64_t n = role ? LQ_SYM(_lm_chat_message)(lm, role, content, NULL, 0)
                : content ? LQ_SYM(_lm_chat_end_of_turn)(lm, NULL, 0)
                          : LQ_SYM(_lm_chat_generation_prompt)(lm, NULL, 0);
    if (n < 0)
        return -1;
    char *g = realloc(*s, *len + (size_t)n + 1);
    if (!g)
        return -1;
    *s = g;
    if (role)
        LQ_SYM(_lm_chat_message)(lm, role, content, g + *len, (size_t)n + 1);
    else if (content)
        LQ_SYM(_lm_chat_end_of_turn)(lm, g + *len, (size_t)n + 1);
    else
        LQ_SYM(_lm_chat_generation_prompt)(lm, g + *len, (size_t)n + 1);
    *len += (size_t)n;
    return 0;
}

/* Interactive chat: one user message per line of `in`; each turn feeds only
 * its new tokens (the end of the previous assistant turn, the user message,
 * the assistant prompt) on top of the caches. 0, or 1 after a report. */
static int lq_chat(LQ_LM *lm, FILE *in, const char *system, long n_predict, LQ_SAMPLER *sampler,
                   lq_text_out *out, int show_ids)
{
    char *line = NULL;
    size_t line_cap = 0;
    int rc = 0;
    for (int turn = 0;; ++turn) {
        if (isatty(fileno(in)))
            fprintf(stderr, "> ");
        ssize_t got = getline(&line, &line_cap, in);
        if (got < 0)
            break;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        char *text = NULL;
        size_t len = 0;
        int bad = (turn > 0 && lq_append_part(lm, &text, &len, NULL, "")) ||
                  (turn == 0 && system && lq_append_part(lm, &text, &len, "system", system)) ||
                  lq_append_part(lm, &text, &len, "user", line) ||
                  lq_append_part(lm, &text, &len, NULL, NULL);
        int32_t *ids = NULL;
        int64_t n = bad ? -1 : lq_tokenize_all(lm, text, len, turn == 0 ? -1 : 0, 1, &ids);
        free(text);
        if (n < 0) {
            report("--chat", "%s", LQ_SYM(_lm_last_error)());
            rc = 1;
            break;
        }
        out->n_ids = 0;
        int64_t made = LQ_SYM(_lm_generate)(lm, ids, n, n_predict, sampler, lq_on_token, out);
        lq_text_finish(out);
        fputc('\n', out->out);
        fflush(out->out);
        if (show_ids) {
            lq_print_ids(stderr, "prompt ids", ids, (long)n);
            lq_print_ids(stderr, "generated ids", out->ids, out->n_ids);
        }
        free(ids);
        if (made < 0 || out->oom) {
            report("--chat", "%s", out->oom ? "out of memory" : LQ_SYM(_lm_last_error)());
            rc = 1;
            break;
        }
    }
    free(line);
    return rc;
}

#endif /* LIQUID_LM_SESSION_H */
