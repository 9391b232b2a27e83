/*
 * liquid_lm.c - runtime of a liquidc language model (lib and exe): the
 * context (weights, arena, logits), the thread pool that runs the forward
 * kernel on every thread, and the barrier the kernel calls between ops.
 *
 * Compiled once per model with its configuration header:
 *     cc -std=c11 -O2 -pthread -include P_config.h -c liquid_lm.c
 * Weights: compiled in (LQ_EMBEDDED_WEIGHTS 1) or a .lqw file (liquid_lqw.h),
 * memory-mapped, never copied.
 */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "liquid_lm_runtime.h"
#include "liquid_lqw.h"
#include "liquid_spin.h"
#include "liquid_tokenizer.h"

#if LQ_EMBEDDED_WEIGHTS
#include "liquid_embed.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LQ_KERNEL LQ_CAT(LQ_PREFIX, _kernel_forward)

void LQ_KERNEL(const float *weights, float *arena, const int32_t *ids, int64_t rows, int64_t pos,
               float *logits, int64_t tid, int64_t threads, void *sync, const void *weights_f16,
               const void *weights_i8, int64_t logit_rows);

/* ---- errors --------------------------------------------------------------- */

#include "liquid_error.h"

const char *LQ_SYM(_lm_last_error)(void)
{
    return lq_err_buf[0] ? lq_err_buf : "no error";
}

/* For liquid_lm_text.c: the same last-error buffer. */
void LQ_SYM(_lm_set_error)(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lq_vset_error(fmt, ap);
    va_end(ap);
}

/* ---- threads: every thread runs the kernel; they meet at a barrier ------- */

typedef struct {
    atomic_int arrived, generation;
    int threads;
    unsigned spin; /* pauses before yielding (lq_spin_budget) */
} lq_barrier;

/* Waits until *word differs from `value`: `spin` pauses, then yields, then,
 * once it has waited long (an idle context between calls), sleeps 50 us at
 * a time, so idle threads use no CPU. */
static void lq_wait_change(atomic_int *word, int value, unsigned spin)
{
    for (unsigned n = 0; atomic_load_explicit(word, memory_order_acquire) == value; ++n) {
        if (n < spin) {
            lq_pause();
        } else if (n < spin + 2000) {
            sched_yield();
        } else {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
}


/* Called by the kernel after each op; the last thread to arrive releases the others. */
void LQ_CAT(LQ_PREFIX, _barrier)(void *p)
{
    lq_barrier *b = p;
    if (b->threads == 1)
        return;
    int gen = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == b->threads - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
        return;
    }
    lq_wait_change(&b->generation, gen, b->spin);
}

typedef struct {
    const float *w;
    float *arena, *logits;
    const int32_t *ids;
    int64_t rows, pos, logit_rows;
    int threads;
    atomic_int job; /* incremented per forward call; -1: quit */
    lq_barrier bar;
} lq_pool;

typedef struct {
    lq_pool *pool;
    int tid;
} lq_worker;

static void *lq_worker_main(void *arg)
{
    lq_worker *me = arg;
    lq_pool *p = me->pool;
    int seen = 0;
    for (;;) {
        lq_wait_change(&p->job, seen, p->bar.spin);
        int job = atomic_load_explicit(&p->job, memory_order_acquire);
        if (job < 0)
            return NULL;
        seen = job;
        LQ_KERNEL(p->w, p->arena, p->ids, p->rows, p->pos, p->logits, me->tid, p->threads, &p->bar,
                  p->w, p->w, p->logit_rows);
    }
}

/* ---- the context ---------------------------------------------------------- */

#define LQ_MAX_THREADS 64

struct LQ_LM {
    lq_pool pool;
    float *arena, *logits;
    int32_t *ids;
    void *map; /* the mapped .lqw file, or NULL (embedded weights) */
    size_t map_size;
    lq_tokenizer tok; /* in the .lqw file or embedded; tok.h NULL: none */
    int64_t pos;      /* tokens in the caches (forward calls advance it) */
    int32_t pending;  /* sampled by _lm_generate, not yet evaluated; -1: none */
    void *scratch;    /* the sampler's, allocated on first use */
    int started; /* threads running, the caller included */
    pthread_t workers[LQ_MAX_THREADS];
    lq_worker worker_args[LQ_MAX_THREADS];
};

/* Maps the .lqw file; returns the weights or NULL (error set); the
 * tokenizer image's place in *tok_off, *tok_bytes (0: none). */
static const float *lq_map_weights(const char *path, void **base, size_t *size,
                                   uint64_t *tok_off, uint64_t *tok_bytes)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        lq_set_error("%s: cannot open the weights: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < LQ_LQW_HEADER_BYTES) {
        lq_set_error("%s: not a liquidc weights file (shorter than the %d-byte header)", path,
                     LQ_LQW_HEADER_BYTES);
        close(fd);
        return NULL;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        lq_set_error("%s: cannot map: %s", path, strerror(errno));
        return NULL;
    }
    char problem[256];
    if (lq_lqw_check(m, (uint64_t)st.st_size, (uint64_t)LQ_WEIGHTS_HASH,
                     (uint64_t)LQ_WEIGHTS_FLOATS, LQ_MODEL_NAME, problem, sizeof problem, tok_off,
                     tok_bytes) != 0) {
        lq_set_error("%s: %s", path, problem);
        munmap(m, (size_t)st.st_size);
        return NULL;
    }
    if (lq_lqw_verify(m, (const unsigned char *)m + LQ_LQW_HEADER_BYTES,
                      (uint64_t)st.st_size - LQ_LQW_HEADER_BYTES, problem, sizeof problem) != 0) {
        lq_set_error("%s: %s", path, problem);
        munmap(m, (size_t)st.st_size);
        return NULL;
    }
    *base = m;
    *size = (size_t)st.st_size;
    return (const float *)((const unsigned char *)m + LQ_LQW_HEADER_BYTES);
}

LQ_LM *LQ_SYM(_lm_create)(const char *weights_path, int threads)
{
    if (threads < 1 || threads > LQ_MAX_THREADS) {
        lq_set_error("%s: threads must be in [1, %d], got %d", LQ_MODEL_NAME, LQ_MAX_THREADS,
                     threads);
        return NULL;
    }
    LQ_LM *m = calloc(1, sizeof *m);
    if (!m) {
        lq_set_error("%s: out of memory", LQ_MODEL_NAME);
        return NULL;
    }
    m->started = 1;
    m->pending = -1;
    const float *w = NULL;
    const void *tok = NULL;
    uint64_t tok_off = 0, tok_bytes = 0;
    if (weights_path) {
        w = lq_map_weights(weights_path, &m->map, &m->map_size, &tok_off, &tok_bytes);
        if (w && tok_bytes)
            tok = (const unsigned char *)m->map + tok_off;
    } else {
#if LQ_EMBEDDED_WEIGHTS
        w = (const float *)LQ_SYM(_weights_data); /* compiled in, 64-byte aligned */
#if LQ_TOKENIZER
        tok = LQ_SYM(_tokenizer_data);
        tok_bytes = (uint64_t)(LQ_SYM(_tokenizer_data_end) - LQ_SYM(_tokenizer_data));
#endif
#else
        lq_set_error("%s: no weights file given and the model was compiled without embedded "
                     "weights", LQ_MODEL_NAME);
#endif
    }
    if (w && LQ_TOKENIZER && !tok) {
        lq_set_error("%s: the weights file has no tokenizer, but the model was compiled with one "
                     "(a .lqw written for another build?)", weights_path ? weights_path : LQ_MODEL_NAME);
        w = NULL;
    }
    if (w && tok) {
        char problem[200];
        if (LQ_TOK_FN(open)(&m->tok, tok, (size_t)tok_bytes, problem, sizeof problem) != 0) {
            lq_set_error("%s: %s", weights_path ? weights_path : LQ_MODEL_NAME, problem);
            w = NULL;
        } else if (lq_tok_count(&m->tok) > LQ_VOCAB) {
            lq_set_error("%s: the tokenizer has %d tokens, more than the model's vocabulary of %d",
                         weights_path ? weights_path : LQ_MODEL_NAME, lq_tok_count(&m->tok),
                         LQ_VOCAB);
            w = NULL;
        }
    }
    m->arena = aligned_alloc(64, ((size_t)LQ_ARENA_FLOATS * 4 + 63) / 64 * 64);
    m->logits = malloc(sizeof(float) * (size_t)LQ_MAX_ROWS * LQ_VOCAB);
    m->ids = malloc(sizeof(int32_t) * LQ_MAX_ROWS);
    if (w && (!m->arena || !m->logits || !m->ids))
        lq_set_error("%s: out of memory", LQ_MODEL_NAME);
    if (!w || !m->arena || !m->logits || !m->ids) {
        LQ_SYM(_lm_destroy)(m);
        return NULL;
    }
    memset(m->arena, 0, (size_t)LQ_ARENA_FLOATS * 4);
    lq_pool *p = &m->pool;
    p->w = w;
    p->arena = m->arena;
    p->logits = m->logits;
    p->ids = m->ids;
    p->threads = threads;
    p->bar.threads = threads;
    p->bar.spin = lq_spin_budget(threads, 100000);
    atomic_init(&p->job, 0);
    atomic_init(&p->bar.arrived, 0);
    atomic_init(&p->bar.generation, 0);
    for (; m->started < threads; ++m->started) {
        m->worker_args[m->started].pool = p;
        m->worker_args[m->started].tid = m->started;
        if (pthread_create(&m->workers[m->started], NULL, lq_worker_main,
                           &m->worker_args[m->started]) != 0)
            break;
    }
    if (m->started < threads) {
        lq_set_error("%s: could only start %d of %d threads", LQ_MODEL_NAME, m->started, threads);
        LQ_SYM(_lm_destroy)(m);
        return NULL;
    }
    lq_err_buf[0] = '\0';
    return m;
}

int LQ_SYM(_lm_forward)(LQ_LM *m, const int32_t *ids, int64_t rows, int64_t pos,
                        int64_t logit_rows)
{
    if (!m || !ids || rows < 1 || rows > LQ_MAX_ROWS || pos < 0 || pos + rows > LQ_MAX_CONTEXT ||
        logit_rows < 0) {
        lq_set_error("%s: forward: needs 1..%d rows at positions within the context of %d",
                     LQ_MODEL_NAME, LQ_MAX_ROWS, LQ_MAX_CONTEXT);
        return 1;
    }
    for (int64_t i = 0; i < rows; ++i)
        if (ids[i] < 0 || ids[i] >= LQ_VOCAB) {
            lq_set_error("%s: forward: token id %d is outside the vocabulary of %d", LQ_MODEL_NAME,
                         (int)ids[i], LQ_VOCAB);
            return 1;
        }
    if (ids != m->ids)
        memcpy(m->ids, ids, sizeof(int32_t) * (size_t)rows);
    m->pos = pos + rows;
    lq_pool *p = &m->pool;
    p->rows = rows;
    p->pos = pos;
    p->logit_rows = logit_rows;
    atomic_fetch_add_explicit(&p->job, 1, memory_order_release);
    LQ_KERNEL(p->w, p->arena, p->ids, rows, pos, p->logits, 0, p->threads, &p->bar, p->w, p->w,
              logit_rows);
    return 0;
}

const float *LQ_SYM(_lm_logits)(const LQ_LM *m)
{
    return m ? m->logits : NULL;
}

void LQ_SYM(_lm_reset)(LQ_LM *m)
{
    if (m) {
        memset(m->arena, 0, (size_t)LQ_ARENA_FLOATS * 4);
        m->pos = 0;
        m->pending = -1;
    }
}

const char *LQ_SYM(_lm_version)(void)
{
    return LQ_COMPILER_VERSION;
}

const char *LQ_SYM(_lm_model_info)(const LQ_LM *m)
{
    static _Thread_local char info[256];
    snprintf(info, sizeof info,
             "%s: vocabulary %d, context %d, %d rows per call, %lld weight floats, %s, %s",
             LQ_MODEL_NAME, LQ_VOCAB, LQ_MAX_CONTEXT, LQ_MAX_ROWS, (long long)LQ_WEIGHTS_FLOATS,
             LQ_EMBEDDED_WEIGHTS ? "weights compiled in" : "weights mapped",
             m && m->tok.h ? (m->tok.h->chat ? "tokenizer and chat template" : "tokenizer")
                           : "no tokenizer");
    return info;
}

int64_t LQ_SYM(_lm_position)(const LQ_LM *m)
{
    return m ? m->pos : 0;
}

const lq_tokenizer *LQ_SYM(_lm_tokenizer_view)(const LQ_LM *m)
{
    return m && m->tok.h ? &m->tok : NULL;
}

int32_t *LQ_SYM(_lm_pending_slot)(LQ_LM *m)
{
    return &m->pending;
}

float *LQ_SYM(_lm_arena)(LQ_LM *m)
{
    return m->arena;
}

void LQ_SYM(_lm_set_position)(LQ_LM *m, int64_t pos)
{
    m->pos = pos;
}

void *LQ_SYM(_lm_sample_scratch)(LQ_LM *m, size_t bytes)
{
    if (!m->scratch)
        m->scratch = malloc(bytes);
    return m->scratch;
}

const void *LQ_SYM(_lm_weights_mapping)(const LQ_LM *m, size_t *size)
{
    if (size)
        *size = m ? m->map_size : 0;
    return m ? m->map : NULL;
}

void LQ_SYM(_lm_destroy)(LQ_LM *m)
{
    if (!m)
        return;
    atomic_store_explicit(&m->pool.job, -1, memory_order_release);
    for (int i = 1; i < m->started; ++i)
        pthread_join(m->workers[i], NULL);
    free(m->arena);
    free(m->logits);
    free(m->ids);
    free(m->scratch);
    if (m->map)
        munmap(m->map, m->map_size);
    free(m);
}
