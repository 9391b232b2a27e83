/* Fake stand-in for a liquidc-generated kernel, compiled with
 * -include <config>.h.  Recurrences (w = weights):
 *   single state (4 in, 4 units, 3 out; w = a[4], bias[3]):
 *     h' = a*h + x*ts            y[j] = h'[j] + bias[j]
 *   two states (3 in, 5 units, 2 out; w = a[5], g[5], bias[2]):
 *     c' = g*c + x[i%3]*ts       h' = a*h + c'       y[j] = h'[j] + bias[j]
 * After reading its inputs it scribbles over the input slot and the free
 * parts of the arena (as real kernels may use them as scratch), so the
 * runtime must not rely on anything but the state slots surviving a step. */
#include <math.h>

#define FK_CAT_(a, b) a##b
#define FK_CAT(a, b) FK_CAT_(a, b)

void FK_CAT(LQ_PREFIX, _kernel_step)(const float *w, float *arena, float ts);

static int fk_in_state(int i)
{
    if (i >= LQ_STATE0_OFFSET && i < LQ_STATE0_OFFSET + LQ_STATE0_SIZE)
        return 1;
#if LQ_NUM_STATES == 2
    if (i >= LQ_STATE1_OFFSET && i < LQ_STATE1_OFFSET + LQ_STATE1_SIZE)
        return 1;
#endif
    return 0;
}

void FK_CAT(LQ_PREFIX, _kernel_step)(const float *w, float *arena, float ts)
{
    const float *x = arena + LQ_INPUT_OFFSET;
    float *h = arena + LQ_STATE0_OFFSET;
    float hn[LQ_STATE0_SIZE];
#if LQ_NUM_STATES == 2
    float *c = arena + LQ_STATE1_OFFSET;
    float cn[LQ_STATE1_SIZE];
    for (int i = 0; i < LQ_STATE1_SIZE; ++i)
        cn[i] = w[LQ_STATE0_SIZE + i] * c[i] + x[i % LQ_INPUT_SIZE] * ts;
    for (int i = 0; i < LQ_STATE0_SIZE; ++i)
        hn[i] = w[i] * h[i] + cn[i];
    const float *bias = w + LQ_STATE0_SIZE + LQ_STATE1_SIZE;
#else
    for (int i = 0; i < LQ_STATE0_SIZE; ++i)
        hn[i] = w[i] * h[i] + x[i] * ts;
    const float *bias = w + LQ_STATE0_SIZE;
#endif
    /* scratch use of everything that is not state */
    for (int i = 0; i < LQ_ARENA_FLOATS; ++i)
        if (!fk_in_state(i))
            arena[i] = NAN;
    for (int i = 0; i < LQ_STATE0_SIZE; ++i)
        h[i] = hn[i];
#if LQ_NUM_STATES == 2
    for (int i = 0; i < LQ_STATE1_SIZE; ++i)
        c[i] = cn[i];
#endif
    for (int j = 0; j < LQ_OUTPUT_SIZE; ++j)
        arena[LQ_OUTPUT_OFFSET + j] = hn[j] + bias[j];
}

void FK_CAT(LQ_PREFIX, _kernel_step_rows)(const float *w, float *arenas, const float *ts,
                                          long long rows);
void FK_CAT(LQ_PREFIX, _kernel_step_rows)(const float *w, float *arenas, const float *ts,
                                          long long rows)
{
    for (long long r = 0; r < rows; ++r)
        FK_CAT(LQ_PREFIX, _kernel_step)(w, arenas + r * LQ_ARENA_FLOATS, ts[r]);
}
