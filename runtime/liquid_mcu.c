/*
 * liquid_mcu.c - runtime of a liquidc cell library for a microcontroller
 * (the targets of kind "mcu": cortex-m4f, cortex-m55, rv32imafc).
 *
 * Freestanding: no heap, no threads, no files and no C library calls.  The
 * weights are constants compiled into the library (flash); the caller owns
 * the working memory, one arena (P_arena) per sequence.  Compiled once per
 * model with its configuration header, like liquid_model.c:
 *     cc -ffreestanding -O2 -include P_config.h -c liquid_mcu.c
 * The API is documented in liquid_mcu.h.in.
 */
#define LQ_MCU_RUNTIME 1
#include "liquid_runtime.h"

#if !LQ_EMBEDDED_WEIGHTS
#error "liquid mcu runtime: the weights must be compiled in (LQ_EMBEDDED_WEIGHTS 1)"
#endif
#include "liquid_embed.h"

#define LQ_ARENA LQ_SYM(_arena)
#define LQ_INIT LQ_SYM(_init)
#define LQ_MCU_STEP LQ_SYM(_step)
#define LQ_MCU_GET_STATE LQ_SYM(_get_state)
#define LQ_MCU_SET_STATE LQ_SYM(_set_state)

/* The public header's arena: LQ_ARENA_FLOATS floats. */
typedef struct LQ_ARENA LQ_ARENA;
struct LQ_ARENA {
    float floats[LQ_ARENA_FLOATS];
} __attribute__((aligned(16)));

LQ_API void LQ_INIT(LQ_ARENA *arena);
LQ_API int LQ_MCU_STEP(LQ_ARENA *arena, const float *x, float dt, float *y);
LQ_API int LQ_MCU_GET_STATE(const LQ_ARENA *arena, int which, float *out);
LQ_API int LQ_MCU_SET_STATE(LQ_ARENA *arena, int which, const float *in);

/* Plain loops (the file is built with -fno-tree-loop-distribute-patterns, so
 * they stay loops, not memcpy / memset calls). */
static void lq_copy(float *dst, const float *src, int n)
{
    for (int i = 0; i < n; ++i)
        dst[i] = src[i];
}

static float *lq_state(LQ_ARENA *arena, int which, int *n)
{
    if (which == 0) {
        *n = LQ_STATE0_SIZE;
        return arena->floats + LQ_STATE0_OFFSET;
    }
#if LQ_NUM_STATES == 2
    if (which == 1) {
        *n = LQ_STATE1_SIZE;
        return arena->floats + LQ_STATE1_OFFSET;
    }
#endif
    return 0;
}

LQ_API void LQ_INIT(LQ_ARENA *arena)
{
    if (!arena)
        return;
    for (int which = 0; which < LQ_NUM_STATES; ++which) {
        int n = 0;
        float *s = lq_state(arena, which, &n);
        for (int i = 0; i < n; ++i)
            s[i] = 0.0f;
    }
}

LQ_API int LQ_MCU_STEP(LQ_ARENA *arena, const float *x, float dt, float *y)
{
    if (!arena || !x)
        return 1;
    lq_copy(arena->floats + LQ_INPUT_OFFSET, x, LQ_INPUT_SIZE);
    LQ_KERNEL_STEP((const float *)(const void *)LQ_SYM(_weights_data), arena->floats, dt);
    if (y)
        lq_copy(y, arena->floats + LQ_OUTPUT_OFFSET, LQ_OUTPUT_SIZE);
    return 0;
}

LQ_API int LQ_MCU_GET_STATE(const LQ_ARENA *arena, int which, float *out)
{
    int n = 0;
    const float *s = arena ? lq_state((LQ_ARENA *)arena, which, &n) : 0;
    if (!s || !out)
        return 1;
    lq_copy(out, s, n);
    return 0;
}

LQ_API int LQ_MCU_SET_STATE(LQ_ARENA *arena, int which, const float *in)
{
    int n = 0;
    float *s = arena ? lq_state(arena, which, &n) : 0;
    if (!s || !in)
        return 1;
    lq_copy(s, in, n);
    return 0;
}
