/*
 * liquid_lm_main.c - main of a liquidc language-model executable (LFM2): the
 * command line, prompt parsing, sampling, logits dump and --bench report, on
 * top of the model API of liquid_lm.c (liquid_lm_runtime.h).
 *
 * Compiled by liquidc with the model's configuration header:
 *     cc -std=c11 -O2 -include P_config.h -c liquid_lm_main.c
 * and linked with liquid_lm.o and the compiled forward kernel.
 *
 * Weights: compiled in (LQ_EMBEDDED_WEIGHTS 1) or the .lqw file, memory-mapped:
 * --weights FILE, by default "<this program>.lqw".
 */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "liquid_cli.h"
#include "liquid_lm_runtime.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [--prompt-ids 1,20,300 | --prompt-file FILE] [options]\n"
            "Generates tokens with the compiled language model " LQ_MODEL_NAME ".\n\n"
            "  --prompt-ids LIST   prompt token ids, comma-separated\n"
            "  --prompt-file FILE  prompt token ids, separated by commas or white space\n"
            "  --n-predict N       tokens to generate (default 32); stops early at EOS (%d)\n"
            "  --temp T            sampling temperature (default 0: greedy, ties -> lowest id)\n"
            "  --top-k K           sample among the K most likely tokens (default 0: all)\n"
            "  --top-p P           nucleus sampling mass (default 1.0)\n"
            "  --seed S            sampling seed (default 1)\n"
            "  --dump-logits F.npy write float32 [positions, %d]: every prompt position,\n"
            "                      then every decode step\n"
            "  --prefill-only      evaluate the prompt and stop (with --dump-logits)\n"
            "  --weights F.lqw     packed weights (default: compiled in, else this\n"
            "                      program's path + .lqw)\n"
            "  --threads N         threads (default: the CPUs online, at most 64)\n"
            "  --bench             print prefill and decode tokens/s on stderr\n"
            "  --help, --version\n"
            "Prints the generated ids, comma-separated, on one line. Context: %d tokens.\n",
            argv0, LQ_EOS, LQ_VOCAB, LQ_MAX_CONTEXT);
}

typedef struct {
    const char *prompt_ids, *prompt_file, *dump, *weights;
    long n_predict, top_k, threads;
    double temp, top_p;
    unsigned long long seed;
    int prefill_only, bench;
} options;

static int parse_long(const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        report(flag, "expected an integer in [%ld, %ld], got '%s'", lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        report(flag, "expected a number in [%g, %g], got '%s'", lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parses ids separated by commas and/or white space into *ids (malloc'd). */
static int parse_ids(const char *what, const char *s, int32_t **ids, long *n)
{
    size_t cap = 16, len = 0;
    int32_t *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    const char *p = s;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            ++p;
        if (!*p)
            break;
        char *end;
        errno = 0;
        long long id = strtoll(p, &end, 10);
        if (end == p || errno) {
            report(what, "not a token id at '%.20s'", p);
            free(v);
            return -1;
        }
        if (id < 0 || id >= LQ_VOCAB) {
            report(what, "token id %lld is outside the vocabulary [0, %d)", id, LQ_VOCAB);
            free(v);
            return -1;
        }
        if (len == cap) {
            int32_t *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
            cap *= 2;
        }
        v[len++] = (int32_t)id;
        p = end;
    }
    if (len == 0) {
        report(what, "no token ids");
        free(v);
        return -1;
    }
    *ids = v;
    *n = (long)len;
    return 0;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        report(path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = 0;
    return buf;
}

/* Bytes of the mapping at `base` that this process has touched: its resident
 * set in /proc/self/smaps. A fault maps the whole page-cache folio it hits,
 * so with a warm cache (large folios) this overcounts; from a cold cache it
 * is within a few MiB of what was read. -1 where it is not available. */
static long long touched_bytes(const void *base)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    int in = 0;
    long long kb = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = (uintptr_t)base >= lo && (uintptr_t)base < hi;
        else if (in && sscanf(line, "Rss: %lld kB", &kb) == 1)
            break;
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

typedef struct {
    float p;
    int32_t id;
} cand;

static int cand_desc(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? 1 : -1;
    return x->id - y->id;
}

/* Greedy (temp == 0) or temperature / top-k / top-p sampling. */
static int32_t choose(const float *logits, const options *o, uint64_t *rng, cand *scratch)
{
    if (o->temp <= 0.0) {
        int32_t best = 0;
        for (int32_t i = 1; i < LQ_VOCAB; ++i)
            if (logits[i] > logits[best])
                best = i;
        return best;
    }
    float mx = logits[0];
    for (int i = 1; i < LQ_VOCAB; ++i)
        mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < LQ_VOCAB; ++i) {
        scratch[i].p = (float)exp((logits[i] - mx) / o->temp);
        scratch[i].id = i;
        sum += scratch[i].p;
    }
    qsort(scratch, LQ_VOCAB, sizeof *scratch, cand_desc);
    long k = o->top_k > 0 && o->top_k < LQ_VOCAB ? o->top_k : LQ_VOCAB;
    double kept = 0;
    long n = 0;
    while (n < k) {
        kept += scratch[n].p / sum;
        ++n;
        if (kept >= o->top_p)
            break;
    }
    double r = (double)(rng_next(rng) >> 11) / 9007199254740992.0 * kept * sum;
    double acc = 0;
    for (long i = 0; i < n; ++i) {
        acc += scratch[i].p;
        if (r < acc)
            return scratch[i].id;
    }
    return scratch[n - 1].id;
}

/* Parses the command line into *po; -1 to go on, else the exit code
 * (--help, --version: 0; a bad option: 2, after a report). */
static int parse_options(int argc, char **argv, options *po)
{
    options o = {0};
    o.n_predict = 32;
    o.top_p = 1.0;
    o.seed = 1;
    o.threads = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    if (o.threads > 64)
        o.threads = 64;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long lv;
#define NEED()                                                                                     \
    do {                                                                                           \
        if (!v) {                                                                                  \
            report(a, "missing value");                                                            \
            return 2;                                                                              \
        }                                                                                          \
        ++i;                                                                                       \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, argv[0]);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("%s (" LQ_MODEL_NAME ", compiled by %s)\n", argv[0], LQ_COMPILER_VERSION);
            return 0;
        } else if (!strcmp(a, "--prompt-ids")) {
            NEED();
            o.prompt_ids = v;
        } else if (!strcmp(a, "--prompt-file")) {
            NEED();
            o.prompt_file = v;
        } else if (!strcmp(a, "--dump-logits")) {
            NEED();
            o.dump = v;
        } else if (!strcmp(a, "--weights")) {
            NEED();
            o.weights = v;
        } else if (!strcmp(a, "--n-predict")) {
            NEED();
            if (parse_long(a, v, 0, LQ_MAX_CONTEXT, &o.n_predict))
                return 2;
        } else if (!strcmp(a, "--top-k")) {
            NEED();
            if (parse_long(a, v, 0, LQ_VOCAB, &o.top_k))
                return 2;
        } else if (!strcmp(a, "--threads")) {
            NEED();
            if (parse_long(a, v, 1, 64, &o.threads))
                return 2;
        } else if (!strcmp(a, "--seed")) {
            NEED();
            if (parse_long(a, v, 0, 2147483647L, &lv))
                return 2;
            o.seed = (unsigned long long)lv;
        } else if (!strcmp(a, "--temp")) {
            NEED();
            if (parse_double(a, v, 0.0, 100.0, &o.temp))
                return 2;
        } else if (!strcmp(a, "--top-p")) {
            NEED();
            if (parse_double(a, v, 0.0, 1.0, &o.top_p))
                return 2;
        } else if (!strcmp(a, "--prefill-only")) {
            o.prefill_only = 1;
        } else if (!strcmp(a, "--bench")) {
            o.bench = 1;
        } else {
            report(a, "unknown option (see --help)");
            return 2;
        }
#undef NEED
    }
    *po = o;
    return -1;
}

/* --bench: speed, throughput and memory of this run, to stderr. */
static void print_bench(const options *po, long np, long generated, double t0, double t1,
                        double t2, const void *map, size_t map_size)
{
    const options o = *po;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double pre = np / (t1 - t0), dec = generated > 1 ? (generated - 1) / (t2 - t1) : 0.0;
    /* the FLOPs the prefill did: the head ran on one row per chunk
     * (every row with --dump-logits) */
    long chunks = (np + LQ_MAX_ROWS - 1) / LQ_MAX_ROWS;
    double pre_flops = (double)(LQ_FLOPS_PER_TOKEN - LQ_HEAD_FLOPS) * np +
                       (double)LQ_HEAD_FLOPS * (o.dump ? np : chunks);
    fprintf(stderr,
            "threads %ld | prefill %ld tokens: %.3f s, %.1f tok/s, %.1f GFLOP/s | decode %ld "
            "tokens: %.3f s, %.1f tok/s, %.1f GB/s of weights | peak RSS %.0f MiB\n",
            o.threads, np, t1 - t0, pre, pre_flops / (t1 - t0) * 1e-9,
            generated > 0 ? generated - 1 : 0, t2 - t1, dec, dec * (double)LQ_DECODE_BYTES * 1e-9,
            ru.ru_maxrss / 1024.0);
    long long touched = map ? touched_bytes(map) : -1;
    if (touched >= 0)
        fprintf(stderr, "weights: %.1f MiB of the %.1f MiB file touched by this run; a decoded "
                        "token reads %.1f MiB\n",
                touched / 1048576.0, map_size / 1048576.0, LQ_DECODE_BYTES / 1048576.0);
}

int main(int argc, char **argv)
{
    options o;
    int prc = parse_options(argc, argv, &o);
    if (prc >= 0)
        return prc;
    if (!o.prompt_ids == !o.prompt_file) {
        report(argv[0], "give exactly one of --prompt-ids and --prompt-file (see --help)");
        return 2;
    }
    int32_t *prompt = NULL;
    long np = 0;
    if (o.prompt_ids) {
        if (parse_ids("--prompt-ids", o.prompt_ids, &prompt, &np))
            return 2;
    } else {
        char *text = read_text(o.prompt_file);
        if (!text)
            return 1;
        int rc = parse_ids(o.prompt_file, text, &prompt, &np);
        free(text);
        if (rc)
            return 1;
    }
    long predict = o.prefill_only ? 0 : o.n_predict;
    if (np + (predict > 0 ? predict - 1 : 0) > LQ_MAX_CONTEXT) {
        report(argv[0], "%ld prompt + %ld generated tokens exceed the compiled context of %d "
               "(recompile with a larger --max-context)", np, predict, LQ_MAX_CONTEXT);
        free(prompt);
        return 2;
    }

    char def_weights[4096];
    const char *wpath = o.weights;
    if (!wpath && !LQ_EMBEDDED_WEIGHTS) {
        snprintf(def_weights, sizeof def_weights, "%s.lqw", argv[0]);
        wpath = def_weights;
    }
    LQ_LM *lm = LQ_SYM(_lm_create)(wpath, (int)o.threads);
    if (!lm) {
        fprintf(stderr, "error: %s\n", LQ_SYM(_lm_last_error)());
        free(prompt);
        return 1;
    }
    const float *logits = LQ_SYM(_lm_logits)(lm);
    size_t map_size = 0;
    const void *map = LQ_SYM(_lm_weights_mapping)(lm, &map_size);
    long dump_rows = np + (predict > 0 ? predict - 1 : 0);
    float *dump = o.dump ? malloc(sizeof(float) * (size_t)dump_rows * LQ_VOCAB) : NULL;
    int32_t *ids = malloc(sizeof(int32_t) * LQ_MAX_ROWS);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)(predict > 0 ? predict : 1));
    cand *scratch = o.temp > 0 ? malloc(sizeof(cand) * LQ_VOCAB) : NULL;
    if (!ids || !out || (o.dump && !dump) || (o.temp > 0 && !scratch)) {
        report(argv[0], "out of memory");
        return 1;
    }
    uint64_t rng = 0x9E3779B97F4A7C15ULL ^ (o.seed * 0x2545F4914F6CDD1DULL);
    if (!rng)
        rng = 1;

    /* prefill, in chunks of LQ_MAX_ROWS tokens */
    double t0 = now();
    long pos = 0;
    while (pos < np) {
        long n = np - pos < LQ_MAX_ROWS ? np - pos : LQ_MAX_ROWS;
        memcpy(ids, prompt + pos, sizeof(int32_t) * (size_t)n);
        /* a prompt chunk needs only its last row's logits, unless they are dumped */
        if (LQ_SYM(_lm_forward)(lm, ids, n, pos, dump ? n : 1)) {
            report(argv[0], "%s", LQ_SYM(_lm_last_error)());
            return 1;
        }
        if (dump)
            memcpy(dump + (size_t)pos * LQ_VOCAB, logits, sizeof(float) * (size_t)n * LQ_VOCAB);
        pos += n;
    }
    double t1 = now();
    long last_row = (np - 1) % LQ_MAX_ROWS;
    long generated = 0;
    if (predict > 0) {
        out[generated++] = choose(logits + (size_t)last_row * LQ_VOCAB, &o, &rng, scratch);
        while (generated < predict && out[generated - 1] != LQ_EOS) {
            ids[0] = out[generated - 1];
            if (LQ_SYM(_lm_forward)(lm, ids, 1, pos, 1)) {
                report(argv[0], "%s", LQ_SYM(_lm_last_error)());
                return 1;
            }
            if (dump)
                memcpy(dump + (size_t)pos * LQ_VOCAB, logits, sizeof(float) * LQ_VOCAB);
            ++pos;
            out[generated++] = choose(logits, &o, &rng, scratch);
        }
    }
    double t2 = now();
    for (long i = 0; i < generated; ++i)
        printf(i ? ",%d" : "%d", out[i]);
    printf("\n");
    if (o.bench)
        print_bench(&o, np, generated, t0, t1, t2, map, map_size);
    LQ_SYM(_lm_destroy)(lm);
    int rc = 0;
    if (dump) {
        char err[256], tmp[4096];
        uint64_t shape[2] = {(uint64_t)pos, LQ_VOCAB};
        snprintf(tmp, sizeof tmp, "%s.tmp", o.dump);
        if (npy_save(tmp, dump, 2, shape, err, sizeof err) != 0 || rename(tmp, o.dump) != 0) {
            remove(tmp);
            report(o.dump, "%s", err);
            rc = 1;
        }
    }
    free(prompt);
    free(dump);
    free(ids);
    free(out);
    free(scratch);
    return rc;
}
