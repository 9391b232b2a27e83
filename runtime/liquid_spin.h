/*
 * liquid_spin.h - lq_pause(), the CPU's spin-wait hint, and lq_spin_budget(),
 * how long to spin, for the worker threads of liquid_lm.c (barrier, job
 * wait) and liquid_model.c (batch contexts). Header-only.
 */
#ifndef LIQUID_SPIN_H
#define LIQUID_SPIN_H

#ifndef LQ_NO_THREADS
#include <unistd.h>

/* `spins` pause hints for a waiting thread while every thread has a CPU;
 * none when there are more threads than online CPUs, where a spinner holds
 * the CPU that the thread it waits for needs (64 threads on 2 CPUs: 37 s
 * for 0.03 s of work). */
static inline unsigned lq_spin_budget(int threads, unsigned spins)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 && threads > cpus ? 0u : spins;
}
#endif

static inline void lq_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif /* LIQUID_SPIN_H */
