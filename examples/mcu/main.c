/* The oscillator CfC (examples/oscillator) on a microcontroller: a bare-metal
 * program around the library liquidc builds with --emit=lib for cortex-m4f,
 * cortex-m55 or rv32imafc. The library needs nothing from the C library; this
 * program uses picolibc's printf (semihosting) and sinf to make its inputs.
 * Steps 0..59 feed a noisy sine, then the model runs closed-loop on its own
 * predictions, as in examples/oscillator/main.c. */
#include <math.h>
#include <stdio.h>
#include "oscillator.h"

static oscillator_arena arena; /* oscillator_ARENA_BYTES of RAM: the whole state */

int main(void) {
  const int warm = 60, steps = 120;
  const float w = 0.2f, a = 0.8f, phase = 0.3f;
  unsigned seed = 12345;
  float x = 0.0f, y = 0.0f, err = 0.0f;
  oscillator_init(&arena);
  for (int t = 0; t < steps; ++t) {
    float clean = a * sinf(w * t + phase);
    seed = seed * 1103515245u + 12345u; /* small LCG, uniform noise +-0.15 */
    float noise = ((seed >> 8) / 16777216.0f - 0.5f) * 0.3f;
    x = t < warm ? clean + noise : y;
    oscillator_step(&arena, &x, 1.0f, &y);
    if (t >= warm)
      err += fabsf(y - a * sinf(w * (t + 1) + phase));
    if (t % 20 == 19)
      printf("step %3d: %s %+.4f\n", t, t < warm ? "input " : "closed", (double)y);
  }
  printf("arena %d bytes; mean |prediction - clean wave| over %d closed-loop steps: %.3f\n",
         oscillator_ARENA_BYTES, steps - warm, (double)(err / (steps - warm)));
  return 0;
}
