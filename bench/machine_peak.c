/*
 * machine_peak.c - what this machine can do, for the benchmarks' "fraction of
 * peak" columns: the float32 FMA rate per core and in total, and a STREAM-style
 * triad (a[i] = b[i] + s * c[i]) for the memory bandwidth decode is bound by.
 *
 *     cc -O2 -march=native -pthread bench/machine_peak.c -o /tmp/machine_peak
 *     /tmp/machine_peak [--threads N] [--mib M]
 *
 * Prints one line:
 *     fma_gflops_1=X fma_gflops_all=Y triad_gbs_1=Z triad_gbs_all=W threads=N vector_bits=V
 * FMA: 12 independent accumulator vectors of the widest vector the compiler
 * targets (-march=native), best of 5 runs of 2^26 FMAs per thread.  Triad:
 * three arrays of M MiB (default 256, well past any cache) split among the
 * threads, 24 bytes per element counted (two reads, one write; the write
 * allocates in cache, so the traffic is really ~32 bytes: the convention of
 * STREAM, which reports the 24), best of 5.  Not a test.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__AVX512F__)
#define VBYTES 64
#elif defined(__AVX__)
#define VBYTES 32
#else
#define VBYTES 16
#endif
typedef float vf __attribute__((vector_size(VBYTES)));
#define LANES (VBYTES / 4)
#define ACC 12
#define FMA_ITERS (1L << 26) / (ACC * LANES)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    int tid, threads;
    float *a, *b, *c;
    size_t n;
    pthread_barrier_t *bar;
    double fma_s, triad_s;
    float sink;
} job;

static void fma_loop(job *j)
{
    vf acc[ACC], m, x;
    for (int i = 0; i < LANES; ++i) {
        m[i] = 0.999999f;
        x[i] = 1e-7f * (float)(j->tid + 1);
    }
    for (int k = 0; k < ACC; ++k)
        acc[k] = x * (float)(k + 1);
    for (long it = 0; it < FMA_ITERS; ++it)
#pragma GCC unroll 16 /* the accumulators must live in registers */
        for (int k = 0; k < ACC; ++k)
            acc[k] = acc[k] * m + x;
    float s = 0;
    for (int k = 0; k < ACC; ++k)
        for (int i = 0; i < LANES; ++i)
            s += acc[k][i];
    j->sink = s;
}

static void *run(void *arg)
{
    job *j = arg;
    size_t per = (j->n + (size_t)j->threads - 1) / (size_t)j->threads;
    size_t lo = per * (size_t)j->tid, hi = lo + per < j->n ? lo + per : j->n;
    for (size_t i = lo; i < hi; ++i) { /* first touch by the thread that uses it */
        j->a[i] = 0.0f;
        j->b[i] = 1.0f;
        j->c[i] = 2.0f;
    }
    j->fma_s = j->triad_s = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
        pthread_barrier_wait(j->bar);
        double t0 = now();
        fma_loop(j);
        pthread_barrier_wait(j->bar);
        double t1 = now();
        for (size_t i = lo; i < hi; ++i)
            j->a[i] = j->b[i] + 3.0f * j->c[i];
        pthread_barrier_wait(j->bar);
        double t2 = now();
        if (t1 - t0 < j->fma_s)
            j->fma_s = t1 - t0;
        if (t2 - t1 < j->triad_s)
            j->triad_s = t2 - t1;
    }
    return NULL;
}

/* (FMA GFLOP/s, triad GB/s) with `threads` threads. */
static void measure(int threads, size_t n, float *a, float *b, float *c, double *gflops,
                    double *gbs)
{
    pthread_t th[256];
    job jobs[256];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)threads);
    for (int t = 0; t < threads; ++t) {
        jobs[t] = (job){t, threads, a, b, c, n, &bar, 0, 0, 0};
        if (t)
            pthread_create(&th[t], NULL, run, &jobs[t]);
    }
    run(&jobs[0]);
    for (int t = 1; t < threads; ++t)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&bar);
    double flops = 2.0 * (double)FMA_ITERS * ACC * LANES * threads;
    *gflops = flops / jobs[0].fma_s / 1e9;
    *gbs = 24.0 * (double)n / jobs[0].triad_s / 1e9;
}

int main(int argc, char **argv)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cpus > 0 ? (int)(cpus < 256 ? cpus : 256) : 1;
    size_t mib = 256;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--mib"))
            mib = (size_t)atol(argv[i + 1]);
    }
    if (threads < 1 || threads > 256 || mib < 1) {
        fprintf(stderr, "usage: %s [--threads 1..256] [--mib M]\n", argv[0]);
        return 2;
    }
    size_t n = mib * 1024 * 1024 / sizeof(float);
    float *a = aligned_alloc(64, n * 4), *b = aligned_alloc(64, n * 4), *c = aligned_alloc(64, n * 4);
    if (!a || !b || !c) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    double g1, b1, ga, ba;
    measure(1, n, a, b, c, &g1, &b1);
    measure(threads, n, a, b, c, &ga, &ba);
    printf("fma_gflops_1=%.1f fma_gflops_all=%.1f triad_gbs_1=%.1f triad_gbs_all=%.1f threads=%d "
           "vector_bits=%d\n",
           g1, ga, b1, ba, threads, VBYTES * 8);
    return 0;
}
