/*
 * Test of the `lib` API of the liquid runtime, with two fake models linked
 * into one program (prefixes "fake" and "fakemm"; see fake_kernel.c for their
 * recurrences).  fake.h and fakemm.h are generated from
 * runtime/liquid_model.h.in by run_runtime_tests.sh.
 *
 * usage: test_lib fake.lqw fakemm.lqw
 * Prints "PASS <name>" / "FAIL <name>: <detail>" lines; exits 1 on failure.
 */
#include "fake.h"
#include "fakemm.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(int ok, const char *name, const char *detail)
{
    if (ok)
        printf("PASS %s\n", name);
    else {
        printf("FAIL %s: %s\n", name, detail ? detail : "");
        ++failures;
    }
}

static int close_to(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (!(fabsf(a[i] - b[i]) <= 1e-5f + 1e-5f * fabsf(b[i])))
            return 0;
    return 1;
}

static int all_zero(const float *a, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (a[i] != 0.0f)
            return 0;
    return 1;
}

/* Reads the payload of a .lqw file (n floats after the 64-byte header). */
static int read_lqw(const char *path, float *w, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int ok = fseek(f, 64, SEEK_SET) == 0 && fread(w, sizeof(float), n, f) == n;
    fclose(f);
    return ok ? 0 : -1;
}

/* Reference recurrences (see fake_kernel.c). */
static void ref_fake(const float *w, float *h, const float *x, float dt, float *y)
{
    for (int i = 0; i < fake_STATE_SIZE; ++i)
        h[i] = w[i] * h[i] + x[i] * dt;
    for (int j = 0; j < fake_OUTPUT_SIZE; ++j)
        y[j] = h[j] + w[fake_STATE_SIZE + j];
}

static void ref_fakemm(const float *w, float *h, float *c, const float *x, float dt, float *y)
{
    for (int i = 0; i < fakemm_CELL_STATE_SIZE; ++i)
        c[i] = w[fakemm_STATE_SIZE + i] * c[i] + x[i % fakemm_INPUT_SIZE] * dt;
    for (int i = 0; i < fakemm_STATE_SIZE; ++i)
        h[i] = w[i] * h[i] + c[i];
    for (int j = 0; j < fakemm_OUTPUT_SIZE; ++j)
        y[j] = h[j] + w[fakemm_STATE_SIZE + fakemm_CELL_STATE_SIZE + j];
}

#define T_STEPS 6

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s fake.lqw fakemm.lqw\n", argv[0]);
        return 2;
    }
    const char *wf = argv[1], *wmm = argv[2];
    float w[fake_WEIGHTS_FLOATS], wm[fakemm_WEIGHTS_FLOATS];
    if (read_lqw(wf, w, fake_WEIGHTS_FLOATS) || read_lqw(wmm, wm, fakemm_WEIGHTS_FLOATS)) {
        fprintf(stderr, "cannot read the weights files\n");
        return 2;
    }

    /* ---- sizes and constants ---- */
    check(fake_INPUT_SIZE == 4 && fake_OUTPUT_SIZE == 3 && fake_STATE_SIZE == 4 &&
              fake_CELL_STATE_SIZE == 0 && fake_NUM_STATES == 1 && fake_EMBEDDED_WEIGHTS == 0,
          "header macros (fake)", NULL);
    check(fake_state_size(0) == 4 && fake_state_size(1) == 0 && fake_state_size(-1) == 0 &&
              fakemm_state_size(0) == 5 && fakemm_state_size(1) == 5 && fakemm_state_size(2) == 0,
          "state_size", NULL);
    check(strcmp(fake_MODEL_NAME, "fake") == 0 && fakemm_WEIGHTS_HASH == 0xfedcba9876543210ULL,
          "model name and hash macros", NULL);

    /* ---- create errors ---- */
    fake_ctx *bad = fake_create(NULL);
    check(!bad && strstr(fake_last_error(), "embedded") && !strchr(fake_last_error(), '\n'),
          "create(NULL) without embedded weights fails", fake_last_error());
    fake_destroy(bad);
    bad = fake_create("/nonexistent/dir/w.lqw");
    check(!bad && strstr(fake_last_error(), "/nonexistent/dir/w.lqw"),
          "create(missing file) fails naming the file", fake_last_error());
    bad = fake_create(wmm);
    check(!bad && strstr(fake_last_error(), "layout hash") && strstr(fake_last_error(), wmm) &&
              strstr(fake_last_error(), "0x0123456789abcdef"),
          "create(other model's weights) fails on the layout hash", fake_last_error());

    /* ---- step vs reference ---- */
    fake_ctx *m = fake_create(wf);
    check(m != NULL, "create(fake.lqw)", m ? NULL : fake_last_error());
    if (!m)
        return 1;
    float xs[T_STEPS][fake_INPUT_SIZE], dts[T_STEPS];
    for (int t = 0; t < T_STEPS; ++t) {
        dts[t] = 0.25f + 0.5f * (float)t;
        for (int i = 0; i < fake_INPUT_SIZE; ++i)
            xs[t][i] = (float)(i + 1) * 0.1f - (float)t * 0.03f;
    }
    float h_ref[fake_STATE_SIZE] = {0}, y_ref[T_STEPS][fake_OUTPUT_SIZE];
    for (int t = 0; t < T_STEPS; ++t)
        ref_fake(w, h_ref, xs[t], dts[t], y_ref[t]);

    float y[T_STEPS][fake_OUTPUT_SIZE], h[fake_STATE_SIZE];
    int rc = 0;
    for (int t = 0; t < T_STEPS; ++t)
        rc |= fake_step(m, xs[t], dts[t], y[t]);
    check(rc == 0 && close_to(&y[0][0], &y_ref[0][0], sizeof y / sizeof(float)),
          "step outputs match the reference", NULL);
    check(fake_get_state(m, 0, h) == 0 && close_to(h, h_ref, fake_STATE_SIZE),
          "get_state after steps", NULL);

    fake_reset(m);
    check(fake_get_state(m, 0, h) == 0 && all_zero(h, fake_STATE_SIZE), "reset zeroes the state",
          NULL);

    /* ---- run == steps; NULL ys; NULL dts ---- */
    float yr[T_STEPS][fake_OUTPUT_SIZE];
    rc = fake_run(m, &xs[0][0], dts, T_STEPS, &yr[0][0]);
    check(rc == 0 && close_to(&yr[0][0], &y_ref[0][0], sizeof yr / sizeof(float)),
          "run outputs match the reference", NULL);
    fake_reset(m);
    rc = fake_run(m, &xs[0][0], dts, T_STEPS, NULL);
    check(rc == 0 && fake_get_state(m, 0, h) == 0 && close_to(h, h_ref, fake_STATE_SIZE),
          "run with ys == NULL updates the state", NULL);
    fake_reset(m);
    float h1[fake_STATE_SIZE] = {0}, y1[fake_OUTPUT_SIZE];
    for (int t = 0; t < T_STEPS; ++t)
        ref_fake(w, h1, xs[t], 1.0f, y1);
    rc = fake_run(m, &xs[0][0], NULL, T_STEPS, NULL);
    check(rc == 0 && fake_get_state(m, 0, h) == 0 && close_to(h, h1, fake_STATE_SIZE),
          "run with dts == NULL uses 1.0", NULL);
    check(fake_run(m, NULL, NULL, 0, NULL) == 0, "run with T == 0", NULL);

    /* ---- set_state, continuing a sequence ---- */
    float h0[fake_STATE_SIZE] = {1.0f, -2.0f, 3.0f, 0.5f}, hs[fake_STATE_SIZE], ys1[fake_OUTPUT_SIZE];
    memcpy(hs, h0, sizeof hs);
    ref_fake(w, hs, xs[0], dts[0], ys1);
    check(fake_set_state(m, 0, h0) == 0 && fake_step(m, xs[0], dts[0], y[0]) == 0 &&
              close_to(y[0], ys1, fake_OUTPUT_SIZE) && fake_get_state(m, 0, h) == 0 &&
              close_to(h, hs, fake_STATE_SIZE),
          "set_state then step", NULL);

    /* ---- argument errors ---- */
    check(fake_get_state(m, 1, h) != 0 && fake_get_state(m, -1, h) != 0 &&
              fake_set_state(m, 1, h) != 0 && fake_get_state(m, 0, NULL) != 0 &&
              fake_set_state(NULL, 0, h) != 0,
          "get/set_state reject a bad index or NULL", fake_last_error());
    check(fake_step(NULL, xs[0], 1.0f, y[0]) != 0 && fake_step(m, NULL, 1.0f, y[0]) != 0 &&
              fake_run(m, &xs[0][0], NULL, -1, NULL) != 0 && fake_run(m, NULL, NULL, 3, NULL) != 0,
          "step/run reject bad arguments", fake_last_error());
    check(strlen(fake_last_error()) > 0 && !strchr(fake_last_error(), '\n'),
          "last_error is one line", NULL);

    /* ---- two contexts are independent ---- */
    fake_ctx *m2 = fake_create(wf);
    fake_reset(m);
    float ha[fake_STATE_SIZE], hb[fake_STATE_SIZE];
    rc = m2 ? 0 : 1;
    for (int t = 0; !rc && t < T_STEPS; ++t)
        rc |= fake_step(m, xs[t], dts[t], NULL);
    if (!rc)
        rc |= fake_get_state(m2, 0, hb) | fake_get_state(m, 0, ha);
    check(!rc && all_zero(hb, fake_STATE_SIZE) && close_to(ha, h_ref, fake_STATE_SIZE),
          "two contexts are independent", NULL);
    fake_destroy(m2);
    fake_destroy(m);
    fake_destroy(NULL);
    fake_reset(NULL);

    /* ---- mixed-memory model in the same program ---- */
    fakemm_ctx *mm = fakemm_create(wmm);
    check(mm != NULL, "create(fakemm.lqw)", mm ? NULL : fakemm_last_error());
    if (mm) {
        float hh[fakemm_STATE_SIZE] = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f};
        float cc[fakemm_CELL_STATE_SIZE] = {-1.0f, 1.0f, 0.0f, 2.0f, 0.5f};
        float xm[T_STEPS][fakemm_INPUT_SIZE], ym[T_STEPS][fakemm_OUTPUT_SIZE];
        float ym_ref[T_STEPS][fakemm_OUTPUT_SIZE];
        float hr[fakemm_STATE_SIZE], cr[fakemm_CELL_STATE_SIZE];
        float hg[fakemm_STATE_SIZE], cg[fakemm_CELL_STATE_SIZE];
        memcpy(hr, hh, sizeof hr);
        memcpy(cr, cc, sizeof cr);
        for (int t = 0; t < T_STEPS; ++t) {
            for (int i = 0; i < fakemm_INPUT_SIZE; ++i)
                xm[t][i] = (float)((t * 7 + i * 3) % 5) * 0.2f - 0.4f;
            ref_fakemm(wm, hr, cr, xm[t], dts[t], ym_ref[t]);
        }
        rc = fakemm_set_state(mm, 0, hh) | fakemm_set_state(mm, 1, cc) |
             fakemm_run(mm, &xm[0][0], dts, T_STEPS, &ym[0][0]) | fakemm_get_state(mm, 0, hg) |
             fakemm_get_state(mm, 1, cg);
        check(rc == 0 && close_to(&ym[0][0], &ym_ref[0][0], sizeof ym / sizeof(float)) &&
                  close_to(hg, hr, fakemm_STATE_SIZE) && close_to(cg, cr, fakemm_CELL_STATE_SIZE),
              "mixed-memory run with both states", fakemm_last_error());
        fakemm_reset(mm);
        rc = fakemm_get_state(mm, 0, hg) | fakemm_get_state(mm, 1, cg);
        check(rc == 0 && all_zero(hg, fakemm_STATE_SIZE) && all_zero(cg, fakemm_CELL_STATE_SIZE),
              "mixed-memory reset zeroes both states", NULL);
        check(fakemm_get_state(mm, 2, hg) != 0, "mixed-memory rejects state 2", NULL);
        fakemm_destroy(mm);
    }

    /* ---- batch contexts: rows step together, each as a one-sequence context ---- */
    {
        enum { R = 11 };
        fake_ctx *bt = fake_create_batch(wf, R, 2);
        check(bt != NULL && fake_batch_rows(bt) == R && fake_batch_threads(bt) == 2,
              "create_batch(11 rows, 2 threads)",
              bt ? NULL : fake_last_error());
        float bx[R][fake_INPUT_SIZE], bdt[R], by[R][fake_OUTPUT_SIZE], bh[R][fake_STATE_SIZE];
        float h0[R][fake_STATE_SIZE], rh[R][fake_STATE_SIZE] = {{0}}, ry[R][fake_OUTPUT_SIZE];
        for (int r = 0; r < R; ++r)
            for (int i = 0; i < fake_STATE_SIZE; ++i)
                rh[r][i] = h0[r][i] = 0.1f * (float)(r - i);
        int ok = bt && fake_set_state(bt, 0, &h0[0][0]) == 0;
        for (int t = 0; ok && t < T_STEPS; ++t) {
            for (int r = 0; r < R; ++r) {
                bdt[r] = dts[t] + 0.1f * (float)r;
                for (int i = 0; i < fake_INPUT_SIZE; ++i)
                    bx[r][i] = xs[t][i] * (float)(r + 1);
                ref_fake(w, rh[r], bx[r], bdt[r], ry[r]);
            }
            ok = fake_step_batch(bt, &bx[0][0], bdt, &by[0][0]) == 0 &&
                 close_to(&by[0][0], &ry[0][0], sizeof by / sizeof(float));
        }
        ok = ok && fake_get_state(bt, 0, &bh[0][0]) == 0 &&
             close_to(&bh[0][0], &rh[0][0], sizeof bh / sizeof(float));
        check(ok, "step_batch: every row follows its own sequence and time span",
              fake_last_error());
        check(bt && fake_step(bt, xs[0], 1.0f, NULL) != 0 && strstr(fake_last_error(), "step_batch"),
              "step on a batch context is refused", fake_last_error());
        fake_reset(bt);
        ok = bt && fake_get_state(bt, 0, &bh[0][0]) == 0 &&
             all_zero(&bh[0][0], sizeof bh / sizeof(float));
        check(ok, "reset zeroes every row", NULL);
        fake_destroy(bt);
        check(!fake_create_batch(wf, 0, 1) && strstr(fake_last_error(), "0 rows"),
              "create_batch(0 rows) fails", fake_last_error());
        check(!fake_create_batch(wf, 4, 65) && strstr(fake_last_error(), "65 threads"),
              "create_batch(65 threads) fails", fake_last_error());
        fake_ctx *one = fake_create(wf);
        check(one && fake_batch_rows(one) == 1 && fake_batch_rows(NULL) == 0 &&
                  fake_step_batch(one, xs[0], NULL, NULL) == 0,
              "a one-sequence context is a batch of 1", fake_last_error());
        fake_destroy(one);
    }

    printf("test_lib: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
