/*
 * liquid_lm_bench.h - `--bench` without a prompt: llama-bench's measurements
 * for a language-model program (liquid_lm_main.c), so the two can be run
 * side by side on the same GGUF file and read the same way.
 *
 *     P --bench [-p 512] [-n 128] [-d 0] [-r 5] [-o md|json] [-t THREADS]
 *
 * -p, -n and -d take comma-separated lists, as llama-bench's do.  For every
 * depth d: a test "pp<p>" per prompt size p (prefill of p random token ids,
 * in calls of at most LQ_MAX_ROWS rows) and "tg<n>" per generation length n
 * (n single-token calls, as llama-bench feeds random ids without sampling),
 * each after d tokens of context that are evaluated but not timed ("@ d<d>"
 * in the test name).  Every test runs once uncounted (warm-up), then -r
 * times; reported: mean ± sample standard deviation of the tokens/s of the
 * repetitions, with GFLOP/s (prefill: the compiler's count of the products,
 * norms and head per token, without attention over the context) or GB/s of
 * weights read (decode).  Header-only, static functions, on the API of
 * liquid_lm_runtime.h.
 */
#ifndef LIQUID_LM_BENCH_H
#define LIQUID_LM_BENCH_H

#include "liquid_cli.h"
#include "liquid_lm_runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LQ_BENCH_MAX_LIST 16

typedef struct {
    long p[LQ_BENCH_MAX_LIST], n[LQ_BENCH_MAX_LIST], d[LQ_BENCH_MAX_LIST];
    int np, nn, nd;
    long reps, threads;
    int json;
} lq_bench;

/* A comma-separated list of integers in [lo, hi]; 0, or -1 after a report. */
static int lq_bench_list(const char *flag, const char *s, long lo, long hi, long *out, int *n)
{
    *n = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || (*end && *end != ',') || v < lo || v > hi ||
            *n == LQ_BENCH_MAX_LIST) {
            report(flag, "expected up to %d comma-separated integers in [%ld, %ld], got '%s'",
                   LQ_BENCH_MAX_LIST, lo, hi, s);
            return -1;
        }
        out[(*n)++] = v;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

static double lq_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* `count` random ids at positions [pos, pos + count), in calls of at most
 * LQ_MAX_ROWS rows (rows == 1: one call per token); 0, or 1 after a report. */
static int lq_bench_feed(LQ_LM *lm, int32_t *ids, long count, long pos, long rows,
                         uint32_t *rng)
{
    for (long done = 0; done < count;) {
        long k = count - done < rows ? count - done : rows;
        for (long i = 0; i < k; ++i) {
            *rng ^= *rng << 13; /* xorshift32 */
            *rng ^= *rng >> 17;
            *rng ^= *rng << 5;
            ids[i] = (int32_t)(*rng % (uint32_t)LQ_VOCAB);
        }
        if (LQ_SYM(_lm_forward)(lm, ids, k, pos + done, 1)) {
            report("--bench", "%s", LQ_SYM(_lm_last_error)());
            return 1;
        }
        done += k;
    }
    return 0;
}

/* One test: warm-up, then b->reps timed runs; seconds of each in `secs`. */
static int lq_bench_test(LQ_LM *lm, const lq_bench *b, long depth, long p, long n, double *secs)
{
    int32_t *ids = malloc(sizeof(int32_t) * LQ_MAX_ROWS);
    uint32_t rng = 0x9e3779b9u;
    if (!ids) {
        report("--bench", "out of memory");
        return 1;
    }
    int rc = 0;
    for (long r = -1; r < b->reps && !rc; ++r) {
        LQ_SYM(_lm_reset)(lm);
        rc = lq_bench_feed(lm, ids, depth, 0, LQ_MAX_ROWS, &rng);
        double t0 = lq_bench_now();
        if (!rc)
            rc = p ? lq_bench_feed(lm, ids, p, depth, LQ_MAX_ROWS, &rng)
                   : lq_bench_feed(lm, ids, n, depth, 1, &rng);
        if (r >= 0)
            secs[r] = lq_bench_now() - t0;
    }
    LQ_SYM(_lm_reset)(lm);
    free(ids);
    return rc;
}

/* Runs every test of `b` and prints the table (md) or array (json) on stdout. */
static int lq_bench_run(LQ_LM *lm, const lq_bench *b)
{
    const double size = (double)LQ_WEIGHTS_FLOATS * 4.0;
    double *secs = malloc(sizeof(double) * (size_t)b->reps);
    if (!secs) {
        report("--bench", "out of memory");
        return 1;
    }
    if (b->json)
        printf("[");
    else
        printf("| model | size | threads | test | t/s | rate |\n"
               "| --- | ---: | ---: | --- | ---: | ---: |\n");
    int first = 1;
    for (int di = 0; di < b->nd; ++di) {
        for (int k = 0; k < b->np + b->nn; ++k) {
            long d = b->d[di], p = k < b->np ? b->p[k] : 0, n = k < b->np ? 0 : b->n[k - b->np];
            long tokens = p ? p : n;
            if (tokens == 0)
                continue;
            if (d + tokens > LQ_MAX_CONTEXT) {
                report("--bench", "depth %ld + %ld tokens exceed the compiled context of %d "
                       "(recompile with a larger --max-context)", d, tokens, LQ_MAX_CONTEXT);
                free(secs);
                return 2;
            }
            if (lq_bench_test(lm, b, d, p, n, secs)) {
                free(secs);
                return 1;
            }
            double mean = 0, sd = 0, mean_s = 0;
            for (long r = 0; r < b->reps; ++r) {
                mean += tokens / secs[r] / (double)b->reps;
                mean_s += secs[r] / (double)b->reps;
            }
            for (long r = 0; r < b->reps; ++r)
                sd += (tokens / secs[r] - mean) * (tokens / secs[r] - mean);
            sd = b->reps > 1 ? sqrt(sd / (double)(b->reps - 1)) : 0.0;
            /* prefill: the head ran on one row per call */
            double chunks = (double)((p + LQ_MAX_ROWS - 1) / LQ_MAX_ROWS);
            double rate = p ? ((double)(LQ_FLOPS_PER_TOKEN - LQ_HEAD_FLOPS) * (double)p +
                               (double)LQ_HEAD_FLOPS * chunks) / mean_s * 1e-9
                            : mean * (double)LQ_DECODE_BYTES * 1e-9;
            char test[64];
            int len = snprintf(test, sizeof test, "%s%ld", p ? "pp" : "tg", tokens);
            if (d)
                snprintf(test + len, sizeof test - (size_t)len, " @ d%ld", d);
            if (b->json) {
                printf("%s\n  {\"model\": \"%s\", \"size\": %.0f, \"n_threads\": %ld, "
                       "\"test\": \"%s\", \"n_prompt\": %ld, \"n_gen\": %ld, \"n_depth\": %ld, "
                       "\"avg_ts\": %.6f, \"stddev_ts\": %.6f, \"%s\": %.3f, \"samples_ts\": [",
                       first ? "" : ",", LQ_MODEL_NAME, size, b->threads, test, p, n, d, mean,
                       sd, p ? "gflops" : "weights_gbs", rate);
                for (long r = 0; r < b->reps; ++r)
                    printf("%s%.6f", r ? ", " : "", tokens / secs[r]);
                printf("]}");
            } else {
                printf("| %s | %.2f MiB | %ld | %s | %.2f ± %.2f | %.1f %s |\n", LQ_MODEL_NAME,
                       size / 1048576.0, b->threads, test, mean, sd, rate,
                       p ? "GFLOP/s" : "GB/s");
            }
            fflush(stdout);
            first = 0;
        }
    }
    if (b->json)
        printf("\n]\n");
    free(secs);
    return 0;
}

#endif /* LIQUID_LM_BENCH_H */
