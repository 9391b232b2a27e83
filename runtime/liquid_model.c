/*
 * liquid_model.c - runtime of a liquidc artifact (lib and exe).
 *
 * Compiled once per model, with the model's configuration header:
 *     cc -std=c11 -O2 -fPIC -include P_config.h -c liquid_model.c -o P_model.o
 * (or -DLQ_CONFIG_HEADER='"P_config.h"').  liquid_runtime.h must sit next to
 * this file.  Every exported symbol carries the prefix P (token pasting), so
 * the runtimes of several models link into one program.  See
 * liquid_runtime.h for the configuration macros and liquid_model.h.in for the
 * documented API.
 *
 * Weights file format (.lqw): see liquid_lqw.h.
 *
 * Memory: P_create allocates the context, a 64-byte aligned arena of
 * LQ_ARENA_FLOATS floats and (unless the embedded weights are used) a
 * 64-byte aligned copy of the weights; P_create_batch an arena per row, a
 * time span per row and its worker threads.  Nothing is allocated afterwards.
 *
 * Threads (batch contexts): the caller and threads-1 workers each run a
 * contiguous share of the rows (a multiple of 4, the kernel's row group).
 * Workers spin briefly for the next step, then sleep on a condition
 * variable, so an idle context costs no CPU.  Compile with -DLQ_NO_THREADS
 * for a runtime without pthreads (batches then run on the caller).
 */
#if !defined(LQ_NO_THREADS) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* sysconf */
#endif
#include "liquid_runtime.h"
#include "liquid_lqw.h"
#include "liquid_spin.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef LQ_NO_THREADS
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#endif

#define LQ_ALIGN 64

/* ---- error reporting ---------------------------------------------------- */

#include "liquid_error.h"

LQ_API const char *LQ_LAST_ERROR(void)
{
    return lq_err_buf[0] ? lq_err_buf : "no error";
}

/* ---- embedded weights --------------------------------------------------- */

#if LQ_EMBEDDED_WEIGHTS
#include "liquid_embed.h"
#endif

/* ---- context ------------------------------------------------------------ */

#define LQ_MAX_THREADS 64
/* Fewest rows worth a thread of their own. */
#define LQ_ROWS_PER_THREAD 8
/* Floats between two threads' shares of the arenas (64 KiB): measured on
 * AMD Zen 5, one thread's rows next to another's cost the second thread ~25%
 * (hardware prefetches into the neighbour's lines); 60 KiB apart, nothing. */
#define LQ_SHARE_GUARD 16384

typedef struct lq_pool lq_pool;

struct LQ_CTX {
    float *arena;         /* the rows' arenas (lq_row), 64-byte aligned */
    size_t arena_floats;  /* floats allocated at arena */
    int64_t share;        /* rows per thread: a multiple of 4, or all rows */
    size_t share_floats;  /* from one share's first arena to the next's */
    const float *weights; /* LQ_WEIGHTS_FLOATS floats, 64-byte aligned */
    float *owned_weights; /* heap copy when loaded from a file, else NULL */
    int64_t rows;         /* sequences (1 for P_create) */
    float *ts;            /* rows time spans (batch contexts), else NULL */
    lq_pool *pool;        /* worker threads, or NULL */
};

static size_t lq_round_up(size_t bytes)
{
    size_t r = (bytes + (LQ_ALIGN - 1)) / LQ_ALIGN * LQ_ALIGN;
    return r ? r : LQ_ALIGN;
}

static void *lq_aligned_alloc(size_t bytes)
{
    return aligned_alloc(LQ_ALIGN, lq_round_up(bytes));
}

static int lq_host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Loads and validates a .lqw file into a new aligned buffer (NULL + error). */
static float *lq_load_weights(const char *path)
{
    const uint64_t want_hash = (uint64_t)(LQ_WEIGHTS_HASH);
    const uint64_t want_count = (uint64_t)(LQ_WEIGHTS_FLOATS);
    unsigned char hdr[LQ_LQW_HEADER_BYTES];
    float *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        lq_set_error("%s: cannot open weights file: %s", path, strerror(errno));
        return NULL;
    }
    /* File size, for exact-size checks and precise messages. */
    long fsize = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        fsize = ftell(f);
    if (fsize < 0 || fseek(f, 0, SEEK_SET) != 0) {
        lq_set_error("%s: cannot determine the weights file size (not a regular file?)", path);
        goto fail;
    }
    if (fread(hdr, 1, sizeof hdr, f) != sizeof hdr || (unsigned long)fsize < LQ_LQW_HEADER_BYTES) {
        if (ferror(f))
            lq_set_error("%s: cannot read weights file: %s", path, strerror(errno));
        else
            lq_set_error("%s: not a liquidc weights file (shorter than the %d-byte header)", path,
                     LQ_LQW_HEADER_BYTES);
        goto fail;
    }
    char problem[256];
    if (lq_lqw_check(hdr, (uint64_t)fsize, want_hash, want_count, LQ_MODEL_NAME, problem,
                     sizeof problem, NULL, NULL) != 0) {
        lq_set_error("%s: %s", path, problem);
        goto fail;
    }
    buf = lq_aligned_alloc((size_t)want_count * sizeof(float));
    if (!buf) {
        lq_set_error("%s: out of memory for %" PRIu64 " weights", path, want_count);
        goto fail;
    }
    if (want_count && fread(buf, sizeof(float), (size_t)want_count, f) != (size_t)want_count) {
        lq_set_error("%s: read error: %s", path, ferror(f) ? strerror(errno) : "unexpected end of file");
        goto fail;
    }
    if (lq_lqw_verify(hdr, (const unsigned char *)buf, want_count * sizeof(float), problem,
                      sizeof problem) != 0) {
        lq_set_error("%s: %s", path, problem);
        goto fail;
    }
    if (!lq_host_is_little_endian()) {
        unsigned char *p = (unsigned char *)buf;
        for (size_t i = 0; i < (size_t)want_count; ++i, p += 4) {
            unsigned char t0 = p[0], t1 = p[1];
            p[0] = p[3];
            p[1] = p[2];
            p[2] = t1;
            p[3] = t0;
        }
    }
    fclose(f);
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

/* A context of `rows` arenas (rows >= 1, checked by the caller), zeroed,
 * in shares of `share` consecutive rows, LQ_SHARE_GUARD floats apart. */
static LQ_CTX *lq_create(const char *weights_path, int64_t rows, int64_t share)
{
    LQ_CTX *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        lq_set_error("%s: out of memory", LQ_MODEL_NAME);
        return NULL;
    }
    ctx->rows = rows;
    ctx->share = share;
    const int64_t shares = (rows + share - 1) / share;
    ctx->share_floats = (size_t)share * LQ_ARENA_FLOATS + (shares > 1 ? LQ_SHARE_GUARD : 0);
    ctx->arena_floats = (size_t)shares * ctx->share_floats;
    const size_t arena_bytes = ctx->arena_floats * sizeof(float);
    ctx->arena = lq_aligned_alloc(arena_bytes);
    if (!ctx->arena) {
        lq_set_error("%s: out of memory for %" PRId64 " arena%s of %d floats", LQ_MODEL_NAME, rows,
                     rows == 1 ? "" : "s", LQ_ARENA_FLOATS);
        goto fail;
    }
    memset(ctx->arena, 0, arena_bytes);

    if (weights_path) {
        ctx->owned_weights = lq_load_weights(weights_path);
        if (!ctx->owned_weights)
            goto fail;
        ctx->weights = ctx->owned_weights;
    } else {
#if LQ_EMBEDDED_WEIGHTS
        size_t have = (size_t)((uintptr_t)LQ_SYM(_weights_data_end) -
                               (uintptr_t)LQ_SYM(_weights_data));
        size_t want = (size_t)LQ_WEIGHTS_FLOATS * sizeof(float);
        if (have != want) {
            lq_set_error("%s: embedded weights are %zu bytes, expected %zu (bad build)",
                         LQ_MODEL_NAME, have, want);
            goto fail;
        }
        ctx->weights = (const float *)(const void *)LQ_SYM(_weights_data);
#else
        lq_set_error("%s: no weights file given and the model was compiled without embedded "
                     "weights",
                     LQ_MODEL_NAME);
        goto fail;
#endif
    }
    lq_err_buf[0] = '\0';
    return ctx;
fail:
    LQ_DESTROY(ctx);
    return NULL;
}

LQ_API LQ_CTX *LQ_CREATE(const char *weights_path)
{
    return lq_create(weights_path, 1, 1);
}

/* Row r's arena. */
static float *lq_row(const LQ_CTX *ctx, int64_t r)
{
    return ctx->arena + (size_t)(r / ctx->share) * ctx->share_floats +
           (size_t)(r % ctx->share) * LQ_ARENA_FLOATS;
}

static void lq_pool_stop(lq_pool *p);

LQ_API void LQ_DESTROY(LQ_CTX *ctx)
{
    if (!ctx)
        return;
    lq_pool_stop(ctx->pool);
    free(ctx->ts);
    free(ctx->arena);
    free(ctx->owned_weights);
    free(ctx);
}

LQ_API void LQ_RESET(LQ_CTX *ctx)
{
    if (ctx)
        memset(ctx->arena, 0, ctx->arena_floats * sizeof(float));
}

/* One step without argument checks. */
static inline void lq_step(LQ_CTX *ctx, const float *x, float dt, float *y)
{
    float *arena = ctx->arena;
    memcpy(arena + LQ_INPUT_OFFSET, x, (size_t)LQ_INPUT_SIZE * sizeof(float));
    LQ_KERNEL_STEP(ctx->weights, arena, dt);
    if (y)
        memcpy(y, arena + LQ_OUTPUT_OFFSET, (size_t)LQ_OUTPUT_SIZE * sizeof(float));
}

/* A batch context given to the one-sequence calls: error. */
static int lq_single_only(const LQ_CTX *ctx, const char *fn)
{
    if (ctx->rows == 1)
        return 0;
    lq_set_error("%s: %s: the context has %" PRId64 " rows; use step_batch", LQ_MODEL_NAME, fn,
                 ctx->rows);
    return 1;
}

LQ_API int LQ_STEP(LQ_CTX *ctx, const float *x, float dt, float *y)
{
    if (!ctx || !x) {
        lq_set_error("%s: step: %s is NULL", LQ_MODEL_NAME, !ctx ? "context" : "input");
        return 1;
    }
    if (lq_single_only(ctx, "step"))
        return 1;
    lq_step(ctx, x, dt, y);
    return 0;
}

LQ_API int LQ_RUN(LQ_CTX *ctx, const float *xs, const float *dts, int64_t T, float *ys)
{
    if (!ctx || T < 0 || (T > 0 && !xs)) {
        lq_set_error("%s: run: %s", LQ_MODEL_NAME,
                     !ctx ? "context is NULL" : T < 0 ? "negative step count" : "inputs are NULL");
        return 1;
    }
    if (lq_single_only(ctx, "run"))
        return 1;
    for (int64_t t = 0; t < T; ++t)
        lq_step(ctx, xs + (size_t)t * LQ_INPUT_SIZE, dts ? dts[t] : 1.0f,
                ys ? ys + (size_t)t * LQ_OUTPUT_SIZE : NULL);
    return 0;
}

LQ_API size_t LQ_STATE_SIZE_FN(int which)
{
    if (which == 0)
        return LQ_STATE0_SIZE;
    if (which == 1 && LQ_NUM_STATES == 2)
        return LQ_STATE1_SIZE;
    return 0;
}

static float *lq_state_slot(float *arena, int which)
{
    return arena + (which == 0 ? LQ_STATE0_OFFSET : LQ_STATE1_OFFSET);
}

static int lq_check_state_args(const void *ctx, int which, const void *buf, const char *fn)
{
    if (!ctx || !buf) {
        lq_set_error("%s: %s: %s is NULL", LQ_MODEL_NAME, fn, !ctx ? "context" : "buffer");
        return 1;
    }
    if (which < 0 || which >= LQ_NUM_STATES) {
        lq_set_error("%s: %s: no state %d (the model has %d state%s)", LQ_MODEL_NAME, fn, which,
                     LQ_NUM_STATES, LQ_NUM_STATES == 1 ? "" : "s");
        return 1;
    }
    return 0;
}

LQ_API int LQ_GET_STATE(const LQ_CTX *ctx, int which, float *out)
{
    if (lq_check_state_args(ctx, which, out, "get_state"))
        return 1;
    const size_t n = LQ_STATE_SIZE_FN(which);
    for (int64_t r = 0; r < ctx->rows; ++r)
        memcpy(out + (size_t)r * n, lq_state_slot(lq_row(ctx, r), which), n * sizeof(float));
    return 0;
}

LQ_API int LQ_SET_STATE(LQ_CTX *ctx, int which, const float *in)
{
    if (lq_check_state_args(ctx, which, in, "set_state"))
        return 1;
    const size_t n = LQ_STATE_SIZE_FN(which);
    for (int64_t r = 0; r < ctx->rows; ++r)
        memcpy(lq_state_slot(lq_row(ctx, r), which), in + (size_t)r * n, n * sizeof(float));
    return 0;
}

/* ---- batches ------------------------------------------------------------ */

LQ_API int64_t LQ_BATCH_ROWS(const LQ_CTX *ctx)
{
    return ctx ? ctx->rows : 0;
}

/* Rows [r0, r1) of one batch step, within one share. */
static void lq_step_rows(LQ_CTX *ctx, int64_t r0, int64_t r1, const float *xs, const float *dts,
                         float *ys)
{
    for (int64_t c0 = r0; c0 < r1; c0 += LQ_KERNEL_MAX_ROWS) {
        const int64_t n = r1 - c0 < LQ_KERNEL_MAX_ROWS ? r1 - c0 : LQ_KERNEL_MAX_ROWS;
        float *arenas = lq_row(ctx, c0);
        for (int64_t r = 0; r < n; ++r) {
            memcpy(arenas + (size_t)r * LQ_ARENA_FLOATS + LQ_INPUT_OFFSET,
                   xs + (size_t)(c0 + r) * LQ_INPUT_SIZE, (size_t)LQ_INPUT_SIZE * sizeof(float));
            ctx->ts[c0 + r] = dts ? dts[c0 + r] : 1.0f;
        }
        LQ_KERNEL_STEP_ROWS(ctx->weights, arenas, ctx->ts + c0, n);
        if (ys)
            for (int64_t r = 0; r < n; ++r)
                memcpy(ys + (size_t)(c0 + r) * LQ_OUTPUT_SIZE,
                       arenas + (size_t)r * LQ_ARENA_FLOATS + LQ_OUTPUT_OFFSET,
                       (size_t)LQ_OUTPUT_SIZE * sizeof(float));
    }
}

#ifndef LQ_NO_THREADS
/* Thread tid's share of the rows [*r0, *r1). */
static void lq_share(const LQ_CTX *ctx, int tid, int64_t *r0, int64_t *r1)
{
    *r0 = ctx->share * tid < ctx->rows ? ctx->share * tid : ctx->rows;
    *r1 = *r0 + ctx->share < ctx->rows ? *r0 + ctx->share : ctx->rows;
}

struct lq_pool {
    LQ_CTX *ctx;
    const float *xs, *dts; /* the step being run */
    float *ys;
    int threads, started;
    unsigned spin; /* pauses before a waiting thread yields or sleeps */
    atomic_int job;  /* step number; -1: quit */
    atomic_int done; /* workers finished with the step */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lq_worker {
        lq_pool *pool;
        int tid;
        pthread_t thread;
    } workers[LQ_MAX_THREADS];
};

static void *lq_worker_main(void *arg)
{
    struct lq_worker *me = arg;
    lq_pool *p = me->pool;
    int seen = 0;
    for (;;) {
        int job;
        /* Spin for the next step (p->spin pause hints), then sleep. */
        for (unsigned spins = 0; (job = atomic_load_explicit(&p->job, memory_order_acquire)) == seen;
             ++spins) {
            if (spins < p->spin) {
                lq_pause();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while ((job = atomic_load_explicit(&p->job, memory_order_acquire)) == seen)
                pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
            break;
        }
        if (job < 0)
            return NULL;
        seen = job;
        int64_t r0, r1;
        lq_share(p->ctx, me->tid, &r0, &r1);
        lq_step_rows(p->ctx, r0, r1, p->xs, p->dts, p->ys);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel);
    }
}

static void lq_pool_post(lq_pool *p, int job)
{
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->job, job, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void lq_pool_stop(lq_pool *p)
{
    if (!p)
        return;
    lq_pool_post(p, -1);
    for (int i = 1; i < p->started; ++i)
        pthread_join(p->workers[i].thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Starts threads-1 workers; 0, or 1 with the error set. */
static int lq_pool_start(LQ_CTX *ctx, int threads)
{
    lq_pool *p = calloc(1, sizeof *p);
    if (!p) {
        lq_set_error("%s: out of memory", LQ_MODEL_NAME);
        return 1;
    }
    p->ctx = ctx;
    p->threads = threads;
    p->spin = lq_spin_budget(threads, 65536);
    p->started = 1;
    atomic_init(&p->job, 0);
    atomic_init(&p->done, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    ctx->pool = p;
    for (; p->started < threads; ++p->started) {
        struct lq_worker *w = &p->workers[p->started];
        w->pool = p;
        w->tid = p->started;
        if (pthread_create(&w->thread, NULL, lq_worker_main, w) != 0) {
            lq_set_error("%s: could only start %d of %d threads", LQ_MODEL_NAME, p->started,
                         threads);
            return 1;
        }
    }
    return 0;
}

static int lq_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > LQ_MAX_THREADS ? LQ_MAX_THREADS : (int)n;
}
#else
static void lq_pool_stop(lq_pool *p)
{
    (void)p;
}
static int lq_online_cpus(void)
{
    return 1;
}
#endif

LQ_API int LQ_BATCH_THREADS(const LQ_CTX *ctx)
{
#ifndef LQ_NO_THREADS
    if (ctx && ctx->pool)
        return ctx->pool->threads;
#endif
    return ctx ? 1 : 0;
}

LQ_API LQ_CTX *LQ_CREATE_BATCH(const char *weights_path, int64_t rows, int threads)
{
    const size_t max_rows = SIZE_MAX / sizeof(float) / (LQ_ARENA_FLOATS + LQ_SHARE_GUARD) / 2;
    if (rows < 1 || (uint64_t)rows > max_rows) {
        lq_set_error("%s: create_batch: %" PRId64 " rows (expected 1 to %zu)", LQ_MODEL_NAME, rows,
                     max_rows);
        return NULL;
    }
    if (threads < 0 || threads > LQ_MAX_THREADS) {
        lq_set_error("%s: create_batch: %d threads (expected 0 for one per CPU, or 1 to %d)",
                     LQ_MODEL_NAME, threads, LQ_MAX_THREADS);
        return NULL;
    }
    if (threads == 0)
        threads = lq_online_cpus();
    const int64_t useful = (rows + LQ_ROWS_PER_THREAD - 1) / LQ_ROWS_PER_THREAD;
    if (threads > useful)
        threads = (int)useful;
    /* Each thread's share: contiguous, a multiple of 4 (the kernel's row
     * group) except at the end. */
    const int64_t share = threads == 1 ? rows : ((rows + threads - 1) / threads + 3) / 4 * 4;
    LQ_CTX *ctx = lq_create(weights_path, rows, share);
    if (!ctx)
        return NULL;
    ctx->ts = lq_aligned_alloc((size_t)rows * sizeof(float));
    if (!ctx->ts) {
        lq_set_error("%s: out of memory", LQ_MODEL_NAME);
        goto fail;
    }
#ifndef LQ_NO_THREADS
    if (threads > 1 && lq_pool_start(ctx, threads))
        goto fail;
#endif
    lq_err_buf[0] = '\0';
    return ctx;
fail:
    LQ_DESTROY(ctx);
    return NULL;
}

LQ_API int LQ_STEP_BATCH(LQ_CTX *ctx, const float *xs, const float *dts, float *ys)
{
    if (!ctx || !xs) {
        lq_set_error("%s: step_batch: %s is NULL", LQ_MODEL_NAME, !ctx ? "context" : "input");
        return 1;
    }
    if (!ctx->ts) { /* a P_create context: one row */
        lq_step(ctx, xs, dts ? dts[0] : 1.0f, ys);
        return 0;
    }
#ifndef LQ_NO_THREADS
    lq_pool *p = ctx->pool;
    if (p) {
        p->xs = xs;
        p->dts = dts;
        p->ys = ys;
        atomic_store_explicit(&p->done, 0, memory_order_relaxed);
        const int job = atomic_load_explicit(&p->job, memory_order_relaxed);
        lq_pool_post(p, job == INT_MAX ? 1 : job + 1); /* never -1 (quit) */
        int64_t r0, r1;
        lq_share(ctx, 0, &r0, &r1);
        lq_step_rows(ctx, r0, r1, xs, dts, ys);
        for (unsigned spins = 0;
             atomic_load_explicit(&p->done, memory_order_acquire) < p->threads - 1; ++spins)
            if (spins < p->spin)
                lq_pause();
            else
                sched_yield();
        return 0;
    }
#endif
    lq_step_rows(ctx, 0, ctx->rows, xs, dts, ys);
    return 0;
}
