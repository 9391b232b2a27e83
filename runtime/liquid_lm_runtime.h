/*
 * liquid_lm_runtime.h - internal header shared by liquid_lm.c and
 * liquid_lm_main.c: checks the model configuration and declares the prefixed
 * language-model API (documented in liquid_lm.h.in, from which liquidc writes
 * the public header of a `lib` artifact).
 *
 * Configuration (P_config.h, written by liquidc, seen first via -include):
 *   LQ_PREFIX, LQ_MODEL_NAME, LQ_MAX_ROWS, LQ_MAX_CONTEXT, LQ_VOCAB,
 *   LQ_ARENA_FLOATS, LQ_WEIGHTS_FLOATS, LQ_WEIGHTS_HASH, LQ_BOS, LQ_EOS,
 *   LQ_EMBEDDED_WEIGHTS (+ LQ_WEIGHTS_PATH), LQ_DECODE_BYTES (weights read
 *   per decoded token), LQ_FLOPS_PER_TOKEN (of the products), LQ_HEAD_FLOPS
 *   (of the head, per row it computes), optional LQ_COMPILER_VERSION.
 *
 * The kernel, in a separate object:
 *     void P_kernel_forward(const float *weights, float *arena, const int32_t *ids,
 *                           int64_t rows, int64_t pos, float *logits,
 *                           int64_t tid, int64_t threads, void *sync,
 *                           const void *weights_f16, const void *weights_i8,
 *                           int64_t logit_rows);
 * runs `rows` (<= LQ_MAX_ROWS) tokens at positions pos.. and writes the
 * logits of the last min(logit_rows, rows) of them (rows of [rows,
 * LQ_VOCAB]); every thread calls it and they meet at P_barrier(sync).
 */
#ifndef LIQUID_LM_RUNTIME_H
#define LIQUID_LM_RUNTIME_H

#if !defined(LQ_PREFIX) || !defined(LQ_MAX_ROWS) || !defined(LQ_VOCAB) ||                       \
    !defined(LQ_ARENA_FLOATS) || !defined(LQ_WEIGHTS_FLOATS) || !defined(LQ_WEIGHTS_HASH)
#error "liquid_lm_runtime.h: compile with -include P_config.h (written by liquidc)"
#endif
#ifndef LQ_EMBEDDED_WEIGHTS
#define LQ_EMBEDDED_WEIGHTS 0
#endif
#ifndef LQ_COMPILER_VERSION
#define LQ_COMPILER_VERSION "unknown"
#endif

#include <stddef.h>
#include <stdint.h>

#ifndef LQ_CAT
#define LQ_CAT_(a, b) a##b
#define LQ_CAT(a, b) LQ_CAT_(a, b)
#endif
#ifndef LQ_SYM
#define LQ_SYM(suffix) LQ_CAT(LQ_PREFIX, suffix)
#endif

#define LQ_LM LQ_SYM(_lm)
typedef struct LQ_LM LQ_LM;

LQ_LM *LQ_SYM(_lm_create)(const char *weights_path, int threads);
int LQ_SYM(_lm_forward)(LQ_LM *m, const int32_t *ids, int64_t rows, int64_t pos,
                        int64_t logit_rows);
const float *LQ_SYM(_lm_logits)(const LQ_LM *m);
void LQ_SYM(_lm_reset)(LQ_LM *m);
void LQ_SYM(_lm_destroy)(LQ_LM *m);
const char *LQ_SYM(_lm_last_error)(void);
const void *LQ_SYM(_lm_weights_mapping)(const LQ_LM *m, size_t *size);

#endif /* LIQUID_LM_RUNTIME_H */
