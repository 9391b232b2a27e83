/*
 * liquid_tokenizer_out.c - what comes out of a tokenizer image
 * (liquid_tokenizer.h): token pieces and end-of-generation ids, ChatML
 * rendering, and streaming UTF-8 (whole valid characters only). Plain C11,
 * libc only; the encoder is liquid_tokenizer.c.
 */
#include "liquid_tokenizer.h"

#include <string.h>

/* ---- decoding ----------------------------------------------------------------- */

const char *LQ_TOK_FN(piece)(const lq_tokenizer *t, int32_t id, int special, size_t *len)
{
    if (id < 0 || (uint32_t)id >= t->h->n_tokens) {
        *len = 0;
        return NULL;
    }
    const lq_tok_token *k = &t->tokens[id];
    if (!special && k->type == LQ_TOK_CONTROL) {
        *len = 0;
        return "";
    }
    *len = k->piece_len;
    return (const char *)t->base + t->h->strings_off + k->piece_off;
}

int LQ_TOK_FN(is_eog)(const lq_tokenizer *t, int32_t id)
{
    const int32_t *eog = (const int32_t *)(t->base + t->h->eog_off);
    for (uint32_t i = 0; i < t->h->n_eog; ++i)
        if (eog[i] == id)
            return 1;
    return 0;
}

/* ---- chat ------------------------------------------------------------------- */

/* Concatenates up to 4 strings into out (NUL-terminated if it fits). */
static int64_t lq_cat(char *out, size_t cap, const char *a, const char *b, const char *c,
                      const char *d)
{
    const char *parts[4] = {a, b, c, d};
    size_t n = 0;
    for (int i = 0; i < 4; ++i) {
        size_t l = parts[i] ? strlen(parts[i]) : 0;
        if (out && l && n + l < cap)
            memcpy(out + n, parts[i], l);
        n += l;
    }
    if (out && cap)
        out[n < cap ? n : cap - 1] = '\0';
    return (int64_t)n;
}

int64_t LQ_TOK_FN(chat_begin)(const lq_tokenizer *t, int with_bos, char *out, size_t cap)
{
    if (t->h->chat != LQ_CHAT_CHATML)
        return -1;
    if (with_bos && (t->h->chat_flags & LQ_CHAT_BOS_TEXT) && t->h->bos >= 0) {
        size_t l;
        const char *p = LQ_TOK_FN(piece)(t, t->h->bos, 1, &l);
        if (out && l < cap) {
            memcpy(out, p, l);
            out[l] = '\0';
        } else if (out && cap) {
            out[0] = '\0';
        }
        return (int64_t)l;
    }
    return lq_cat(out, cap, "", NULL, NULL, NULL);
}

int64_t LQ_TOK_FN(chat_message)(const lq_tokenizer *t, const char *role, const char *content,
                                char *out, size_t cap)
{
    if (t->h->chat != LQ_CHAT_CHATML)
        return -1;
    int64_t n = lq_cat(out, cap, "<|im_start|>", role, "\n", content);
    int64_t m = lq_cat(out && (size_t)n < cap ? out + n : NULL,
                       (size_t)n < cap ? cap - (size_t)n : 0, "<|im_end|>\n", NULL, NULL, NULL);
    return n + m;
}

int64_t LQ_TOK_FN(chat_generation_prompt)(const lq_tokenizer *t, char *out, size_t cap)
{
    if (t->h->chat != LQ_CHAT_CHATML)
        return -1;
    return lq_cat(out, cap, "<|im_start|>assistant\n", NULL, NULL, NULL);
}

int64_t LQ_TOK_FN(chat_end_of_turn)(const lq_tokenizer *t, char *out, size_t cap)
{
    if (t->h->chat != LQ_CHAT_CHATML)
        return -1;
    return lq_cat(out, cap, "<|im_end|>\n", NULL, NULL, NULL);
}

/* ---- streaming UTF-8 -------------------------------------------------------- */

/* Bytes a sequence starting with lead byte c needs (0: c cannot start one),
 * and the range of its second byte (strict UTF-8: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t lq_utf8_need(unsigned c, unsigned *lo, unsigned *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c < 0xE0)
        return 2;
    if (c == 0xE0)
        *lo = 0xA0;
    if (c == 0xED)
        *hi = 0x9F;
    if (c < 0xF0)
        return 3;
    if (c == 0xF0)
        *lo = 0x90;
    if (c == 0xF4)
        *hi = 0x8F;
    return 4;
}

size_t LQ_TOK_FN(utf8_feed)(lq_utf8_stream *s, const char *in, size_t n, char *out)
{
    /* The input is what was held back, then `in`. */
    unsigned char held[4];
    size_t nh = (size_t)s->n_held, total = nh + n, k = 0, o = 0;
    memcpy(held, s->held, nh);
    s->n_held = 0;
#define LQ_AT(j) ((j) < nh ? held[j] : (unsigned char)in[(j) - nh])
    while (k < total) {
        unsigned c = LQ_AT(k), lo, hi;
        size_t need = lq_utf8_need(c, &lo, &hi), have = 1;
        int bad = need == 0;
        for (; !bad && have < need && k + have < total; ++have) {
            unsigned d = LQ_AT(k + have);
            bad = have == 1 ? (d < lo || d > hi) : (d & 0xC0) != 0x80;
            if (bad)
                break;
        }
        if (bad) { /* U+FFFD for the lead byte; what follows is read again */
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            ++k;
        } else if (have == need) {
            for (size_t j = 0; j < need; ++j)
                out[o++] = (char)LQ_AT(k + j);
            k += need;
        } else { /* a sequence cut at the end: hold it back */
            for (size_t j = 0; j < have; ++j)
                s->held[j] = LQ_AT(k + j);
            s->n_held = (int)have;
            break;
        }
    }
#undef LQ_AT
    return o;
}

size_t LQ_TOK_FN(utf8_flush)(lq_utf8_stream *s, char *out)
{
    size_t o = 0;
    if (s->n_held > 0) {
        memcpy(out, "\xEF\xBF\xBD", 3);
        o = 3;
    }
    s->n_held = 0;
    return o;
}
