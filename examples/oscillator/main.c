/* Continues a noisy oscillation with the compiled CfC (liquidc --emit=lib).
 * Steps 0..59 feed the model a noisy sine; from step 60 on the model runs
 * closed-loop on its own predictions. Prints an ASCII plot: '.' = the noisy
 * input it was given, '*' = the model's output, '|' = the clean wave. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "oscillator.h"

int main(void) {
  oscillator_ctx *m = oscillator_create(NULL); /* embedded weights */
  if (!m) { fprintf(stderr, "%s\n", oscillator_last_error()); return 1; }
  const int warm = 60, steps = 120, width = 61;
  const float w = 0.2f, a = 0.8f, phase = 0.3f;
  unsigned seed = 12345;
  float x = 0.0f, y = 0.0f, err = 0.0f;
  for (int t = 0; t < steps; ++t) {
    float clean = a * sinf(w * t + phase);
    seed = seed * 1103515245u + 12345u; /* small LCG, uniform noise +-0.15 */
    float noise = ((seed >> 8) / 16777216.0f - 0.5f) * 0.3f;
    x = t < warm ? clean + noise : y;
    if (oscillator_step(m, &x, 1.0f, &y)) { fprintf(stderr, "%s\n", oscillator_last_error()); return 1; }
    float next = a * sinf(w * (t + 1) + phase);
    if (t >= warm) err += fabsf(y - next);
    char row[64];
    for (int i = 0; i < width; ++i) row[i] = ' ';
    row[width] = 0;
    int c = (int)lroundf((next + 1.0f) * 0.5f * (width - 1));
    int p = (int)lroundf((y + 1.0f) * 0.5f * (width - 1));
    int in = (int)lroundf((x + 1.0f) * 0.5f * (width - 1));
    if (c >= 0 && c < width) row[c] = '|';
    if (t < warm && in >= 0 && in < width) row[in] = '.';
    if (p >= 0 && p < width) row[p] = '*';
    printf("%3d %s %s\n", t, t < warm ? "input " : "closed", row);
  }
  printf("mean |prediction - clean wave| over %d closed-loop steps: %.3f\n", steps - warm,
         err / (steps - warm));
  oscillator_destroy(m);
  return 0;
}
