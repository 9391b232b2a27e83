/* Checks a liquid-halide-gen q8 matmul with int8 activations (kernel "mm",
 * QK inputs, QN outputs, tiles of QW; at least two tiles) against ggml's Q8_0 x Q8_0 rule written
 * out in C: per block of 32 inputs d = max|x| / 127, q = roundf(x / d), d
 * kept in half precision; y = sum over blocks of (int32 sum) * d_w * d_x.
 * Rows 1..9 cover the rows-of-4 pipeline and the one-row tail; one block of
 * one row is all zeros (d = 0). Prints the max error and exits 1 above 1e-5
 * (relative to the row's largest output), or when the result is as close to
 * the float-activation product as to the reference (activations not
 * quantized). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef QK
#error "build with -DK=... -DN=... -DW=..."
#endif

void mm(const float *x, const void *w, float *y, int64_t rows, int64_t n, int64_t t0, int64_t t1);

static uint32_t rng = 12345;
static float frand(void) { /* [-1, 1) */
  rng = rng * 1664525u + 1013904223u;
  return (float)((rng >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}

int main(void) {
  enum { B = QK / 32, ROWS = 9 };
  static int8_t wq[QN][QK];
  static float ws[QN][B], x[ROWS][QK], y[ROWS][QN], ref[ROWS][QN], fref[ROWS][QN];
  for (int n = 0; n < QN; ++n)
    for (int b = 0; b < B; ++b) {
      ws[n][b] = (float)(_Float16)(0.001f + 0.01f * (frand() + 1.0f));
      for (int i = 0; i < 32; ++i)
        wq[n][b * 32 + i] = (int8_t)(int)lrintf(127.0f * frand());
    }
  for (int r = 0; r < ROWS; ++r)
    for (int k = 0; k < QK; ++k)
      x[r][k] = (r == 2 && k < 32) ? 0.0f : frand() * (1.0f + (float)(k % 7));
  /* transposed-q8: per tile, per block: QW float scales, then [32][QW] int8 */
  size_t tileBytes = (size_t)B * 36 * QW;
  uint8_t *packed = malloc(tileBytes * (QN / QW));
  for (int t = 0; t < QN / QW; ++t)
    for (int b = 0; b < B; ++b) {
      uint8_t *blk = packed + t * tileBytes + (size_t)b * 36 * QW;
      for (int c = 0; c < QW; ++c) {
        memcpy(blk + 4 * c, &ws[t * QW + c][b], 4);
        for (int i = 0; i < 32; ++i)
          ((int8_t *)blk)[4 * QW + i * QW + c] = wq[t * QW + c][b * 32 + i];
      }
    }
  double worst = 0, fworst = 0;
  for (int rows = 1; rows <= ROWS; rows += 4) {
    memset(y, 0, sizeof y);
    /* two calls over the tile ranges [0, W) and [W, N), as two threads do */
    mm(&x[0][0], packed, &y[0][0], rows, QN, 0, QW);
    mm(&x[0][0], packed, &y[0][0], rows, QN, QW, QN);
    for (int r = 0; r < rows; ++r) {
      int8_t xq[QK];
      float dh[B];
      for (int b = 0; b < B; ++b) {
        float amax = 0;
        for (int i = 0; i < 32; ++i)
          amax = fmaxf(amax, fabsf(x[r][b * 32 + i]));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        dh[b] = (float)(_Float16)d;
        for (int i = 0; i < 32; ++i)
          xq[b * 32 + i] = (int8_t)roundf(x[r][b * 32 + i] * id);
      }
      double big = 0;
      for (int n = 0; n < QN; ++n) {
        float acc = 0, facc = 0;
        for (int b = 0; b < B; ++b) {
          int32_t s = 0;
          float fs = 0;
          for (int i = 0; i < 32; ++i) {
            s += (int32_t)wq[n][b * 32 + i] * xq[b * 32 + i];
            fs += (float)wq[n][b * 32 + i] * x[r][b * 32 + i];
          }
          acc += (float)s * (ws[n][b] * dh[b]);
          facc += fs * ws[n][b];
        }
        ref[r][n] = acc;
        fref[r][n] = facc;
        big = fmax(big, fabs(acc));
      }
      for (int n = 0; n < QN; ++n) {
        worst = fmax(worst, fabs(y[r][n] - ref[r][n]) / big);
        fworst = fmax(fworst, fabs(y[r][n] - fref[r][n]) / big);
      }
    }
  }
  printf("q8 x q8: max error %.3g vs the Q8_0 x Q8_0 rule, %.3g vs float activations\n", worst,
         fworst);
  if (!(worst <= 1e-5) || fworst <= 10 * worst || fworst < 1e-4) {
    printf("FAIL\n");
    return 1;
  }
  printf("PASS\n");
  return 0;
}
