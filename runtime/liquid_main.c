/*
 * liquid_main.c - main() of a liquidc `exe` artifact.
 *
 * Built together with liquid_model.c (same configuration) and the kernel:
 *     cc -std=c11 -O2 -include P_config.h liquid_main.c liquid_model.c P_kernel.o -lm -o P
 *
 * Command line (run `P --help`):
 *     P --input x.npy [--timespans t.npy] [--state h0.npy] [--cell-state c0.npy]
 *       --output y.npy [--state-out h.npy] [--cell-state-out c.npy]
 *       [--weights FILE.lqw] [--threads N] [--bench N [--batch B]] [--help] [--version]
 *   x  float32 [batch, time, features]   (float64 accepted and converted)
 *   t  float32 [batch, time] or [batch, time, 1]; default 1.0 everywhere
 *   h0, c0, h, c  float32 [batch, units]
 *   y  float32 [batch, time, outputs]
 * Each batch row runs independently from its initial state (zeros unless
 * --state/--cell-state); the rows run together (P_step_batch), up to
 * LQ_RUN_ROWS at a time, on --threads threads (default: one per CPU, at
 * most one per 8 rows).  Flags accept "--flag value" and "--flag=value".
 *
 * Errors: one line "error: <file or flag>: <what>" on stderr; exit status 2
 * for usage errors, 1 for bad data (unreadable/malformed files, shape
 * mismatches, bad weights, write failures).  Outputs are written to
 * "<out>.tmp" and renamed into place only when every output has been
 * written, so a failed run leaves no (partial) output file.
 *
 * --bench N [--batch B]: runs N steps of B sequences (default 1; after a
 * warm-up) on zeros, or cycling through batch row 0 of --input/--timespans
 * if given, and prints
 *     steps=N batch=B threads=T us_per_step=X.XXX sequence_steps_per_s=Y
 * (CLOCK_MONOTONIC; us_per_step is the time of one step of all B rows).
 * B = 1 times the one-sequence call (P_step).  Combined with --output, the
 * normal run follows.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif
#include "liquid_runtime.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_DATA 1
#define EXIT_USAGE 2
/* The most sequences (--input's batch) and steps a run takes. */
#define LQ_MAX_BATCH (1ull << 20)
#define LQ_MAX_TIME (1ull << 30)

#include "liquid_cli.h"

/* ======================================================================== */
/* command line                                                             */
/* ======================================================================== */

typedef struct {
    const char *input, *timespans, *state, *cell_state;
    const char *output, *state_out, *cell_state_out;
    const char *weights, *bench, *batch, *threads;
    int help, version, no_verify;
} options;

static void print_usage(FILE *out, const char *argv0)
{
    fprintf(out,
            "usage: %s --input x.npy [--timespans t.npy] [--state h0.npy]%s\n"
            "       %*s --output y.npy [--state-out h.npy]%s\n"
            "       %*s [--weights FILE.lqw] [--threads N] [--bench N [--batch B]]\n"
            "\n"
            "Runs the liquid neural network %s (compiled by liquidc) over batches of sequences.\n"
            "\n"
            "  --input FILE           float32 .npy [batch, time, %d]: the input sequences\n"
            "  --timespans FILE       float32 .npy [batch, time] or [batch, time, 1]: elapsed\n"
            "                         time of each step (default 1.0)\n"
            "  --state FILE           float32 .npy [batch, %d]: initial hidden state (default 0)\n",
            argv0, LQ_NUM_STATES == 2 ? " [--cell-state c0.npy]" : "", (int)strlen(argv0), "",
            LQ_NUM_STATES == 2 ? " [--cell-state-out c.npy]" : "", (int)strlen(argv0), "",
            LQ_MODEL_NAME, LQ_INPUT_SIZE, LQ_STATE0_SIZE);
#if LQ_NUM_STATES == 2
    fprintf(out,
            "  --cell-state FILE      float32 .npy [batch, %d]: initial LSTM cell state (default 0)\n",
            LQ_STATE1_SIZE);
#endif
    fprintf(out,
            "  --output FILE          write the outputs, float32 .npy [batch, time, %d]\n"
            "  --state-out FILE       write the final hidden state, float32 .npy [batch, %d]\n",
            LQ_OUTPUT_SIZE, LQ_STATE0_SIZE);
#if LQ_NUM_STATES == 2
    fprintf(out,
            "  --cell-state-out FILE  write the final LSTM cell state, float32 .npy [batch, %d]\n",
            LQ_STATE1_SIZE);
#endif
    fprintf(out,
            "  --weights FILE.lqw     load the weights from FILE.lqw%s\n"
            "  --no-verify-weights    skip the .lqw checksum (checked by default)\n"
            "  --threads N            threads for batches (default 0: one per CPU; at most\n"
            "                         one per 8 rows)\n"
            "  --bench N              time N steps (on zeros, or row 0 of --input) and print\n"
            "                         \"steps=N batch=B threads=T us_per_step=X\n"
            "                         sequence_steps_per_s=Y\"; --output is then optional\n"
            "  --batch B              with --bench: B sequences per step (default 1)\n"
            "  --help                 print this help and exit\n"
            "  --version              print the model and compiler version and exit\n"
            "\n"
            "Each batch row runs independently from its initial state (at most 1048576\n"
            "rows and 2^30 steps a run).  float64 .npy inputs are converted.  Errors print one line on stderr; exit status 2 for usage\n"
            "errors, 1 for bad data.  Outputs are written atomically (via FILE-XXXXXX).\n",
            LQ_EMBEDDED_WEIGHTS ? " instead of the embedded weights" : " (required)");
}

static void print_version(void)
{
    printf("%s: liquid neural network compiled by liquidc %s\n", LQ_MODEL_NAME, LQ_COMPILER_VERSION);
    printf("prefix %s, inputs %d, outputs %d, state %d", LQ_STR(LQ_PREFIX), LQ_INPUT_SIZE,
           LQ_OUTPUT_SIZE, LQ_STATE0_SIZE);
    if (LQ_NUM_STATES == 2)
        printf(", cell state %d", LQ_STATE1_SIZE);
    printf("\nweights: %d floats, %s, layout hash 0x%016" PRIx64 "\n", LQ_WEIGHTS_FLOATS,
           LQ_EMBEDDED_WEIGHTS ? "embedded" : "from --weights", (uint64_t)(LQ_WEIGHTS_HASH));
}

/* Returns 0, or EXIT_USAGE after reporting. */
static int parse_args(int argc, char **argv, options *o)
{
    struct {
        const char *name;
        const char **value; /* NULL: boolean flag */
        int *flag;
    } table[] = {
        {"--input", &o->input, NULL},
        {"--timespans", &o->timespans, NULL},
        {"--state", &o->state, NULL},
        {"--cell-state", &o->cell_state, NULL},
        {"--output", &o->output, NULL},
        {"--state-out", &o->state_out, NULL},
        {"--cell-state-out", &o->cell_state_out, NULL},
        {"--weights", &o->weights, NULL},
        {"--bench", &o->bench, NULL},
        {"--batch", &o->batch, NULL},
        {"--threads", &o->threads, NULL},
        {"--help", NULL, &o->help},
        {"-h", NULL, &o->help},
        {"--version", NULL, &o->version},
        {"--no-verify-weights", NULL, &o->no_verify},
    };
    const size_t ntable = sizeof table / sizeof table[0];
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        size_t k;
        for (k = 0; k < ntable; ++k)
            if (strlen(table[k].name) == nlen && !strncmp(table[k].name, arg, nlen))
                break;
        if (k == ntable) {
            if (arg[0] == '-')
                report(arg, "unknown option (see --help)");
            else
                report(arg, "unexpected argument (see --help)");
            return EXIT_USAGE;
        }
        if (!table[k].value) {
            if (eq) {
                report(table[k].name, "takes no value");
                return EXIT_USAGE;
            }
            *table[k].flag = 1;
            continue;
        }
        const char *val;
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            val = argv[++i]; /* "--flag --other": missing value; use --flag=--x for such names */
        else
            val = NULL;
        if (!val || !*val) {
            report(table[k].name, "missing value");
            return EXIT_USAGE;
        }
        if (*table[k].value) {
            report(table[k].name, "given more than once");
            return EXIT_USAGE;
        }
        *table[k].value = val;
    }
    return 0;
}

/* ======================================================================== */
/* main                                                                     */
/* ======================================================================== */

typedef struct {
    const char *path;
    const float *data;
    int ndim;
    uint64_t shape[3];
} output_file;

static int load_checked(const char *path, npy_array *a)
{
    char err[512];
    if (npy_load(path, a, err, sizeof err)) {
        report(path, "%s", err);
        return -1;
    }
    return 0;
}

/* Checks a.shape against want[0..n) (or, if alt_n > 0, against want[0..alt_n)). */
static int check_shape(const char *path, const npy_array *a, int n, const uint64_t *want,
                       const char *what, int alt_n)
{
    int ok = a->ndim == n || (alt_n && a->ndim == alt_n);
    for (int i = 0; ok && i < a->ndim; ++i)
        ok = a->shape[i] == (i < n ? want[i] : 1);
    if (!ok) {
        char ws[128], gs[256], alt[160] = "";
        format_shape(ws, sizeof ws, n, want);
        if (alt_n) {
            uint64_t w2[NPY_MAX_DIMS];
            for (int i = 0; i < alt_n; ++i)
                w2[i] = i < n ? want[i] : 1;
            char as[128];
            format_shape(as, sizeof as, alt_n, w2);
            snprintf(alt, sizeof alt, " or %s", as);
        }
        format_shape(gs, sizeof gs, a->ndim, a->shape);
        report(path, "expected shape %s%s %s, got %s", ws, alt, what, gs);
        return -1;
    }
    return 0;
}

static double now_seconds(void)
{
#ifdef CLOCK_MONOTONIC
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#else /* a bare-metal C library (microcontroller test programs) */
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}

/* Rows of a run's batch context: larger batches run in slices of this many. */
#define LQ_RUN_ROWS 1024

/* dst[r] = src + r * src_stride for r < n, zeros for n <= r < rows (width
 * floats each): a slice of a batch, padded to the context's rows. */
static void gather_rows(float *dst, const float *src, uint64_t n, int64_t rows, size_t width,
                        size_t src_stride)
{
    for (int64_t r = 0; r < rows; ++r) {
        if ((uint64_t)r < n)
            memcpy(dst + (size_t)r * width, src + (size_t)r * src_stride, width * sizeof(float));
        else
            memset(dst + (size_t)r * width, 0, width * sizeof(float));
    }
}

static void print_bench(long long n, long long batch, int threads, double seconds)
{
    double us = seconds * 1e6 / (double)n;
    printf("steps=%lld batch=%lld threads=%d us_per_step=%.3f sequence_steps_per_s=%.0f\n", n,
           batch, threads, us, (double)n * (double)batch / seconds);
    fflush(stdout);
}

/* --bench N with one sequence: the latency of P_step. */
static int run_bench(LQ_CTX *ctx, long long n, const npy_array *x, const npy_array *t)
{
    static float zeros[LQ_INPUT_SIZE];
    static float y[LQ_OUTPUT_SIZE];
    const uint64_t T = x->data && x->shape[0] > 0 ? x->shape[1] : 0;
    const long long warm = n < 1000 ? n : 1000;
    uint64_t k = 0;
    double t0 = 0.0;
    LQ_RESET(ctx);
    for (long long i = 0; i < warm + n; ++i) {
        if (i == warm)
            t0 = now_seconds();
        const float *xi = T ? x->data + k * LQ_INPUT_SIZE : zeros;
        float dt = T && t->data ? t->data[k] : 1.0f;
        if (T && ++k == T)
            k = 0;
        LQ_STEP(ctx, xi, dt, y);
    }
    double seconds = now_seconds() - t0;
    LQ_RESET(ctx);
    print_bench(n, 1, 1, seconds);
    return 0;
}

/* --bench N --batch B: the throughput of P_step_batch. */
static int run_bench_batch(const options *o, long long n, long long batch, int threads,
                           const npy_array *x, const npy_array *t)
{
    const uint64_t T = x->data && x->shape[0] > 0 ? x->shape[1] : 0;
    const long long warm = n < 100 ? n : 100;
    int rc = EXIT_DATA;
    float *xs = calloc((size_t)batch * LQ_INPUT_SIZE, sizeof(float));
    float *dts = malloc((size_t)batch * sizeof(float));
    float *ys = malloc((size_t)batch * LQ_OUTPUT_SIZE * sizeof(float));
    LQ_CTX *ctx = LQ_CREATE_BATCH(o->weights, batch, threads);
    if (!xs || !dts || !ys) {
        report("--batch", "out of memory for %lld rows", batch);
        goto done;
    }
    if (!ctx) {
        fprintf(stderr, "error: %s\n", LQ_LAST_ERROR());
        goto done;
    }
    uint64_t k = 0;
    double t0 = 0.0;
    for (long long i = 0; i < warm + n; ++i) {
        if (i == warm)
            t0 = now_seconds();
        if (T) {
            gather_rows(xs, x->data + k * LQ_INPUT_SIZE, (uint64_t)batch, batch, LQ_INPUT_SIZE, 0);
            for (long long r = 0; r < batch; ++r)
                dts[r] = t->data ? t->data[k] : 1.0f;
            if (++k == T)
                k = 0;
        } else if (i == 0) {
            for (long long r = 0; r < batch; ++r)
                dts[r] = 1.0f;
        }
        LQ_STEP_BATCH(ctx, xs, dts, ys);
    }
    print_bench(n, batch, LQ_BATCH_THREADS(ctx), now_seconds() - t0);
    rc = 0;
done:
    LQ_DESTROY(ctx);
    free(xs);
    free(dts);
    free(ys);
    return rc;
}

/* The options' consistency: 0, or EXIT_USAGE after a report. */
static int check_usage(const options *po, long long *bench_n, long long *batch, int *threads,
                       int *run_mode)
{
    const options o = *po;
    *batch = 1;
    *threads = 0;
    if (o.batch) {
        char *end;
        errno = 0;
        *batch = strtoll(o.batch, &end, 10);
        if (errno || *end || *batch < 1 || *batch > (1LL << 20)) {
            report("--batch", "expected a number of sequences from 1 to %lld, got '%s'", 1LL << 20,
                   o.batch);
            return EXIT_USAGE;
        }
        if (!o.bench) {
            report("--batch", "only with --bench (a run's batch is the rows of --input)");
            return EXIT_USAGE;
        }
    }
    if (o.threads) {
        char *end;
        errno = 0;
        long v = strtol(o.threads, &end, 10);
        if (errno || *end || v < 0 || v > 64) {
            report("--threads", "expected 0 (one per CPU) to 64, got '%s'", o.threads);
            return EXIT_USAGE;
        }
        *threads = (int)v;
    }
    if (LQ_NUM_STATES == 1 && (o.cell_state || o.cell_state_out)) {
        report(o.cell_state ? "--cell-state" : "--cell-state-out",
               "model %s has no cell state (not a mixed-memory model)", LQ_MODEL_NAME);
        return EXIT_USAGE;
    }
    if (o.bench) {
        char *end;
        errno = 0;
        *bench_n = strtoll(o.bench, &end, 10);
        if (errno || *end || *bench_n < 1) {
            report("--bench", "expected a positive number of steps, got '%s'", o.bench);
            return EXIT_USAGE;
        }
    }
    *run_mode = o.output || o.state_out || o.cell_state_out || !o.bench;
    if (*run_mode && !o.output) {
        report("--output", "missing (required; see --help)");
        return EXIT_USAGE;
    }
    if (*run_mode && !o.input) {
        report("--input", "missing (required; see --help)");
        return EXIT_USAGE;
    }
    {
        const char *outs[3] = {o.output, o.state_out, o.cell_state_out};
        char err[160];
        for (int i = 0; i < 3; ++i)
            if (outs[i] && lq_check_output(outs[i], err, sizeof err)) {
                report(outs[i], "%s", err);
                return EXIT_USAGE;
            }
        for (int i = 0; i < 3; ++i)
            for (int j = i + 1; j < 3; ++j)
                if (outs[i] && outs[j] && !strcmp(outs[i], outs[j])) {
                    report(outs[i], "given for two outputs");
                    return EXIT_USAGE;
                }
    }
    if (!LQ_EMBEDDED_WEIGHTS && !o.weights) {
        report("--weights", "missing (required: model %s was compiled without embedded weights)",
               LQ_MODEL_NAME);
        return EXIT_USAGE;
    }
    return 0;
}

/* Reads and checks the inputs the options name; 0, EXIT_DATA or EXIT_USAGE
 * after a report. */
static int load_inputs(const options *po, npy_array *px, npy_array *pt, npy_array *ph0,
                       npy_array *pc0, uint64_t *pB, uint64_t *pT)
{
    const options o = *po;
    const int rc = EXIT_DATA;
    uint64_t B = 0, T = 0;
    if (o.input) {
        if (load_checked(o.input, px))
            return rc;
        if (px->ndim != 3 || px->shape[2] != LQ_INPUT_SIZE) {
            char gs[256];
            format_shape(gs, sizeof gs, px->ndim, px->shape);
            report(o.input, "expected shape (batch, time, %d), got %s", LQ_INPUT_SIZE, gs);
            return rc;
        }
        B = px->shape[0];
        T = px->shape[1];
        /* Every buffer is B or B * T rows: bounded before any is sized (an
         * empty array can claim any batch). */
        if (B > LQ_MAX_BATCH || T > LQ_MAX_TIME) {
            report(o.input, "%s of %" PRIu64 " is more than this program runs (at most %llu)",
                   B > LQ_MAX_BATCH ? "a batch" : "a sequence length", B > LQ_MAX_BATCH ? B : T,
                   (unsigned long long)(B > LQ_MAX_BATCH ? LQ_MAX_BATCH : LQ_MAX_TIME));
            return rc;
        }
    }
    if (o.timespans) {
        const uint64_t want[2] = {B, T};
        if (!o.input) {
            report("--timespans", "requires --input");
            return EXIT_USAGE;
        }
        if (load_checked(o.timespans, pt) ||
            check_shape(o.timespans, pt, 2, want, "[batch, time] (matching --input)", 3))
            return rc;
    }
    if (o.state) {
        const uint64_t want[2] = {B, LQ_STATE0_SIZE};
        if (load_checked(o.state, ph0) ||
            check_shape(o.state, ph0, 2, want, "[batch, units] (batch from --input)", 0))
            return rc;
    }
    if (o.cell_state) {
        const uint64_t want[2] = {B, (uint64_t)LQ_STATE1_SIZE};
        if (load_checked(o.cell_state, pc0) ||
            check_shape(o.cell_state, pc0, 2, want, "[batch, units] (batch from --input)", 0))
            return rc;
    }
    *pB = B;
    *pT = T;
    return 0;
}

/* Writes the outputs, all to new files beside them first (PATH-XXXXXX),
 * then renamed into place; 0, or EXIT_DATA after a report (no temporary
 * file left). */
static int write_outputs(const output_file *outs, int nouts)
{
    char tmp_names[3][4096];
    int ntmp = 0, rc = EXIT_DATA;
    for (int i = 0; i < nouts; ++i) {
        char err[256];
        ntmp = i + 1; /* may exist, even partially, from here on */
        if (npy_save_beside(outs[i].path, tmp_names[i], sizeof tmp_names[i], outs[i].data,
                            outs[i].ndim, outs[i].shape, err, sizeof err)) {
            report(outs[i].path, "%s", err);
            goto cleanup;
        }
    }
    for (int i = 0; i < nouts; ++i) {
        if (lq_rename(tmp_names[i], outs[i].path) != 0) {
            report(outs[i].path, "cannot rename %s into place: %s", tmp_names[i], strerror(errno));
            goto cleanup;
        }
        tmp_names[i][0] = '\0';
    }
    rc = 0;
cleanup:
    for (int i = 0; i < ntmp; ++i)
        if (tmp_names[i][0])
            remove(tmp_names[i]);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    if (o.no_verify)
        setenv("LIQUID_NO_VERIFY_WEIGHTS", "1", 1); /* read by lq_lqw_verify */
    const char *argv0 = argc > 0 && argv[0] ? argv[0] : "model";
    if (o.help) {
        print_usage(stdout, argv0);
        return 0;
    }
    if (o.version) {
        print_version();
        return 0;
    }

    long long bench_n = 0, batch = 1;
    int run_mode = 0, threads = 0;
    rc = check_usage(&o, &bench_n, &batch, &threads, &run_mode);
    if (rc)
        return rc;

    /* ---- model and inputs ---- */
    LQ_CTX *ctx = NULL;
    npy_array x = {0}, t = {0}, h0 = {0}, c0 = {0};
    float *y = NULL, *h = NULL, *c = NULL, *xs = NULL, *dts = NULL, *ys = NULL, *st = NULL;
    output_file outs[3];
    int nouts = 0;
    rc = EXIT_DATA;

    uint64_t B = 0, T = 0;
    rc = load_inputs(&o, &x, &t, &h0, &c0, &B, &T);
    if (rc)
        goto done;
    rc = EXIT_DATA;
    if (o.bench && batch == 1) {
        ctx = LQ_CREATE(o.weights);
        if (!ctx) {
            fprintf(stderr, "error: %s\n", LQ_LAST_ERROR());
            goto done;
        }
        if (run_bench(ctx, bench_n, &x, &t))
            goto done;
        LQ_DESTROY(ctx);
        ctx = NULL;
    }
    if (o.bench && batch > 1 && run_bench_batch(&o, bench_n, batch, threads, &x, &t))
        goto done;
    if (!run_mode) {
        rc = 0;
        goto done;
    }

    /* ---- run ---- */
    const size_t bt = (size_t)(B * T);
    if (bt && (size_t)LQ_OUTPUT_SIZE > SIZE_MAX / sizeof(float) / bt) {
        report(o.input, "too large");
        goto done;
    }
    y = malloc(bt ? bt * LQ_OUTPUT_SIZE * sizeof(float) : sizeof(float));
    const size_t hn = (size_t)B * LQ_STATE0_SIZE, cn = (size_t)B * LQ_STATE1_SIZE;
    h = malloc(hn ? hn * sizeof(float) : sizeof(float));
    c = malloc(cn ? cn * sizeof(float) : sizeof(float));
    if (!y || !h || !c) {
        report(o.input, "out of memory");
        goto done;
    }
    /* The rows run together, LQ_RUN_ROWS at a time (the last slice padded
     * with zero rows whose results are dropped). */
    const int64_t rows = B < LQ_RUN_ROWS ? (int64_t)B : LQ_RUN_ROWS;
    if (rows > 0) {
        const size_t sw = LQ_STATE0_SIZE > LQ_STATE1_SIZE ? LQ_STATE0_SIZE : LQ_STATE1_SIZE;
        xs = malloc((size_t)rows * LQ_INPUT_SIZE * sizeof(float));
        dts = malloc((size_t)rows * sizeof(float));
        ys = malloc((size_t)rows * LQ_OUTPUT_SIZE * sizeof(float));
        st = malloc((size_t)rows * sw * sizeof(float));
        if (!xs || !dts || !ys || !st) {
            report(o.input, "out of memory");
            goto done;
        }
        ctx = LQ_CREATE_BATCH(o.weights, rows, threads);
        if (!ctx) {
            fprintf(stderr, "error: %s\n", LQ_LAST_ERROR());
            goto done;
        }
    }
    for (uint64_t b0 = 0; b0 < B; b0 += (uint64_t)rows) {
        const uint64_t n = B - b0 < (uint64_t)rows ? B - b0 : (uint64_t)rows;
        LQ_RESET(ctx);
        if (h0.data) {
            gather_rows(st, h0.data + b0 * LQ_STATE0_SIZE, n, rows, LQ_STATE0_SIZE, LQ_STATE0_SIZE);
            LQ_SET_STATE(ctx, 0, st);
        }
        if (c0.data) {
            gather_rows(st, c0.data + b0 * LQ_STATE1_SIZE, n, rows, LQ_STATE1_SIZE, LQ_STATE1_SIZE);
            LQ_SET_STATE(ctx, 1, st);
        }
        for (uint64_t k = 0; k < T; ++k) {
            gather_rows(xs, x.data + (b0 * T + k) * LQ_INPUT_SIZE, n, rows, LQ_INPUT_SIZE,
                        (size_t)T * LQ_INPUT_SIZE);
            if (t.data)
                gather_rows(dts, t.data + b0 * T + k, n, rows, 1, (size_t)T);
            if (LQ_STEP_BATCH(ctx, xs, t.data ? dts : NULL, ys)) {
                fprintf(stderr, "error: %s\n", LQ_LAST_ERROR());
                goto done;
            }
            for (uint64_t r = 0; r < n; ++r)
                memcpy(y + ((b0 + r) * T + k) * LQ_OUTPUT_SIZE, ys + r * LQ_OUTPUT_SIZE,
                       (size_t)LQ_OUTPUT_SIZE * sizeof(float));
        }
        LQ_GET_STATE(ctx, 0, st);
        memcpy(h + b0 * LQ_STATE0_SIZE, st, (size_t)n * LQ_STATE0_SIZE * sizeof(float));
        if (LQ_NUM_STATES == 2) {
            LQ_GET_STATE(ctx, 1, st);
            memcpy(c + b0 * LQ_STATE1_SIZE, st, (size_t)n * LQ_STATE1_SIZE * sizeof(float));
        }
    }

    /* ---- write ---- */
    outs[nouts++] = (output_file){o.output, y, 3, {B, T, LQ_OUTPUT_SIZE}};
    if (o.state_out)
        outs[nouts++] = (output_file){o.state_out, h, 2, {B, LQ_STATE0_SIZE, 0}};
    if (o.cell_state_out)
        outs[nouts++] = (output_file){o.cell_state_out, c, 2, {B, (uint64_t)LQ_STATE1_SIZE, 0}};
    rc = write_outputs(outs, nouts);

done:
    free(xs);
    free(dts);
    free(ys);
    free(st);
    free(y);
    free(h);
    free(c);
    free(x.data);
    free(t.data);
    free(h0.data);
    free(c0.data);
    LQ_DESTROY(ctx);
    return rc;
}
