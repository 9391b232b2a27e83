#!/usr/bin/env python3
"""The text API of a language-model library (liquidc --emit=lib on a
checkpoint with a tokenizer): a program tokenizes each of llama.cpp's golden
prompts with P_lm_tokenize, generates 16 greedy tokens with P_lm_generate
(one callback per token) and decodes them with P_lm_token_piece; it runs the
prompts on two contexts in two threads at once (one weights mapping each).
The same source is built as C under AddressSanitizer/UBSan and as C++; every
prompt's ids and text must equal the golden's. One PASS/FAIL line per check."""
import argparse
import json
import os
import shutil
import subprocess
import sys

PROGRAM = r'''
#include "lm.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { lm_lm *m; int32_t ids[64]; int n; char text[4096]; size_t len; } out_t;

static int on_token(void *user, int32_t id) {
    out_t *o = (out_t *)user;
    size_t n;
    const char *p = lm_lm_token_piece(o->m, id, 0, &n);
    if (o->n < 64) o->ids[o->n++] = id;
    if (p && o->len + n < sizeof o->text) { memcpy(o->text + o->len, p, n); o->len += n; }
    return 0;
}

typedef struct { const char *weights; int argc; char **argv; int rc; FILE *f; } job_t;

static void *run(void *arg) {
    job_t *j = (job_t *)arg;
    lm_lm *m = lm_lm_create(j->weights, 1);
    if (!m) { fprintf(stderr, "create: %s\n", lm_lm_last_error()); j->rc = 3; return NULL; }
    for (int i = 0; i < j->argc; ++i) {
        int32_t ids[512];
        int64_t n = lm_lm_tokenize(m, j->argv[i], strlen(j->argv[i]), -1, 1, ids, 512);
        if (n < 0 || n > 512) { fprintf(stderr, "tokenize: %s\n", lm_lm_last_error()); j->rc = 4; break; }
        lm_lm_reset(m);
        lm_lm_sampler s;
        lm_lm_sampler_init(&s, 0.0, 0, 1.0, 1);
        out_t o;
        memset(&o, 0, sizeof o);
        o.m = m;
        if (lm_lm_generate(m, ids, n, 16, &s, on_token, &o) < 0) {
            fprintf(stderr, "generate: %s\n", lm_lm_last_error()); j->rc = 5; break;
        }
        char whole[4096];
        int64_t wl = lm_lm_detokenize(m, o.ids, o.n, 0, whole, sizeof whole);
        if (wl != (int64_t)o.len || memcmp(whole, o.text, o.len) != 0) {
            fprintf(stderr, "detokenize differs from the streamed pieces\n"); j->rc = 6; break;
        }
        fprintf(j->f, "{\"prompt_ids\": [");
        for (int64_t k = 0; k < n; ++k) fprintf(j->f, k ? ", %d" : "%d", ids[k]);
        fprintf(j->f, "], \"ids\": [");
        for (int k = 0; k < o.n; ++k) fprintf(j->f, k ? ", %d" : "%d", o.ids[k]);
        fprintf(j->f, "], \"hex\": \"");
        for (size_t k = 0; k < o.len; ++k) fprintf(j->f, "%02x", (unsigned char)o.text[k]);
        fprintf(j->f, "\"}\n");
    }
    /* A snapshot to a buffer: generating on from it twice gives the same ids. */
    if (j->rc == 0 && j->argc > 0) {
        int32_t ids[512];
        int64_t n = lm_lm_tokenize(m, j->argv[0], strlen(j->argv[0]), -1, 1, ids, 512);
        lm_lm_reset(m);
        lm_lm_sampler s;
        lm_lm_sampler_init(&s, 0.0, 0, 1.0, 1);
        out_t a, b;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        a.m = b.m = m;
        lm_lm_generate(m, ids, n, 4, &s, on_token, &a);
        size_t size = lm_lm_state_size(m);
        void *snap = malloc(size);
        int saved = lm_lm_state_save(m, snap, size) == size;
        a.n = 0;
        lm_lm_generate(m, NULL, 0, 6, &s, on_token, &a);
        int loaded = lm_lm_state_load(m, snap, size) == 0;
        lm_lm_generate(m, NULL, 0, 6, &s, on_token, &b);
        int same = saved && loaded && a.n == 6 && b.n == 6 && !memcmp(a.ids, b.ids, sizeof(int32_t) * 6);
        fprintf(j->f, "{\"state\": %s, \"bytes\": %zu, \"info\": \"%s\", \"version\": \"%s\"}\n",
                same ? "true" : "false", size, lm_lm_model_info(m), lm_lm_version());
        free(snap);
    }
    lm_lm_destroy(m);
    return NULL;
}

int main(int argc, char **argv) {
    /* argv: weights ("-": embedded), out0, out1, prompts... */
    const char *w = strcmp(argv[1], "-") ? argv[1] : NULL;
    job_t jobs[2];
    pthread_t t[2];
    for (int k = 0; k < 2; ++k) {
        jobs[k].weights = w; jobs[k].argc = argc - 4; jobs[k].argv = argv + 4; jobs[k].rc = 0;
        jobs[k].f = fopen(argv[2 + k], "w");
        pthread_create(&t[k], NULL, run, &jobs[k]);
    }
    int rc = 0;
    for (int k = 0; k < 2; ++k) { pthread_join(t[k], NULL); fclose(jobs[k].f); rc |= jobs[k].rc; }
    return rc;
}
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--liquidc", required=True)
    ap.add_argument("--fixture", required=True, help="fixtures/lfm2-text")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    san = "-fsanitize=address,undefined -fno-sanitize-recover=all -g"
    libs = {}
    for kind, cflags in (("san", san), ("plain", "")):
        d = os.path.join(a.out, kind)
        os.makedirs(d)
        libs[kind] = os.path.join(d, "liblm.a")
        subprocess.run([a.liquidc, os.path.join(a.fixture, "hf"), "-o", libs[kind], "--emit=lib",
                        "--name", "lm", "--max-context", "128", "--max-rows", "8"], check=True,
                       env=dict(os.environ, LIQUIDC_CFLAGS=cflags))
    src = os.path.join(a.out, "use.c")
    open(src, "w").write(PROGRAM)
    goldens = [json.loads(l) for l in open(os.path.join(a.fixture, "golden_text.jsonl"))]
    failed = 0
    builds = (("C, library and program under ASan+UBSan", "san", ["cc", "-std=c11"] + san.split()),
              ("C++", "plain", ["c++", "-x", "c++", "-std=c++17", "-O1"]))
    for what, kind, cc in builds:
        lib = libs[kind]
        prog = os.path.join(a.out, "use-" + kind)
        subprocess.run(cc + ["-I", os.path.dirname(lib), src, "-x", "none", lib, "-lpthread", "-lm",
                             "-o", prog], check=True)
        outs = [os.path.join(a.out, "%s.%d.jsonl" % (os.path.basename(prog), k)) for k in range(2)]
        p = subprocess.run([prog, lib + ".lqw"] + outs + [g["prompt"] for g in goldens], capture_output=True)
        if p.returncode != 0:
            print("FAIL %s: exit %d: %s" % (what, p.returncode, p.stderr.decode(errors="replace")[-400:]))
            failed += 1
            continue
        for k, path in enumerate(outs):
            lines = [json.loads(l) for l in open(path)]
            got = [r for r in lines if "state" not in r]
            state = [r for r in lines if "state" in r]
            ok = (len(state) == 1 and state[0]["state"] and state[0]["version"].startswith("liquidc ")
                  and "vocabulary 50261, context 128" in state[0]["info"]
                  and "tokenizer and chat template" in state[0]["info"])
            failed += not ok
            print("%s %s, context %d of 2: state saved to a buffer and loaded back generates the same "
                  "ids%s" % ("PASS" if ok else "FAIL", what, k + 1, "" if ok else " (%s)" % state))
            bad = [g["name"] for g, r in zip(goldens, got)
                   if r["prompt_ids"] != g["prompt_ids"] or r["ids"] != g["generated_ids"]
                   or bytes.fromhex(r["hex"]) != bytes.fromhex(g["generated_text_hex"])]
            ok = len(got) == len(goldens) and not bad
            failed += not ok
            print("%s %s, context %d of 2 (concurrent): %d goldens, ids and text%s" % (
                "PASS" if ok else "FAIL", what, k + 1, len(goldens), "" if ok else " differ: %s" % bad))
    print("lm text lib: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
