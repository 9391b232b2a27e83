/*
 * liquid_spin.h - lq_pause(), the CPU's spin-wait hint, for the worker
 * threads of liquid_lm.c (barrier, job wait) and liquid_model.c (batch
 * contexts). Header-only.
 */
#ifndef LIQUID_SPIN_H
#define LIQUID_SPIN_H

static inline void lq_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif /* LIQUID_SPIN_H */
