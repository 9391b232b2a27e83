/*
 * liquid_lm_text.c - the text side of a liquidc language model (lib and
 * exe): the checkpoint's tokenizer (liquid_tokenizer.c, image in the .lqw
 * file), sampling and generation with a per-token callback.
 *
 * Compiled once per model with its configuration header, like liquid_lm.c:
 *     cc -std=c11 -O2 -include P_config.h -c liquid_lm_text.c
 */
#include "liquid_lm_runtime.h"

/* The context's last error lives in liquid_lm.c. */
#define lq_set_error LQ_SYM(_lm_set_error)

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- tokenizer ---------------------------------------------------------------- */

static const lq_tokenizer *lq_tok_of(const LQ_LM *m)
{
    const lq_tokenizer *t = LQ_SYM(_lm_tokenizer_view)(m);
    if (!t)
        lq_set_error("%s: compiled without a tokenizer (the checkpoint had none)", LQ_MODEL_NAME);
    return t;
}

int LQ_SYM(_lm_has_tokenizer)(const LQ_LM *m)
{
    return LQ_SYM(_lm_tokenizer_view)(m) != NULL;
}

int64_t LQ_SYM(_lm_tokenize)(const LQ_LM *m, const char *text, size_t len, int add_bos,
                             int parse_special, int32_t *ids, int64_t cap)
{
    const lq_tokenizer *t = lq_tok_of(m);
    if (!t)
        return -1;
    int64_t n = LQ_TOK_FN(encode)(t, text, len, add_bos, parse_special, ids, cap);
    if (n == -2)
        lq_set_error("%s: the text has a character the vocabulary cannot encode (it has no "
                     "token for one of its bytes)", LQ_MODEL_NAME);
    else if (n < 0)
        lq_set_error("%s: out of memory while tokenizing", LQ_MODEL_NAME);
    return n < 0 ? -1 : n;
}

const char *LQ_SYM(_lm_token_piece)(const LQ_LM *m, int32_t id, int special, size_t *len)
{
    const lq_tokenizer *t = lq_tok_of(m);
    *len = 0;
    return t ? LQ_TOK_FN(piece)(t, id, special, len) : NULL;
}

int64_t LQ_SYM(_lm_detokenize)(const LQ_LM *m, const int32_t *ids, int64_t n, int special,
                               char *out, size_t cap)
{
    const lq_tokenizer *t = lq_tok_of(m);
    if (!t)
        return -1;
    size_t total = 0;
    for (int64_t i = 0; i < n; ++i) {
        size_t len;
        const char *p = LQ_TOK_FN(piece)(t, ids[i], special, &len);
        if (!p) {
            lq_set_error("%s: detokenize: token id %d is outside the vocabulary", LQ_MODEL_NAME,
                         (int)ids[i]);
            return -1;
        }
        if (out && total + len < cap)
            memcpy(out + total, p, len);
        total += len;
    }
    if (out && cap)
        out[total < cap ? total : cap - 1] = '\0';
    return (int64_t)total;
}

int LQ_SYM(_lm_is_eog)(const LQ_LM *m, int32_t id)
{
    const lq_tokenizer *t = LQ_SYM(_lm_tokenizer_view)(m);
    return t ? LQ_TOK_FN(is_eog)(t, id) : id == LQ_EOS;
}

static int64_t lq_no_chat(void)
{
    lq_set_error("%s: the checkpoint has no chat template (compile with --chat-template chatml "
                 "to use ChatML)", LQ_MODEL_NAME);
    return -1;
}

int64_t LQ_SYM(_lm_chat_message)(const LQ_LM *m, const char *role, const char *content, char *out,
                                 size_t cap)
{
    const lq_tokenizer *t = lq_tok_of(m);
    int64_t n = t ? LQ_TOK_FN(chat_message)(t, role, content, out, cap) : -1;
    return n < 0 && t ? lq_no_chat() : n;
}

int64_t LQ_SYM(_lm_chat_generation_prompt)(const LQ_LM *m, char *out, size_t cap)
{
    const lq_tokenizer *t = lq_tok_of(m);
    int64_t n = t ? LQ_TOK_FN(chat_generation_prompt)(t, out, cap) : -1;
    return n < 0 && t ? lq_no_chat() : n;
}

int64_t LQ_SYM(_lm_chat_end_of_turn)(const LQ_LM *m, char *out, size_t cap)
{
    const lq_tokenizer *t = lq_tok_of(m);
    int64_t n = t ? LQ_TOK_FN(chat_end_of_turn)(t, out, cap) : -1;
    return n < 0 && t ? lq_no_chat() : n;
}

/* ---- sampling ----------------------------------------------------------------- */

void LQ_SYM(_lm_sampler_init)(LQ_SAMPLER *s, double temp, long top_k, double top_p,
                              uint64_t seed)
{
    s->temp = temp;
    s->top_k = top_k;
    s->top_p = top_p;
    s->rng = 0x9E3779B97F4A7C15ULL ^ (seed * 0x2545F4914F6CDD1DULL);
    if (!s->rng)
        s->rng = 1;
}

static uint64_t lq_rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

typedef struct {
    float p;
    int32_t id;
} lq_cand;

static int lq_cand_desc(const void *a, const void *b)
{
    const lq_cand *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? 1 : -1;
    return x->id - y->id;
}

/* Greedy (temp 0: the highest logit, ties to the lowest id) or temperature,
 * top-k and top-p sampling. -1 when out of memory. */
int32_t LQ_SYM(_lm_sample)(LQ_LM *m, LQ_SAMPLER *s, const float *logits)
{
    if (s->temp <= 0.0) {
        int32_t best = 0;
        for (int32_t i = 1; i < LQ_VOCAB; ++i)
            if (logits[i] > logits[best])
                best = i;
        return best;
    }
    lq_cand *c = LQ_SYM(_lm_sample_scratch)(m, sizeof(lq_cand) * LQ_VOCAB);
    if (!c) {
        lq_set_error("%s: out of memory for sampling", LQ_MODEL_NAME);
        return -1;
    }
    float mx = logits[0];
    for (int i = 1; i < LQ_VOCAB; ++i)
        mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < LQ_VOCAB; ++i) {
        c[i].p = (float)exp((logits[i] - mx) / s->temp);
        c[i].id = i;
        sum += c[i].p;
    }
    qsort(c, LQ_VOCAB, sizeof *c, lq_cand_desc);
    long k = s->top_k > 0 && s->top_k < LQ_VOCAB ? s->top_k : LQ_VOCAB;
    double kept = 0;
    long n = 0;
    while (n < k) {
        kept += c[n].p / sum;
        ++n;
        if (kept >= s->top_p)
            break;
    }
    double r = (double)(lq_rng_next(&s->rng) >> 11) / 9007199254740992.0 * kept * sum;
    double acc = 0;
    for (long i = 0; i < n; ++i) {
        acc += c[i].p;
        if (r < acc)
            return c[i].id;
    }
    return c[n - 1].id;
}

/* ---- generation ------------------------------------------------------------- */

/* Evaluates `n` ids at the context's position in chunks of LQ_MAX_ROWS;
 * *logits: those of the last one. 0 on success. */
static int lq_feed(LQ_LM *m, const int32_t *ids, int64_t n, const float **logits)
{
    for (int64_t done = 0; done < n;) {
        int64_t rows = n - done < LQ_MAX_ROWS ? n - done : LQ_MAX_ROWS;
        if (LQ_SYM(_lm_forward)(m, ids + done, rows, LQ_SYM(_lm_position)(m), 1))
            return -1;
        done += rows;
        *logits = LQ_SYM(_lm_logits)(m) + (size_t)(rows - 1) * LQ_VOCAB;
    }
    return 0;
}

/* Evaluates the token the last call sampled but did not evaluate (if any)
 * and `ids`, then samples up to `max_new` tokens, calling fn(user, id) for
 * each (a nonzero return stops). An end-of-generation id stops too and is
 * never evaluated; the last sampled token of a call is evaluated at the
 * start of the next one. Returns the number of tokens sampled, -1 on error
 * (the last error says why). */
int64_t LQ_SYM(_lm_generate)(LQ_LM *m, const int32_t *ids, int64_t n, int64_t max_new,
                             LQ_SAMPLER *s, LQ_SYM(_lm_token_fn) fn, void *user)
{
    int32_t *pending = LQ_SYM(_lm_pending_slot)(m);
    int64_t total = n + (*pending >= 0);
    if (total < 1 || LQ_SYM(_lm_position)(m) + total + (max_new > 0 ? max_new - 1 : 0) >
                         LQ_MAX_CONTEXT) {
        lq_set_error("%s: %lld tokens after %lld would exceed the compiled context of %d",
                     LQ_MODEL_NAME, (long long)(total + max_new), (long long)LQ_SYM(_lm_position)(m),
                     LQ_MAX_CONTEXT);
        return -1;
    }
    const float *logits = NULL;
    if (*pending >= 0) {
        int32_t p = *pending;
        *pending = -1;
        if (lq_feed(m, &p, 1, &logits))
            return -1;
    }
    if (n > 0 && lq_feed(m, ids, n, &logits))
        return -1;
    int64_t made = 0;
    while (made < max_new) {
        int32_t id = LQ_SYM(_lm_sample)(m, s, logits);
        if (id < 0)
            return -1;
        ++made;
        int stop = fn && fn(user, id);
        if (LQ_SYM(_lm_is_eog)(m, id))
            break;
        if (stop || made == max_new) {
            *pending = id;
            break;
        }
        if (lq_feed(m, &id, 1, &logits))
            return -1;
    }
    return made;
}
