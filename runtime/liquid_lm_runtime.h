/*
 * liquid_lm_runtime.h - internal header shared by liquid_lm.c and
 * liquid_lm_main.c: checks the model configuration and declares the prefixed
 * language-model API (documented in liquid_lm.h.in, from which liquidc writes
 * the public header of a `lib` artifact).
 *
 * Configuration (P_config.h, written by liquidc, seen first via -include):
 *   LQ_PREFIX, LQ_MODEL_NAME, LQ_MAX_ROWS, LQ_MAX_CONTEXT, LQ_VOCAB,
 *   LQ_ARENA_FLOATS, LQ_WEIGHTS_FLOATS, LQ_WEIGHTS_HASH, LQ_BOS, LQ_EOS,
 *   LQ_EMBEDDED_WEIGHTS (+ LQ_WEIGHTS_PATH), LQ_TOKENIZER (1: the .lqw file,
 *   or with embedded weights LQ_TOKENIZER_PATH, holds the tokenizer image), LQ_DECODE_BYTES (weights read
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
#ifndef LQ_TOKENIZER
#define LQ_TOKENIZER 0
#endif
#ifndef LQ_NUM_CONV_CACHES /* the caches a snapshot saves (liquid_lm_state.c) */
#define LQ_NUM_CONV_CACHES 0
#define LQ_CONV_CACHES
#endif
#ifndef LQ_NUM_KV_CACHES
#define LQ_NUM_KV_CACHES 0
#define LQ_KV_CACHES
#endif
#ifndef LQ_COMPILER_VERSION
#define LQ_COMPILER_VERSION "unknown"
#endif

#include <stddef.h>
#include <stdint.h>

#include "liquid_tokenizer.h"

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
int64_t LQ_SYM(_lm_position)(const LQ_LM *m);
const char *LQ_SYM(_lm_version)(void);
const char *LQ_SYM(_lm_model_info)(const LQ_LM *m);

/* Text (liquid_lm_text.c): the checkpoint's tokenizer, sampling, generation. */
int LQ_SYM(_lm_has_tokenizer)(const LQ_LM *m);
int64_t LQ_SYM(_lm_tokenize)(const LQ_LM *m, const char *text, size_t len, int add_bos,
                             int parse_special, int32_t *ids, int64_t cap);
const char *LQ_SYM(_lm_token_piece)(const LQ_LM *m, int32_t id, int special, size_t *len);
int64_t LQ_SYM(_lm_detokenize)(const LQ_LM *m, const int32_t *ids, int64_t n, int special,
                               char *out, size_t cap);
int LQ_SYM(_lm_is_eog)(const LQ_LM *m, int32_t id);
int64_t LQ_SYM(_lm_chat_message)(const LQ_LM *m, const char *role, const char *content, char *out,
                                 size_t cap);
int64_t LQ_SYM(_lm_chat_generation_prompt)(const LQ_LM *m, char *out, size_t cap);
int64_t LQ_SYM(_lm_chat_end_of_turn)(const LQ_LM *m, char *out, size_t cap);

#define LQ_SAMPLER LQ_SYM(_lm_sampler)
typedef struct {
    double temp;  /* 0: greedy (ties: the lowest id) */
    long top_k;   /* 0: all */
    double top_p; /* 1: all */
    uint64_t rng;
} LQ_SAMPLER;
void LQ_SYM(_lm_sampler_init)(LQ_SAMPLER *s, double temp, long top_k, double top_p,
                              uint64_t seed);
int32_t LQ_SYM(_lm_sample)(LQ_LM *m, LQ_SAMPLER *s, const float *logits);

typedef int (*LQ_SYM(_lm_token_fn))(void *user, int32_t id);
int64_t LQ_SYM(_lm_generate)(LQ_LM *m, const int32_t *ids, int64_t n, int64_t max_new,
                             LQ_SAMPLER *s, LQ_SYM(_lm_token_fn) fn, void *user);

/* State snapshots (liquid_lm_state.c): the conv caches and the used KV rows. */
size_t LQ_SYM(_lm_state_size)(const LQ_LM *m);
size_t LQ_SYM(_lm_state_save)(LQ_LM *m, void *buf, size_t cap);
int LQ_SYM(_lm_state_load)(LQ_LM *m, const void *buf, size_t len);

/* Internal, between liquid_lm.c and liquid_lm_text.c / liquid_lm_state.c. */
float *LQ_SYM(_lm_arena)(LQ_LM *m);
void LQ_SYM(_lm_set_position)(LQ_LM *m, int64_t pos);
void LQ_SYM(_lm_set_error)(const char *fmt, ...);
const lq_tokenizer *LQ_SYM(_lm_tokenizer_view)(const LQ_LM *m);
int32_t *LQ_SYM(_lm_pending_slot)(LQ_LM *m);
void *LQ_SYM(_lm_sample_scratch)(LQ_LM *m, size_t bytes);

#endif /* LIQUID_LM_RUNTIME_H */
