/*
 * liquid_runtime.h - internal header shared by liquid_model.c and liquid_main.c.
 *
 * NOT installed with an artifact: the public header of a `lib` artifact is
 * generated from liquid_model.h.in.  This header validates the model
 * configuration and declares the prefixed runtime API with token-pasting
 * macros, so the same sources serve every model.
 *
 * ---------------------------------------------------------------------------
 * Model configuration (P_config.h, written by liquidc)
 * ---------------------------------------------------------------------------
 * The configuration must be visible before this header: either compile with
 *     -include P_config.h                         (what liquidc does), or
 *     -DLQ_CONFIG_HEADER='"P_config.h"'           (included from here).
 * P_config.h must contain only #define lines (no #include): it is seen before
 * any system header, ahead of liquid_main.c's feature-test macro.
 * Every numeric macro must be a plain integer literal (no casts, no
 * parentheses) because they are tested with #if.
 *
 * Required macros (sizes and offsets are counts of floats):
 *   LQ_PREFIX           bare C identifier P; every exported symbol is P_<name>
 *   LQ_MODEL_NAME       C string literal, human-readable model name
 *   LQ_INPUT_SIZE       input features per step                (>= 1)
 *   LQ_OUTPUT_SIZE      output features per step               (>= 1)
 *   LQ_NUM_STATES       1, or 2 for mixed-memory models (state 1 = LSTM cell)
 *   LQ_STATE0_SIZE      recurrent (hidden) state size          (>= 1)
 *   LQ_STATE1_SIZE      cell state size; 0 when LQ_NUM_STATES == 1
 *   LQ_STATE0_OFFSET    arena offset of state 0
 *   LQ_STATE1_OFFSET    arena offset of state 1 (any value, e.g. 0, if none)
 *   LQ_INPUT_OFFSET     arena offset of the step input
 *   LQ_OUTPUT_OFFSET    arena offset of the step output
 *   LQ_ARENA_FLOATS     arena size (every slot above lies inside it)
 *   LQ_WEIGHTS_FLOATS   number of floats in the packed weights
 *   LQ_WEIGHTS_HASH     layout hash, unsigned 64-bit literal, e.g. 0x0123456789abcdefULL
 *   LQ_EMBEDDED_WEIGHTS 0 or 1
 *   LQ_WEIGHTS_PATH     (only when LQ_EMBEDDED_WEIGHTS == 1) C string literal:
 *                       absolute path of the raw little-endian float32 blob
 *                       (exactly LQ_WEIGHTS_FLOATS * 4 bytes, no header)
 *                       pulled in with `.incbin`; must not contain '"' or '\'.
 * Optional macros:
 *   LQ_COMPILER_VERSION C string literal printed by `--version` (default "unknown")
 *
 * The kernels, produced by liquidc in a separate object file:
 *   void P_kernel_step(const float *weights, float *arena, float ts);
 * reads arena[LQ_INPUT_OFFSET..] and the state slot(s), writes
 * arena[LQ_OUTPUT_OFFSET..] and overwrites the state slot(s) with the new
 * state.  It may use the rest of the arena as scratch.
 *   void P_kernel_step_rows(const float *weights, float *arenas,
 *                           const float *ts, int64_t rows);
 * does the same for 1 <= rows <= LQ_KERNEL_MAX_ROWS independent sequences:
 * row r's arena is arenas[r * LQ_ARENA_FLOATS ..] (LQ_ARENA_FLOATS is a
 * multiple of 16, so every row's arena keeps the 64-byte alignment of the
 * first), its time span ts[r].  Each row's results are bit-identical to
 * P_kernel_step's on that row's arena.
 */
#ifndef LIQUID_RUNTIME_H
#define LIQUID_RUNTIME_H

#if !defined(LQ_PREFIX) && defined(LQ_CONFIG_HEADER)
#include LQ_CONFIG_HEADER
#endif

#ifndef LQ_PREFIX
#error "liquid runtime: no model configuration; compile with -include P_config.h or -DLQ_CONFIG_HEADER='\"P_config.h\"'"
#endif

#ifndef LQ_COMPILER_VERSION
#define LQ_COMPILER_VERSION "unknown"
#endif

/* ---- configuration sanity checks (all at compile time) ------------------ */
#if !defined(LQ_MODEL_NAME) || !defined(LQ_INPUT_SIZE) || !defined(LQ_OUTPUT_SIZE) ||   \
    !defined(LQ_NUM_STATES) || !defined(LQ_STATE0_SIZE) || !defined(LQ_STATE1_SIZE) || \
    !defined(LQ_STATE0_OFFSET) || !defined(LQ_STATE1_OFFSET) ||                        \
    !defined(LQ_INPUT_OFFSET) || !defined(LQ_OUTPUT_OFFSET) ||                         \
    !defined(LQ_ARENA_FLOATS) || !defined(LQ_WEIGHTS_FLOATS) ||                        \
    !defined(LQ_WEIGHTS_HASH) || !defined(LQ_EMBEDDED_WEIGHTS)
#error "liquid runtime: the model configuration lacks a required LQ_* macro"
#endif
#if LQ_NUM_STATES != 1 && LQ_NUM_STATES != 2
#error "liquid runtime: LQ_NUM_STATES must be 1 or 2"
#endif
#if LQ_INPUT_SIZE < 1 || LQ_OUTPUT_SIZE < 1 || LQ_STATE0_SIZE < 1
#error "liquid runtime: input, output and state 0 sizes must be >= 1"
#endif
#if LQ_NUM_STATES == 2 && LQ_STATE1_SIZE < 1
#error "liquid runtime: a two-state model needs LQ_STATE1_SIZE >= 1"
#endif
#if LQ_NUM_STATES == 1 && LQ_STATE1_SIZE != 0
#error "liquid runtime: LQ_STATE1_SIZE must be 0 when LQ_NUM_STATES == 1"
#endif
#if LQ_INPUT_OFFSET < 0 || LQ_INPUT_OFFSET + LQ_INPUT_SIZE > LQ_ARENA_FLOATS
#error "liquid runtime: input slot outside the arena"
#endif
#if LQ_OUTPUT_OFFSET < 0 || LQ_OUTPUT_OFFSET + LQ_OUTPUT_SIZE > LQ_ARENA_FLOATS
#error "liquid runtime: output slot outside the arena"
#endif
#if LQ_STATE0_OFFSET < 0 || LQ_STATE0_OFFSET + LQ_STATE0_SIZE > LQ_ARENA_FLOATS
#error "liquid runtime: state 0 slot outside the arena"
#endif
#if LQ_NUM_STATES == 2 && (LQ_STATE1_OFFSET < 0 || LQ_STATE1_OFFSET + LQ_STATE1_SIZE > LQ_ARENA_FLOATS)
#error "liquid runtime: state 1 slot outside the arena"
#endif
#if LQ_WEIGHTS_FLOATS < 0
#error "liquid runtime: LQ_WEIGHTS_FLOATS must be >= 0"
#endif
#if LQ_EMBEDDED_WEIGHTS != 0 && LQ_EMBEDDED_WEIGHTS != 1
#error "liquid runtime: LQ_EMBEDDED_WEIGHTS must be 0 or 1"
#endif
#if LQ_EMBEDDED_WEIGHTS && !defined(LQ_WEIGHTS_PATH)
#error "liquid runtime: LQ_EMBEDDED_WEIGHTS == 1 requires LQ_WEIGHTS_PATH"
#endif

#include <stddef.h>
#include <stdint.h>

/* ---- symbol naming ------------------------------------------------------ */
#define LQ_CAT_(a, b) a##b
#define LQ_CAT(a, b) LQ_CAT_(a, b)
#define LQ_STR_(a) #a
#define LQ_STR(a) LQ_STR_(a)
/* LQ_SYM(_create) -> P_create */
#define LQ_SYM(suffix) LQ_CAT(LQ_PREFIX, suffix)

#define LQ_CTX LQ_SYM(_ctx)
#define LQ_KERNEL_STEP LQ_SYM(_kernel_step)
#define LQ_KERNEL_STEP_ROWS LQ_SYM(_kernel_step_rows)
#define LQ_CREATE LQ_SYM(_create)
#define LQ_CREATE_BATCH LQ_SYM(_create_batch)
#define LQ_BATCH_ROWS LQ_SYM(_batch_rows)
#define LQ_BATCH_THREADS LQ_SYM(_batch_threads)
#define LQ_STEP_BATCH LQ_SYM(_step_batch)
#define LQ_LAST_ERROR LQ_SYM(_last_error)
#define LQ_RESET LQ_SYM(_reset)
#define LQ_STEP LQ_SYM(_step)
#define LQ_RUN LQ_SYM(_run)
#define LQ_GET_STATE LQ_SYM(_get_state)
#define LQ_SET_STATE LQ_SYM(_set_state)
#define LQ_STATE_SIZE_FN LQ_SYM(_state_size)
#define LQ_DESTROY LQ_SYM(_destroy)

#if defined(__GNUC__) || defined(__clang__)
#define LQ_API __attribute__((visibility("default")))
#else
#define LQ_API
#endif

/* The generated kernels (separate object file). */
void LQ_KERNEL_STEP(const float *weights, float *arena, float ts);
void LQ_KERNEL_STEP_ROWS(const float *weights, float *arenas, const float *ts, int64_t rows);
/* The most rows P_kernel_step_rows takes in one call (kStepKernelMaxRows in
 * the compiler's passes/lib/MemoryPlan.h). */
#define LQ_KERNEL_MAX_ROWS 4096
#if LQ_ARENA_FLOATS % 16 != 0
#error "liquid runtime: LQ_ARENA_FLOATS must be a multiple of 16"
#endif

/* The runtime API; documented in liquid_model.h.in.  (A microcontroller's
 * library, liquid_mcu.c, has an API of its own on the caller's arena.) */
#ifndef LQ_MCU_RUNTIME
typedef struct LQ_CTX LQ_CTX;
LQ_API LQ_CTX *LQ_CREATE(const char *weights_path);
LQ_API LQ_CTX *LQ_CREATE_BATCH(const char *weights_path, int64_t rows, int threads);
LQ_API int64_t LQ_BATCH_ROWS(const LQ_CTX *ctx);
LQ_API int LQ_BATCH_THREADS(const LQ_CTX *ctx);
LQ_API int LQ_STEP_BATCH(LQ_CTX *ctx, const float *xs, const float *dts, float *ys);
LQ_API const char *LQ_LAST_ERROR(void);
LQ_API void LQ_RESET(LQ_CTX *ctx);
LQ_API int LQ_STEP(LQ_CTX *ctx, const float *x, float dt, float *y);
LQ_API int LQ_RUN(LQ_CTX *ctx, const float *xs, const float *dts, int64_t T, float *ys);
LQ_API int LQ_GET_STATE(const LQ_CTX *ctx, int which, float *out);
LQ_API int LQ_SET_STATE(LQ_CTX *ctx, int which, const float *in);
LQ_API size_t LQ_STATE_SIZE_FN(int which);
LQ_API void LQ_DESTROY(LQ_CTX *ctx);
#endif

#endif /* LIQUID_RUNTIME_H */
