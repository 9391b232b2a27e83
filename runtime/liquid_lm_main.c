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
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity */
#endif
#include "liquid_cli.h"
#include "liquid_lm_bench.h"
#include "liquid_lm_runtime.h"
#include "liquid_lm_session.h"

#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s (-p TEXT | -f FILE | --chat | --prompt-ids LIST | --prompt-file FILE)\n"
            "          [options]\n"
            "       %s --bench [-p 512] [-n 128] [-d 0] [-r 5] [-o md|json] [-t N]\n"
            "Generates text with the compiled language model " LQ_MODEL_NAME ".\n\n"
            "  -p, --prompt TEXT   prompt text (the checkpoint's tokenizer; special tokens\n"
            "                      such as <|im_start|> are parsed); the generated text is\n"
            "                      streamed to stdout\n"
            "  -f, --file FILE     prompt text from a file (any bytes)\n"
            "  --chat              interactive chat, one user message per line of stdin, in\n"
            "                      the checkpoint's chat template; the caches carry over\n"
            "  --system TEXT       with --chat: the system message\n"
            "  --stop STRING       stop when the text contains STRING (up to %d times)\n"
            "  --show-ids          also print the prompt and generated ids on stderr\n"
            "  --load-state FILE   start from a snapshot (the caches after an earlier run)\n"
            "  --save-state FILE   write a snapshot of the caches at the end\n"
            "  --tokenize          print the ids of -p/-f text (comma-separated) and exit\n"
            "  --parse-special     with --tokenize: special-token texts become their ids\n"
            "  --no-bos            with --tokenize: do not add the begin-of-sequence id\n"
            "  --detokenize LIST   print the text of comma-separated ids and exit\n"
            "  --prompt-ids LIST   prompt token ids, comma-separated (prints ids, not text)\n"
            "  --prompt-file FILE  prompt token ids, separated by commas or white space\n"
            "  -n, --n-predict N   tokens to generate (default 32); stops early at an\n"
            "                      end-of-generation id (%d)\n"
            "  --temp T            sampling temperature (default 0: greedy, ties -> lowest id)\n"
            "  --top-k K           sample among the K most likely tokens (default 0: all)\n"
            "  --top-p P           nucleus sampling mass (default 1.0)\n"
            "  --seed S            sampling seed (default 1)\n"
            "  --dump-logits F.npy with ids: write float32 [positions, %d]: every prompt\n"
            "                      position, then every decode step\n"
            "  --prefill-only      evaluate the prompt and stop (with --dump-logits)\n"
            "  --weights F.lqw     packed weights and tokenizer (default: compiled in, else\n"
            "                      this program's path + .lqw)\n"
            "  --no-verify-weights skip the .lqw checksum (its header's; checked by default)\n"
            "  -t, --threads N     threads (default: the physical cores it may use, at most 64)\n"
            "  --bench             with ids: print prefill and decode tokens/s on stderr\n"
            "                      (after one warm-up token, which is not counted); without:\n"
            "                      llama-bench's tests on random ids, a table on stdout:\n"
            "                      -p LIST prompt sizes (pp), -n LIST generation lengths\n"
            "                      (tg), -d LIST context depths before each test,\n"
            "                      -r N repetitions (mean +- sd), -o md|json\n"
            "  --help, --version\n"
            "Context: %d tokens.\n",
            argv0, argv0, LQ_MAX_STOPS, LQ_EOS, LQ_VOCAB, LQ_MAX_CONTEXT);
}

typedef struct {
    const char *prompt_ids, *prompt_file, *dump, *weights;
    const char *n_raw, *depths, *reps, *format; /* -n as given; --bench's -d, -r, -o */
    const char *prompt, *file, *detokenize, *system, *save_state, *load_state;
    const char *stops[LQ_MAX_STOPS];
    int n_stops;
    long n_predict, top_k, threads;
    double temp, top_p;
    unsigned long long seed;
    int prefill_only, bench, tokenize, parse_special, no_bos, chat, show_ids;
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

/* The bytes of a file, NUL-terminated (*len without the NUL; may be NULL). */
/* The most bytes read_text takes from a file (prompts, ids, -f texts). */
#define LQ_MAX_TEXT_BYTES (64 << 20)

static char *read_text(const char *path, size_t *out_len)
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
        if (len + 1 == cap && cap > LQ_MAX_TEXT_BYTES) { /* a device or an endless pipe */
            fclose(f);
            free(buf);
            report(path, "longer than %d MiB (the most a text or ids file may hold)",
                   LQ_MAX_TEXT_BYTES >> 20);
            return NULL;
        }
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
    int bad = ferror(f);
    fclose(f);
    if (buf && bad) {
        report(path, "cannot read: %s", strerror(errno));
        free(buf);
        return NULL;
    }
    if (!buf)
        report(path, "out of memory");
    else
        buf[len] = 0;
    if (buf && out_len)
        *out_len = len;
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

/* Threads by default: the physical cores this process may run on (distinct
 * package/core ids of the CPUs in its affinity mask; a second hardware thread
 * of a core adds little to bandwidth-bound decoding), at most 64. */
static long default_threads(void)
{
    cpu_set_t set;
    long n = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    long seen[CPU_SETSIZE];
    for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (!CPU_ISSET(c, &set))
            continue;
        char path[128];
        long core = c, pkg = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", c);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%ld", &core) != 1)
                core = c;
            fclose(f);
        }
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", c);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%ld", &pkg) != 1)
                pkg = 0;
            fclose(f);
        }
        long key = pkg * 100000 + core, i = 0;
        while (i < n && seen[i] != key)
            ++i;
        if (i == n)
            seen[n++] = key;
    }
    return n < 1 ? 1 : n > 64 ? 64 : n;
}

/* Parses the command line into *po; -1 to go on, else the exit code
 * (--help, --version: 0; a bad option: 2, after a report). */
static int parse_options(int argc, char **argv, options *po)
{
    options o = {0};
    o.n_predict = 32;
    o.top_p = 1.0;
    o.seed = 1;
    o.threads = default_threads();
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
        } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            NEED();
            o.prompt = v;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            NEED();
            o.file = v;
        } else if (!strcmp(a, "--detokenize")) {
            NEED();
            o.detokenize = v;
        } else if (!strcmp(a, "--save-state")) {
            NEED();
            o.save_state = v;
        } else if (!strcmp(a, "--load-state")) {
            NEED();
            o.load_state = v;
        } else if (!strcmp(a, "--system")) {
            NEED();
            o.system = v;
        } else if (!strcmp(a, "--stop")) {
            NEED();
            if (o.n_stops == LQ_MAX_STOPS || !*v) {
                report(a, "at most %d non-empty stop strings", LQ_MAX_STOPS);
                return 2;
            }
            o.stops[o.n_stops++] = v;
        } else if (!strcmp(a, "--tokenize")) {
            o.tokenize = 1;
        } else if (!strcmp(a, "--parse-special")) {
            o.parse_special = 1;
        } else if (!strcmp(a, "--no-bos")) {
            o.no_bos = 1;
        } else if (!strcmp(a, "--chat")) {
            o.chat = 1;
        } else if (!strcmp(a, "--show-ids")) {
            o.show_ids = 1;
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
        } else if (!strcmp(a, "--no-verify-weights")) {
            setenv("LIQUID_NO_VERIFY_WEIGHTS", "1", 1); /* read by lq_lqw_verify */
        } else if (!strcmp(a, "--n-predict") || !strcmp(a, "-n") || !strcmp(a, "--n-gen")) {
            NEED();
            o.n_raw = v; /* a count, or --bench's list */
        } else if (!strcmp(a, "-d") || !strcmp(a, "--n-depth")) {
            NEED();
            o.depths = v;
        } else if (!strcmp(a, "-r") || !strcmp(a, "--repetitions")) {
            NEED();
            o.reps = v;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            NEED();
            o.format = v;
        } else if (!strcmp(a, "--top-k")) {
            NEED();
            if (parse_long(a, v, 0, LQ_VOCAB, &o.top_k))
                return 2;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
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
    if (!(o.bench && !o.prompt_ids && !o.prompt_file)) {
        const char *only = o.depths ? "-d" : o.reps ? "-r" : o.format ? "-o" : NULL;
        if (only) {
            report(only, "only with --bench (without --prompt-ids/--prompt-file)");
            return 2;
        }
        if (o.n_raw && parse_long("-n", o.n_raw, 0, LQ_MAX_CONTEXT, &o.n_predict))
            return 2;
    }
    *po = o;
    return -1;
}

/* --bench without ids: llama-bench's tests (liquid_lm_bench.h); the exit code. */
static int run_llama_bench(LQ_LM *lm, const options *po)
{
    const options o = *po;
    lq_bench b = {.np = 1, .nn = 1, .nd = 1, .reps = 5, .threads = o.threads};
    b.p[0] = 512;
    b.n[0] = 128;
    b.d[0] = 0;
    if ((o.prompt && lq_bench_list("-p", o.prompt, 0, LQ_MAX_CONTEXT, b.p, &b.np)) ||
        (o.n_raw && lq_bench_list("-n", o.n_raw, 0, LQ_MAX_CONTEXT, b.n, &b.nn)) ||
        (o.depths && lq_bench_list("-d", o.depths, 0, LQ_MAX_CONTEXT, b.d, &b.nd)) ||
        (o.reps && parse_long("-r", o.reps, 1, 1000, &b.reps)))
        return 2;
    if (o.format && strcmp(o.format, "md") && strcmp(o.format, "json")) {
        report("-o", "expected md or json, got '%s'", o.format);
        return 2;
    }
    b.json = o.format && !strcmp(o.format, "json");
    return lq_bench_run(lm, &b);
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

/* --load-state: the snapshot FILE into the context. 0, or 1 after a report. */
static int load_state(LQ_LM *lm, const char *path)
{
    size_t len = 0;
    char *buf = read_text(path, &len);
    if (!buf)
        return 1;
    int rc = LQ_SYM(_lm_state_load)(lm, buf, len);
    if (rc)
        report(path, "%s", LQ_SYM(_lm_last_error)());
    free(buf);
    return rc ? 1 : 0;
}

/* --save-state: the context's snapshot to FILE (FILE.tmp, renamed), its
 * size on stderr. 0, or 1 after a report. */
static int save_state(LQ_LM *lm, const char *path)
{
    size_t n = LQ_SYM(_lm_state_size)(lm);
    void *buf = malloc(n);
    char tmp[4096] = "", err[256] = "out of memory";
    FILE *f = buf && LQ_SYM(_lm_state_save)(lm, buf, n) == n
                  ? lq_create_beside(path, tmp, sizeof tmp, err, sizeof err)
                  : NULL;
    int ok = f && fwrite(buf, 1, n, f) == n;
    ok = f && fclose(f) == 0 && ok && rename(tmp, path) == 0;
    if (!ok) {
        report(path, "cannot write the snapshot: %s", f ? strerror(errno) : err);
        if (tmp[0])
            remove(tmp);
    } else {
        fprintf(stderr, "state: %zu bytes at position %lld (%d conv caches, %d KV caches)\n", n,
                (long long)LQ_SYM(_lm_position)(lm), LQ_NUM_CONV_CACHES, LQ_NUM_KV_CACHES);
    }
    free(buf);
    return ok ? 0 : 1;
}

/* The options ask for one mode; 0, or 2 after a report. */
static int check_mode(const options *o, const char *argv0)
{
    if (o->bench && !o->prompt_ids && !o->prompt_file) { /* llama-bench's tests */
        const char *other = o->file ? "-f" : o->chat ? "--chat" : o->detokenize ? "--detokenize"
                            : o->tokenize ? "--tokenize" : o->dump ? "--dump-logits"
                            : o->prefill_only ? "--prefill-only" : o->load_state ? "--load-state"
                            : o->save_state ? "--save-state" : NULL;
        if (other) {
            report(other, "does not go with --bench without ids (llama-bench's tests)");
            return 2;
        }
        return 0;
    }
    int texts = !!o->prompt + !!o->file;
    int ids = !!o->prompt_ids + !!o->prompt_file;
    if (texts + ids + !!o->detokenize + o->chat != 1) {
        report(argv0, "give exactly one of -p, -f, --chat, --detokenize, --prompt-ids and "
                      "--prompt-file (see --help)");
        return 2;
    }
    if ((o->tokenize || o->parse_special || o->no_bos) && !texts) {
        report("--tokenize", "takes its text from -p or -f");
        return 2;
    }
    if ((o->dump || o->prefill_only || o->bench) && !ids) {
        report(o->dump ? "--dump-logits" : o->bench ? "--bench" : "--prefill-only",
               "works with --prompt-ids or --prompt-file");
        return 2;
    }
    if ((o->save_state || o->load_state) && (o->tokenize || o->detokenize || o->chat)) {
        report(o->save_state ? "--save-state" : "--load-state",
               "works with -p, -f, --prompt-ids and --prompt-file");
        return 2;
    }
    if (o->system && !o->chat) {
        report("--system", "works with --chat");
        return 2;
    }
    const char *outs[2] = {o->dump, o->save_state};
    for (int i = 0; i < 2; ++i) {
        char err[160];
        if (outs[i] && lq_check_output(outs[i], err, sizeof err)) {
            report(outs[i], "%s", err);
            return 2;
        }
    }
    return 0;
}

/* --tokenize: the ids of the -p/-f text on one line. */
static int run_tokenize(LQ_LM *lm, const char *text, size_t len, const options *o)
{
    int32_t *ids;
    int64_t n = lq_tokenize_all(lm, text, len, o->no_bos ? 0 : -1, o->parse_special, &ids);
    if (n < 0) {
        report("--tokenize", "%s", LQ_SYM(_lm_last_error)());
        return 1;
    }
    for (int64_t i = 0; i < n; ++i)
        printf(i ? ",%d" : "%d", ids[i]);
    printf("\n");
    free(ids);
    return 0;
}

/* --detokenize: the text of the ids (control tokens shown). */
static int run_detokenize(LQ_LM *lm, const options *o)
{
    int32_t *ids;
    long n;
    if (!LQ_SYM(_lm_has_tokenizer)(lm)) {
        report("--detokenize", "%s", "the model was compiled without a tokenizer");
        return 1;
    }
    if (parse_ids("--detokenize", o->detokenize, &ids, &n))
        return 2;
    for (long i = 0; i < n; ++i) {
        size_t len;
        const char *p = LQ_SYM(_lm_token_piece)(lm, ids[i], 1, &len);
        fwrite(p, 1, len, stdout);
    }
    printf("\n");
    free(ids);
    return 0;
}

/* -p/-f: the generated text streamed to stdout; --chat: the conversation. */
static int run_text(LQ_LM *lm, const char *text, size_t len, const options *o)
{
    LQ_SAMPLER sampler;
    LQ_SYM(_lm_sampler_init)(&sampler, o->temp, o->top_k, o->top_p, o->seed);
    lq_text_out out = {0};
    out.lm = lm;
    out.out = stdout;
    memcpy(out.stops, o->stops, sizeof o->stops);
    out.n_stops = o->n_stops;
    if (!LQ_SYM(_lm_has_tokenizer)(lm)) {
        report(o->chat ? "--chat" : o->prompt ? "--prompt" : o->file, "%s",
               "the model was compiled without a tokenizer: give --prompt-ids");
        return 1;
    }
    int rc = 0;
    if (o->chat) {
        rc = lq_chat(lm, stdin, o->system, o->n_predict, &sampler, &out, o->show_ids);
    } else {
        int32_t *ids;
        /* bos only at the start of a sequence (not after --load-state) */
        int add_bos = LQ_SYM(_lm_position)(lm) == 0 ? -1 : 0;
        int64_t n = lq_tokenize_all(lm, text, len, add_bos, 1, &ids);
        int64_t made = n < 0 ? -1
                             : LQ_SYM(_lm_generate)(lm, ids, n, o->n_predict, &sampler,
                                                    lq_on_token, &out);
        lq_text_finish(&out);
        printf("\n");
        if (made < 0 || out.oom) {
            report(o->prompt ? "--prompt" : o->file, "%s",
                   out.oom ? "out of memory" : LQ_SYM(_lm_last_error)());
            rc = 1;
        } else if (o->show_ids) {
            fflush(stdout);
            lq_print_ids(stderr, "prompt ids", ids, (long)n);
            lq_print_ids(stderr, "generated ids", out.ids, out.n_ids);
        }
        free(ids);
    }
    free(out.buf);
    free(out.ids);
    return rc;
}

/* --prompt-ids / --prompt-file: the generated ids on one line; logits dump,
 * speed report. */
static int run_ids(LQ_LM *lm, const options *po, const char *argv0)
{
    const options o = *po;
    int32_t *prompt = NULL;
    long np = 0;
    if (o.prompt_ids) {
        if (parse_ids("--prompt-ids", o.prompt_ids, &prompt, &np))
            return 2;
    } else {
        char *text = read_text(o.prompt_file, NULL);
        if (!text)
            return 1;
        int rc = parse_ids(o.prompt_file, text, &prompt, &np);
        free(text);
        if (rc)
            return 1;
    }
    long predict = o.prefill_only ? 0 : o.n_predict;
    long base = (long)LQ_SYM(_lm_position)(lm); /* > 0 after --load-state */
    if (base + np + (predict > 0 ? predict - 1 : 0) > LQ_MAX_CONTEXT) {
        report(argv0, "%ld prompt + %ld generated tokens exceed the compiled context of %d "
               "(recompile with a larger --max-context)", np, predict, LQ_MAX_CONTEXT);
        free(prompt);
        return 2;
    }

    const float *logits = LQ_SYM(_lm_logits)(lm);
    size_t map_size = 0;
    const void *map = LQ_SYM(_lm_weights_mapping)(lm, &map_size);
    long dump_rows = np + (predict > 0 ? predict - 1 : 0);
    float *dump = o.dump ? malloc(sizeof(float) * (size_t)dump_rows * LQ_VOCAB) : NULL;
    int32_t *ids = malloc(sizeof(int32_t) * LQ_MAX_ROWS);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)(predict > 0 ? predict : 1));
    if (!ids || !out || (o.dump && !dump)) {
        report(argv0, "out of memory");
        return 1;
    }
    LQ_SAMPLER sampler;
    LQ_SYM(_lm_sampler_init)(&sampler, o.temp, o.top_k, o.top_p, o.seed);

    /* --bench: one warm-up token first (as llama-bench warms up), so the
     * timings do not include the first touch of the mapped weights */
    if (o.bench && base == 0 && np > 0) {
        ids[0] = prompt[0];
        if (LQ_SYM(_lm_forward)(lm, ids, 1, 0, 1)) {
            report(argv0, "%s", LQ_SYM(_lm_last_error)());
            return 1;
        }
        LQ_SYM(_lm_reset)(lm);
    }
    /* prefill, in chunks of LQ_MAX_ROWS tokens */
    double t0 = now();
    long pos = 0;
    while (pos < np) {
        long n = np - pos < LQ_MAX_ROWS ? np - pos : LQ_MAX_ROWS;
        memcpy(ids, prompt + pos, sizeof(int32_t) * (size_t)n);
        /* a prompt chunk needs only its last row's logits, unless they are dumped */
        if (LQ_SYM(_lm_forward)(lm, ids, n, base + pos, dump ? n : 1)) {
            report(argv0, "%s", LQ_SYM(_lm_last_error)());
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
        out[generated++] = LQ_SYM(_lm_sample)(lm, &sampler, logits + (size_t)last_row * LQ_VOCAB);
        while (generated < predict && out[generated - 1] >= 0 &&
               !LQ_SYM(_lm_is_eog)(lm, out[generated - 1])) {
            ids[0] = out[generated - 1];
            if (LQ_SYM(_lm_forward)(lm, ids, 1, base + pos, 1)) {
                report(argv0, "%s", LQ_SYM(_lm_last_error)());
                return 1;
            }
            if (dump)
                memcpy(dump + (size_t)pos * LQ_VOCAB, logits, sizeof(float) * LQ_VOCAB);
            ++pos;
            out[generated++] = LQ_SYM(_lm_sample)(lm, &sampler, logits);
        }
    }
    double t2 = now();
    for (long i = 0; i < generated; ++i)
        printf(i ? ",%d" : "%d", out[i]);
    printf("\n");
    if (generated > 0 && out[generated - 1] < 0) {
        report(argv0, "%s", LQ_SYM(_lm_last_error)());
        return 1;
    }
    if (o.bench)
        print_bench(&o, np, generated, t0, t1, t2, map, map_size);
    int rc = 0;
    if (dump) {
        char err[256];
        uint64_t shape[2] = {(uint64_t)pos, LQ_VOCAB};
        if (npy_save(o.dump, dump, 2, shape, err, sizeof err) != 0) {
            report(o.dump, "%s", err);
            rc = 1;
        }
    }
    free(prompt);
    free(dump);
    free(ids);
    free(out);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if ((rc = check_mode(&o, argv[0])) != 0)
        return rc;
    char *text = NULL;
    size_t len = 0;
    if (o.file && !(text = read_text(o.file, &len)))
        return 1;
    if (o.prompt)
        len = strlen(o.prompt);
    char def_weights[4096];
    const char *wpath = o.weights;
    if (!wpath && !LQ_EMBEDDED_WEIGHTS) {
        snprintf(def_weights, sizeof def_weights, "%s.lqw", argv[0]);
        wpath = def_weights;
    }
    LQ_LM *lm = LQ_SYM(_lm_create)(wpath, (int)o.threads);
    if (!lm) {
        fprintf(stderr, "error: %s\n", LQ_SYM(_lm_last_error)());
        free(text);
        return 1;
    }
    const char *prompt = o.prompt ? o.prompt : text;
    if (o.load_state && load_state(lm, o.load_state)) {
        LQ_SYM(_lm_destroy)(lm);
        free(text);
        return 1;
    }
    if (o.bench && !o.prompt_ids && !o.prompt_file)
        rc = run_llama_bench(lm, &o);
    else if (o.tokenize)
        rc = run_tokenize(lm, prompt, len, &o);
    else if (o.detokenize)
        rc = run_detokenize(lm, &o);
    else if (o.prompt || o.file || o.chat)
        rc = run_text(lm, prompt, len, &o);
    else
        rc = run_ids(lm, &o, argv[0]);
    if (rc == 0 && o.save_state)
        rc = save_state(lm, o.save_state);
    LQ_SYM(_lm_destroy)(lm);
    free(text);
    return rc;
}
