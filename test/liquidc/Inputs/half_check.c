/* Checks a liquid-halide-gen f16 matmul (kernel "mh", K = 1024 inputs,
 * N = 64 outputs, one tile) on every finite half-precision value: the weight
 * matrix holds all 65536 bit patterns (infinities and NaNs replaced by 0),
 * and one-hot inputs read each column back, y[c] = w[c][k], which must equal
 * the C conversion of that half exactly (normal, subnormal, signed zero). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void mh(const float *x, const void *w, float *y, int64_t rows, int64_t n, int64_t t0, int64_t t1);

int main(void) {
  enum { K = 1024, N = 64 };
  static uint16_t w[K][N]; /* packed Transposed: [K][tile] for the single tile */
  static float x[K], y[N];
  for (int k = 0; k < K; ++k)
    for (int c = 0; c < N; ++c) {
      uint16_t h = (uint16_t)(k * N + c);
      w[k][c] = ((h >> 10) & 0x1f) == 0x1f ? 0 : h;
    }
  long bad = 0, checked = 0;
  for (int k = 0; k < K; ++k) {
    memset(x, 0, sizeof x);
    x[k] = 1.0f;
    mh(x, w, y, 1, N, 0, N);
    for (int c = 0; c < N; ++c) {
      _Float16 hv;
      memcpy(&hv, &w[k][c], 2);
      float want = (float)hv;
      if (memcmp(&want, &y[c], 4) != 0 && !(want == 0 && y[c] == 0)) {
        if (bad++ < 5)
          printf("half 0x%04x: got %a, want %a\n", w[k][c], y[c], want);
      }
      ++checked;
    }
  }
  printf("f16 weights: %ld of %ld half values differ\n", bad, checked);
  printf(bad ? "FAIL\n" : "PASS\n");
  return bad != 0;
}
