//===- fuzz_lqw.cpp - libFuzzer harness: the programs' .lqw loader --------===//
//
// Input: one .lqw weights file, loaded by the cell runtime
// (runtime/liquid_model.c) built for the hand-written fake model of the
// runtime tests (test/runtime/fake_config.h: 7 weights, layout hash
// 0x0123456789abcdef). A file it accepts must then step.
//
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

extern "C" {
typedef struct fake_ctx fake_ctx;
fake_ctx *fake_create(const char *weights_path);
const char *fake_last_error(void);
int fake_step(fake_ctx *ctx, const float *x, float dt, float *y);
void fake_destroy(fake_ctx *ctx);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = liquid_fuzz::writeScratch("x.lqw", data, size);
  fake_ctx *ctx = fake_create(path.c_str());
  if (!ctx) {
    liquid_fuzz::checkError("fake_create", fake_last_error());
    return 0;
  }
  float x[4] = {0.5f, -1.f, 2.f, 0.f}, y[3];
  if (fake_step(ctx, x, 1.0f, y) != 0) std::abort();
  fake_destroy(ctx);
  return 0;
}
