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
 * 64-byte aligned copy of the weights.  Nothing is allocated afterwards.
 */
#include "liquid_runtime.h"
#include "liquid_lqw.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct LQ_CTX {
    float *arena;         /* LQ_ARENA_FLOATS floats, 64-byte aligned */
    const float *weights; /* LQ_WEIGHTS_FLOATS floats, 64-byte aligned */
    float *owned_weights; /* heap copy when loaded from a file, else NULL */
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

LQ_API LQ_CTX *LQ_CREATE(const char *weights_path)
{
    LQ_CTX *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        lq_set_error("%s: out of memory", LQ_MODEL_NAME);
        return NULL;
    }
    ctx->arena = lq_aligned_alloc((size_t)LQ_ARENA_FLOATS * sizeof(float));
    if (!ctx->arena) {
        lq_set_error("%s: out of memory for the %d-float arena", LQ_MODEL_NAME, LQ_ARENA_FLOATS);
        goto fail;
    }
    memset(ctx->arena, 0, (size_t)LQ_ARENA_FLOATS * sizeof(float));

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

LQ_API void LQ_DESTROY(LQ_CTX *ctx)
{
    if (!ctx)
        return;
    free(ctx->arena);
    free(ctx->owned_weights);
    free(ctx);
}

LQ_API void LQ_RESET(LQ_CTX *ctx)
{
    if (ctx)
        memset(ctx->arena, 0, (size_t)LQ_ARENA_FLOATS * sizeof(float));
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

LQ_API int LQ_STEP(LQ_CTX *ctx, const float *x, float dt, float *y)
{
    if (!ctx || !x) {
        lq_set_error("%s: step: %s is NULL", LQ_MODEL_NAME, !ctx ? "context" : "input");
        return 1;
    }
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
    memcpy(out, lq_state_slot(ctx->arena, which), LQ_STATE_SIZE_FN(which) * sizeof(float));
    return 0;
}

LQ_API int LQ_SET_STATE(LQ_CTX *ctx, int which, const float *in)
{
    if (lq_check_state_args(ctx, which, in, "set_state"))
        return 1;
    memcpy(lq_state_slot(ctx->arena, which), in, LQ_STATE_SIZE_FN(which) * sizeof(float));
    return 0;
}
