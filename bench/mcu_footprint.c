/*
 * What one cell costs on a microcontroller (bench/mcu_footprint.py builds
 * this against a liquidc --emit=lib library, header M.h, prefix M):
 * stdout gets "stack BYTES" (the high-water mark of STEPS steps, measured by
 * painting the stack below main's frame) and "out Y0". Built with
 * -DBASELINE it calls nothing of the model: the difference in flash between
 * the two programs is what the model adds.
 */
#include <stdint.h>
#include <stdio.h>
#ifndef BASELINE
#include MODEL_HEADER
#endif

#define PAINT_BYTES 8192
#define PATTERN 0xA5A5A5A5u

#ifndef STEPS
#define STEPS 4
#endif

static inline uintptr_t stack_pointer(void)
{
    uintptr_t sp;
#if defined(__arm__) || defined(__thumb__)
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#else
    __asm__ volatile("mv %0, sp" : "=r"(sp));
#endif
    return sp;
}

#ifndef BASELINE
static MODEL_ARENA arena;

/* The steps, in a frame of their own below main's. */
__attribute__((noinline)) static float run_steps(void)
{
    float x[MODEL_INPUT_SIZE], y[MODEL_OUTPUT_SIZE];
    for (int i = 0; i < MODEL_INPUT_SIZE; ++i)
        x[i] = 0.1f * (float)(i + 1);
    MODEL_INIT(&arena);
    for (int t = 0; t < STEPS; ++t)
        MODEL_STEP(&arena, x, 1.0f, y);
    return y[0];
}
#else
__attribute__((noinline)) static float run_steps(void) { return 0.0f; }
#endif

int main(void)
{
    uintptr_t sp = stack_pointer() & ~(uintptr_t)3;
    volatile uint32_t *bottom = (volatile uint32_t *)(sp - PAINT_BYTES);
    for (volatile uint32_t *p = bottom; (uintptr_t)p < sp; ++p)
        *p = PATTERN;
    float y0 = run_steps();
    volatile uint32_t *p = bottom;
    while ((uintptr_t)p < sp && *p == PATTERN)
        ++p;
    printf("stack %u\nout %g\n", (unsigned)(sp - (uintptr_t)p), (double)y0);
    return p == bottom ? 1 : 0; /* touched the bottom: more than PAINT_BYTES */
}
