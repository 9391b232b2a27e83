/*
 * liquid_tokenizer.c - encoding with a tokenizer image (liquid_tokenizer.h):
 * the image check, special-token partition, the GPT-2 and Llama-3
 * pre-tokenizer splits, byte-level BPE (merges by rank) and SentencePiece
 * BPE (merges by score, byte fallback). Pieces, chat rendering and streaming
 * UTF-8 are in liquid_tokenizer_out.c. Plain C11, libc only; allocates
 * scratch per encode call only.
 *
 * The algorithms follow what llama.cpp does (the reference the fixtures come
 * from): invalid UTF-8 reads as U+FFFD; special tokens are cut out longest
 * first; equal merge ranks (scores) go to the leftmost pair.
 */
#include "liquid_tokenizer.h"
#include "liquid_unicode_tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the image ----------------------------------------------------------- */

static int lq_tok_range_ok(uint32_t off, uint64_t n, uint64_t elem, size_t bytes)
{
    return off % 4 == 0 && (uint64_t)off <= bytes && n * elem <= (uint64_t)bytes - off;
}

static int lq_tok_ids_ok(const unsigned char *base, uint32_t off, uint32_t n, uint32_t n_tokens,
                         int allow_none)
{
    const int32_t *ids = (const int32_t *)(base + off);
    for (uint32_t i = 0; i < n; ++i)
        if (ids[i] >= (int32_t)n_tokens || ids[i] < (allow_none ? -1 : 0))
            return 0;
    return 1;
}

static int lq_tok_fail(char *err, size_t cap, const char *what)
{
    snprintf(err, cap, "tokenizer image: %s", what);
    return -1;
}

/* Checks the sections of the image (sizes and ids), then each token. */
int LQ_TOK_FN(open)(lq_tokenizer *t, const void *image, size_t bytes, char *err, size_t cap)
{
    const unsigned char *b = image;
    const lq_tok_header *h = image;
    if (bytes < sizeof *h || ((uintptr_t)image & 7) != 0 || memcmp(h->magic, LQ_TOK_MAGIC, 8) != 0)
        return lq_tok_fail(err, cap, "bad magic or alignment");
    if (h->version != LQ_TOK_VERSION || h->bytes != bytes)
        return lq_tok_fail(err, cap, "unsupported version or wrong size");
    uint32_t n = h->n_tokens;
    if (n == 0 || n > (1u << 24) || (h->model != LQ_TOK_MODEL_BPE && h->model != LQ_TOK_MODEL_SPM) ||
        h->pre > LQ_TOK_PRE_LLAMA3 || h->chat > LQ_CHAT_CHATML)
        return lq_tok_fail(err, cap, "unknown model kind or empty vocabulary");
    int slots_ok = h->lookup_slots && !(h->lookup_slots & (h->lookup_slots - 1)) &&
                   (h->model != LQ_TOK_MODEL_BPE ||
                    (h->merge_slots && !(h->merge_slots & (h->merge_slots - 1))));
    if (!slots_ok || !lq_tok_range_ok(h->tokens_off, n, sizeof(lq_tok_token), bytes) ||
        !lq_tok_range_ok(h->strings_off, h->strings_bytes, 1, bytes) ||
        !lq_tok_range_ok(h->lookup_off, h->lookup_slots, 4, bytes) ||
        !lq_tok_range_ok(h->merges_off, h->merge_slots, sizeof(lq_tok_merge), bytes) ||
        !lq_tok_range_ok(h->scores_off, h->model == LQ_TOK_MODEL_SPM ? n : 0, 4, bytes) ||
        !lq_tok_range_ok(h->specials_off, h->n_specials, 4, bytes) ||
        !lq_tok_range_ok(h->eog_off, h->n_eog, 4, bytes) ||
        !lq_tok_range_ok(h->byte_tokens_off, 256, 4, bytes) ||
        !lq_tok_range_ok(h->chat_off, h->chat_bytes, 1, bytes))
        return lq_tok_fail(err, cap, "a section lies outside the image");
    if (!lq_tok_ids_ok(b, h->lookup_off, h->lookup_slots, n, 1) ||
        !lq_tok_ids_ok(b, h->specials_off, h->n_specials, n, 0) ||
        !lq_tok_ids_ok(b, h->eog_off, h->n_eog, n, 0) ||
        !lq_tok_ids_ok(b, h->byte_tokens_off, 256, n, 1) || h->bos < -1 || h->bos >= (int32_t)n ||
        h->eos < -1 || h->eos >= (int32_t)n || h->unk < -1 || h->unk >= (int32_t)n)
        return lq_tok_fail(err, cap, "a token id is outside the vocabulary");
    const lq_tok_merge *mg = (const lq_tok_merge *)(b + h->merges_off);
    for (uint32_t i = 0; i < h->merge_slots; ++i)
        if (mg[i].rank >= 0 && (mg[i].left < 0 || mg[i].left >= (int32_t)n || mg[i].right < 0 ||
                                mg[i].right >= (int32_t)n || mg[i].result < 0 ||
                                mg[i].result >= (int32_t)n))
            return lq_tok_fail(err, cap, "a merge names a token outside the vocabulary");
    const lq_tok_token *tk = (const lq_tok_token *)(b + h->tokens_off);
    for (uint32_t i = 0; i < n; ++i)
        if ((uint64_t)tk[i].key_off + tk[i].key_len > h->strings_bytes ||
            (uint64_t)tk[i].piece_off + tk[i].piece_len > h->strings_bytes ||
            tk[i].type < LQ_TOK_NORMAL || tk[i].type > LQ_TOK_BYTE)
            return lq_tok_fail(err, cap, "a token's text lies outside the image");
    t->base = b;
    t->h = h;
    t->tokens = tk;
    return 0;
}

static const unsigned char *lq_tok_key(const lq_tokenizer *t, int32_t id, size_t *len)
{
    *len = t->tokens[id].key_len;
    return t->base + t->h->strings_off + t->tokens[id].key_off;
}

/* The token whose key is these bytes, or -1. */
static int32_t lq_tok_lookup(const lq_tokenizer *t, const unsigned char *s, size_t n)
{
    const int32_t *slots = (const int32_t *)(t->base + t->h->lookup_off);
    uint32_t mask = t->h->lookup_slots - 1, i = lq_tok_hash_bytes(s, n) & mask;
    for (uint32_t probes = 0; probes <= mask && slots[i] >= 0; ++probes, i = (i + 1) & mask) {
        size_t kl;
        const unsigned char *k = lq_tok_key(t, slots[i], &kl);
        if (kl == n && memcmp(k, s, n) == 0)
            return slots[i];
    }
    return -1;
}

static const lq_tok_merge *lq_tok_find_merge(const lq_tokenizer *t, int32_t l, int32_t r)
{
    const lq_tok_merge *slots = (const lq_tok_merge *)(t->base + t->h->merges_off);
    uint32_t mask = t->h->merge_slots - 1, i = lq_tok_hash_pair(l, r) & mask;
    for (uint32_t probes = 0; probes <= mask && slots[i].rank >= 0; ++probes, i = (i + 1) & mask)
        if (slots[i].left == l && slots[i].right == r)
            return &slots[i];
    return NULL;
}

/* ---- code points ---------------------------------------------------------- */

static int lq_uc_in(const uint32_t (*r)[2], size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid][0])
            hi = mid;
        else if (cp > r[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

#define LQ_UC_IN(table, cp) lq_uc_in(table, sizeof table / sizeof table[0], cp)
enum { LQ_UC_LETTER = 1, LQ_UC_NUMBER = 2, LQ_UC_SPACE = 4, LQ_UC_VALID = 8 };

static unsigned lq_uc_class(uint32_t cp)
{
    if (cp < 0x80) { /* fast path */
        unsigned c = LQ_UC_VALID;
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
            c |= LQ_UC_LETTER;
        else if (cp >= '0' && cp <= '9')
            c |= LQ_UC_NUMBER;
        else if (cp == ' ' || (cp >= 9 && cp <= 13))
            c |= LQ_UC_SPACE;
        return c;
    }
    return LQ_UC_VALID | (LQ_UC_IN(lq_uc_letter, cp) ? LQ_UC_LETTER : 0) |
           (LQ_UC_IN(lq_uc_number, cp) ? LQ_UC_NUMBER : 0) |
           (LQ_UC_IN(lq_uc_space, cp) ? LQ_UC_SPACE : 0);
}

/* Decodes one code point at s[0..n) (n >= 1); sets *used. Malformed: U+FFFD,
 * one byte used (llama.cpp's reading: it does not reject overlong forms). */
static uint32_t lq_utf8_decode(const unsigned char *s, size_t n, size_t *used)
{
    unsigned c = s[0];
    size_t need = c < 0x80 ? 1 : c < 0xC0 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 0;
    *used = 1;
    if (need == 1)
        return c;
    if (need == 0 || need > n)
        return 0xFFFD;
    for (size_t i = 1; i < need; ++i)
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFD;
    *used = need;
    if (need == 2)
        return (c & 0x1Fu) << 6 | (s[1] & 0x3Fu);
    if (need == 3)
        return (c & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
    return (c & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
}

static size_t lq_utf8_encode(uint32_t cp, unsigned char *o)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- encoding: shared state ------------------------------------------------ */

typedef struct {
    const lq_tokenizer *t;
    int32_t *ids;
    int64_t cap, n;
    int oom, no_byte_token;
    /* scratch, grown as needed */
    uint32_t *cps;
    unsigned *cls;
    size_t cps_cap, cls_cap;
    unsigned char *bytes;
    size_t bytes_cap;
    struct lq_sym *syms;
    size_t syms_cap;
    struct lq_cand *heap;
    size_t heap_cap, heap_n;
} lq_enc;

static void lq_push(lq_enc *e, int32_t id)
{
    if (e->n < e->cap)
        e->ids[e->n] = id;
    ++e->n;
}

static int lq_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t c = need < 64 ? 64 : need * 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return 0;
    *p = q;
    *cap = c;
    return 1;
}

/* Symbols of one word being merged: a doubly linked list over an array. */
struct lq_sym {
    int32_t id;        /* BPE: the token; SPM: the token or -1 */
    uint32_t off, len; /* bytes of the word */
    int32_t prev, next;
};

/* A candidate merge of symbol `left` with its right neighbour `right`. */
struct lq_cand {
    float score; /* SPM: higher first */
    int32_t rank; /* BPE: lower first */
    int32_t left, right;
    uint32_t len; /* bytes of the merged text: stale when the symbols changed */
    int32_t result;
};

static int lq_cand_before(const lq_enc *e, const struct lq_cand *a, const struct lq_cand *b)
{
    if (e->t->h->model == LQ_TOK_MODEL_BPE) {
        if (a->rank != b->rank)
            return a->rank < b->rank;
    } else if (a->score != b->score) {
        return a->score > b->score;
    }
    return a->left < b->left;
}

static void lq_heap_push(lq_enc *e, struct lq_cand c)
{
    if (!lq_grow((void **)&e->heap, &e->heap_cap, e->heap_n + 1, sizeof c)) {
        e->oom = 1;
        return;
    }
    size_t i = e->heap_n++;
    while (i > 0 && lq_cand_before(e, &c, &e->heap[(i - 1) / 2])) {
        e->heap[i] = e->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    e->heap[i] = c;
}

static struct lq_cand lq_heap_pop(lq_enc *e)
{
    struct lq_cand top = e->heap[0], last = e->heap[--e->heap_n];
    size_t i = 0, n = e->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && lq_cand_before(e, &e->heap[c + 1], &e->heap[c]))
            ++c;
        if (!lq_cand_before(e, &e->heap[c], &last))
            break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n)
        e->heap[i] = last;
    return top;
}

/* Queues the merge of symbol l with its right neighbour, if there is one. */
static void lq_try_pair(lq_enc *e, const unsigned char *word, int32_t l)
{
    if (l < 0 || e->syms[l].next < 0)
        return;
    int32_t r = e->syms[l].next;
    struct lq_sym *a = &e->syms[l], *b = &e->syms[r];
    struct lq_cand c = {0.0f, 0, l, r, a->len + b->len, -1};
    if (e->t->h->model == LQ_TOK_MODEL_BPE) {
        const lq_tok_merge *m = lq_tok_find_merge(e->t, a->id, b->id);
        if (!m)
            return;
        c.rank = m->rank;
        c.result = m->result;
    } else {
        c.result = lq_tok_lookup(e->t, word + a->off, c.len);
        if (c.result < 0)
            return;
        c.score = ((const float *)(e->t->base + e->t->h->scores_off))[c.result];
    }
    lq_heap_push(e, c);
}

/* Merges the symbols of `word` until no candidate is left. */
static void lq_merge_all(lq_enc *e, const unsigned char *word, size_t nsyms)
{
    e->heap_n = 0;
    for (size_t i = 0; i + 1 < nsyms; ++i)
        lq_try_pair(e, word, (int32_t)i);
    while (e->heap_n && !e->oom) {
        struct lq_cand c = lq_heap_pop(e);
        struct lq_sym *a = &e->syms[c.left], *b = &e->syms[c.right];
        if (a->len == 0 || b->len == 0 || a->next != c.right || a->len + b->len != c.len)
            continue; /* stale */
        a->len += b->len;
        a->id = c.result;
        b->len = 0;
        a->next = b->next;
        if (b->next >= 0)
            e->syms[b->next].prev = c.left;
        lq_try_pair(e, word, a->prev);
        lq_try_pair(e, word, c.left);
    }
}

/* ---- byte-level BPE ----------------------------------------------------------- */

static int lq_grow_syms(lq_enc *e, size_t n)
{
    if (!lq_grow((void **)&e->syms, &e->syms_cap, n, sizeof(struct lq_sym))) {
        e->oom = 1;
        return 0;
    }
    return 1;
}

/* One pre-token, code points [s, end): its UTF-8 bytes, then merges. */
static void lq_bpe_word(lq_enc *e, size_t s, size_t end)
{
    const lq_tok_header *h = e->t->h;
    if (!lq_grow((void **)&e->bytes, &e->bytes_cap, 4 * (end - s), 1)) {
        e->oom = 1;
        return;
    }
    size_t m = 0;
    for (size_t i = s; i < end; ++i)
        m += lq_utf8_encode(e->cps[i], e->bytes + m);
    if (h->flags & LQ_TOK_IGNORE_MERGES) {
        int32_t id = lq_tok_lookup(e->t, e->bytes, m);
        if (id >= 0) {
            lq_push(e, id);
            return;
        }
    }
    if (!lq_grow_syms(e, m))
        return;
    const int32_t *byte_tok = (const int32_t *)(e->t->base + h->byte_tokens_off);
    for (size_t i = 0; i < m; ++i)
        e->syms[i] = (struct lq_sym){byte_tok[e->bytes[i]], (uint32_t)i, 1, (int32_t)i - 1,
                                     i + 1 < m ? (int32_t)i + 1 : -1};
    lq_merge_all(e, e->bytes, m);
    for (int32_t i = m ? 0 : -1; i >= 0; i = e->syms[i].next)
        if (e->syms[i].id >= 0) /* always: every byte has a token (checked by liquidc) */
            lq_push(e, e->syms[i].id);
}

/* ---- pre-tokenizers: split code points [0, n) into words ---------------------- */

#define LQ_CP(i) ((i) < n ? e->cps[i] : 0xFFFFFFFFu)
#define LQ_CL(i) ((i) < n ? e->cls[i] : 0u)
#define LQ_SLN (LQ_UC_SPACE | LQ_UC_LETTER | LQ_UC_NUMBER)

static uint32_t lq_ascii_lower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* 's 't 'm 'd 're 've 'll at p (case-insensitive for Llama-3): its length, or 0. */
static size_t lq_contraction(const lq_enc *e, size_t p, size_t n, int any_case)
{
    if (LQ_CP(p) != '\'' || p + 1 >= n)
        return 0;
    uint32_t a = LQ_CP(p + 1), b = p + 2 < n ? LQ_CP(p + 2) : 0;
    if (any_case) {
        a = lq_ascii_lower(a);
        b = lq_ascii_lower(b);
    }
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return 3;
    return 0;
}

/* Whitespace run at p: \s+(?!\S) keeps the last space for the next word. */
static size_t lq_space_run(const lq_enc *e, size_t p, size_t n)
{
    size_t w = 0;
    while (LQ_CL(p + w) & LQ_UC_SPACE)
        ++w;
    if (w > 1 && p + w < n)
        return w - 1;
    return w ? w : 1;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static void lq_split_gpt2(lq_enc *e, size_t n)
{
    for (size_t p = 0; p < n && !e->oom;) {
        size_t q = p + lq_contraction(e, p, n, 0);
        if (q == p) {
            size_t sp = LQ_CP(p) == ' ';
            unsigned f = LQ_CL(p + sp);
            if (f & (LQ_UC_LETTER | LQ_UC_NUMBER)) {
                unsigned kind = f & LQ_UC_LETTER ? LQ_UC_LETTER : LQ_UC_NUMBER;
                for (q = p + sp; LQ_CL(q) & kind;)
                    ++q;
            } else if (f && !(f & LQ_SLN)) {
                for (q = p + sp; LQ_CL(q) && !(LQ_CL(q) & LQ_SLN);)
                    ++q;
            } else {
                q = p + lq_space_run(e, p, n);
            }
        }
        lq_bpe_word(e, p, q);
        p = q;
    }
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static size_t lq_llama3_word(const lq_enc *e, size_t p, size_t n)
{
    size_t q = p + lq_contraction(e, p, n, 1);
    if (q != p)
        return q;
    uint32_t c = LQ_CP(p);
    unsigned f = LQ_CL(p);
    if (c != '\r' && c != '\n' && !(f & LQ_UC_NUMBER) &&
        ((f & LQ_UC_LETTER) || (LQ_CL(p + 1) & LQ_UC_LETTER))) {
        for (q = p + 1; LQ_CL(q) & LQ_UC_LETTER;)
            ++q;
        return q;
    }
    if (f & LQ_UC_NUMBER) {
        for (q = p; q - p < 3 && (LQ_CL(q) & LQ_UC_NUMBER);)
            ++q;
        return q;
    }
    size_t sp = c == ' ';
    unsigned f2 = LQ_CL(p + sp);
    if (!(f2 & LQ_SLN) && f) {
        for (q = p + sp; LQ_CL(q) && !(LQ_CL(q) & LQ_SLN);)
            ++q;
        while (LQ_CP(q) == '\r' || LQ_CP(q) == '\n')
            ++q;
        return q;
    }
    size_t w = 0, last_rn = 0;
    for (; LQ_CL(p + w) & LQ_UC_SPACE; ++w)
        if (LQ_CP(p + w) == '\r' || LQ_CP(p + w) == '\n')
            last_rn = p + w + 1;
    if (last_rn)
        return last_rn;
    return p + lq_space_run(e, p, n);
}

static void lq_split_llama3(lq_enc *e, size_t n)
{
    for (size_t p = 0; p < n && !e->oom;) {
        size_t q = lq_llama3_word(e, p, n);
        lq_bpe_word(e, p, q);
        p = q;
    }
}

#undef LQ_CP
#undef LQ_CL

/* A text fragment (no special tokens in it) for byte-level BPE. */
static void lq_bpe_fragment(lq_enc *e, const unsigned char *s, size_t len)
{
    if (!lq_grow((void **)&e->cps, &e->cps_cap, len, sizeof(uint32_t)) ||
        !lq_grow((void **)&e->cls, &e->cls_cap, len, sizeof(unsigned))) {
        e->oom = 1;
        return;
    }
    size_t n = 0;
    for (size_t i = 0, used; i < len; i += used) {
        e->cps[n] = lq_utf8_decode(s + i, len - i, &used);
        e->cls[n] = lq_uc_class(e->cps[n]);
        ++n;
    }
    switch (e->t->h->pre) {
    case LQ_TOK_PRE_GPT2:
        lq_split_gpt2(e, n);
        break;
    case LQ_TOK_PRE_LLAMA3:
        lq_split_llama3(e, n);
        break;
    default:
        lq_bpe_word(e, 0, n);
    }
}

/* ---- SentencePiece BPE ------------------------------------------------------- */

/* A text fragment: spaces become U+2581 (one more in front when asked), the
 * UTF-8 characters merge by score, what is not a token falls back to bytes. */
static void lq_spm_fragment(lq_enc *e, const unsigned char *s, size_t len, int space_prefix)
{
    if (!lq_grow((void **)&e->bytes, &e->bytes_cap, 3 * (len + 1), 1)) {
        e->oom = 1;
        return;
    }
    size_t m = 0;
    for (size_t i = 0; i < len + (size_t)space_prefix; ++i) {
        unsigned char c = i < (size_t)space_prefix ? ' ' : s[i - (size_t)space_prefix];
        if (c == ' ') {
            memcpy(e->bytes + m, "\xE2\x96\x81", 3);
            m += 3;
        } else {
            e->bytes[m++] = c;
        }
    }
    if (!lq_grow_syms(e, m))
        return;
    static const unsigned char len_of_high[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    size_t k = 0;
    for (size_t i = 0; i < m; ++k) {
        size_t cl = len_of_high[e->bytes[i] >> 4];
        if (cl > m - i)
            cl = m - i;
        e->syms[k] = (struct lq_sym){lq_tok_lookup(e->t, e->bytes + i, cl), (uint32_t)i,
                                     (uint32_t)cl, (int32_t)k - 1, -1};
        if (k)
            e->syms[k - 1].next = (int32_t)k;
        i += cl;
    }
    lq_merge_all(e, e->bytes, k);
    const int32_t *byte_tok = (const int32_t *)(e->t->base + e->t->h->byte_tokens_off);
    for (int32_t i = k ? 0 : -1; i >= 0; i = e->syms[i].next) {
        const struct lq_sym *y = &e->syms[i];
        if (y->id >= 0) {
            lq_push(e, y->id);
            continue;
        }
        for (uint32_t j = 0; j < y->len; ++j) {
            int32_t b = byte_tok[e->bytes[y->off + j]];
            if (b >= 0)
                lq_push(e, b);
            else
                e->no_byte_token = 1;
        }
    }
}

/* ---- special tokens, then the model ------------------------------------------ */

typedef struct {
    size_t off, len;
    int32_t id; /* >= 0: a special token; -1: text */
} lq_frag;

/* Cuts every occurrence of the special tokens out of the text fragments,
 * longest token first (as llama.cpp does). Returns the fragment count, or
 * -1 when out of memory; *out is malloc'd. */
static int64_t lq_partition(const lq_tokenizer *t, const unsigned char *text, size_t len,
                            int parse_special, lq_frag **out)
{
    size_t cap = 16, n = 1;
    lq_frag *f = malloc(cap * sizeof *f);
    if (!f)
        return -1;
    f[0] = (lq_frag){0, len, -1};
    const int32_t *specials = (const int32_t *)(t->base + t->h->specials_off);
    for (uint32_t k = 0; k < t->h->n_specials; ++k) {
        int32_t id = specials[k];
        uint32_t type = t->tokens[id].type;
        if (!parse_special && (type == LQ_TOK_CONTROL || type == LQ_TOK_UNKNOWN))
            continue;
        size_t kl;
        const char *key = LQ_TOK_FN(piece)(t, id, 1, &kl);
        if (kl == 0)
            continue;
        for (size_t i = 0; i < n; ++i) {
            if (f[i].id >= 0 || f[i].len < kl)
                continue;
            const unsigned char *s = text + f[i].off;
            const unsigned char *hit = NULL;
            for (size_t j = 0; j + kl <= f[i].len && !hit; ++j)
                if (s[j] == (unsigned char)key[0] && memcmp(s + j, key, kl) == 0)
                    hit = s + j;
            if (!hit)
                continue;
            if (n + 2 > cap) {
                lq_frag *g = realloc(f, (cap *= 2) * sizeof *f);
                if (!g) {
                    free(f);
                    return -1;
                }
                f = g;
            }
            /* [before][token][after]: `after` is scanned again as fragment i + 2. */
            size_t before = (size_t)(hit - s), after = f[i].len - before - kl;
            memmove(f + i + 3, f + i + 1, (n - i - 1) * sizeof *f);
            f[i + 2] = (lq_frag){f[i].off + before + kl, after, -1};
            f[i + 1] = (lq_frag){f[i].off + before, kl, id};
            f[i].len = before;
            n += 2;
        }
    }
    *out = f;
    return (int64_t)n;
}

int64_t LQ_TOK_FN(encode)(const lq_tokenizer *t, const char *text, size_t len, int add_bos,
                          int parse_special, int32_t *ids, int64_t cap)
{
    const lq_tok_header *h = t->h;
    if (add_bos < 0)
        add_bos = (h->flags & LQ_TOK_ADD_BOS) != 0;
    int add_eos = (h->flags & LQ_TOK_ADD_EOS) != 0;
    lq_enc e;
    memset(&e, 0, sizeof e);
    e.t = t;
    e.ids = ids;
    e.cap = ids ? cap : 0;
    lq_frag *frags = NULL;
    int64_t nf = lq_partition(t, (const unsigned char *)text, len, parse_special, &frags);
    if (nf < 0)
        return -1;
    if (add_bos && h->bos >= 0)
        lq_push(&e, h->bos);
    int prev_special = 1;
    for (int64_t i = 0; i < nf && !e.oom; ++i) {
        const lq_frag *f = &frags[i];
        if (f->id >= 0) {
            lq_push(&e, f->id);
            prev_special = 1;
            continue;
        }
        if (f->len == 0)
            continue;
        const unsigned char *s = (const unsigned char *)text + f->off;
        if (h->model == LQ_TOK_MODEL_BPE)
            lq_bpe_fragment(&e, s, f->len);
        else
            lq_spm_fragment(&e, s, f->len, prev_special && (h->flags & LQ_TOK_ADD_SPACE_PREFIX));
        prev_special = 0;
    }
    if (add_eos && h->eos >= 0)
        lq_push(&e, h->eos);
    free(frags);
    free(e.cps);
    free(e.cls);
    free(e.bytes);
    free(e.syms);
    free(e.heap);
    return e.oom ? -1 : e.no_byte_token ? -2 : e.n;
}

