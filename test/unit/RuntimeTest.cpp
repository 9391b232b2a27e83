//===- RuntimeTest.cpp - the C runtime's API against a fake kernel ---------===//
//
// runtime/liquid_model.c compiled with test/runtime/fake_config.h and the
// fake kernel (h' = a*h + x*ts, y = h'[:3] + bias; weights = a[4], bias[3]).
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
typedef struct fake_ctx fake_ctx;
fake_ctx *fake_create(const char *weights_path);
const char *fake_last_error(void);
void fake_reset(fake_ctx *ctx);
int fake_step(fake_ctx *ctx, const float *x, float dt, float *y);
int fake_run(fake_ctx *ctx, const float *xs, const float *dts, int64_t T, float *ys);
int fake_get_state(const fake_ctx *ctx, int which, float *out);
int fake_set_state(fake_ctx *ctx, int which, const float *in);
size_t fake_state_size(int which);
void fake_destroy(fake_ctx *ctx);
}

namespace {

const float kWeights[7] = {0.5f, 0.25f, 0.75f, 1.0f, 0.1f, -0.2f, 0.3f};

std::string writeLqw(const std::string &name, uint64_t hash, uint64_t count, const float *w,
                     size_t n, const char *magic = "LQWEIGHT") {
  std::string path = ::testing::TempDir() + "/" + name;
  std::vector<char> header(64, 0);
  std::memcpy(header.data(), magic, 8);
  uint32_t version = 1;
  std::memcpy(&header[8], &version, 4);
  std::memcpy(&header[16], &hash, 8);
  std::memcpy(&header[24], &count, 8);
  FILE *f = std::fopen(path.c_str(), "wb");
  std::fwrite(header.data(), 1, header.size(), f);
  std::fwrite(w, sizeof(float), n, f);
  std::fclose(f);
  return path;
}

std::string goodWeights() { return writeLqw("good.lqw", 0x0123456789abcdefULL, 7, kWeights, 7); }

TEST(Runtime, StepMatchesTheRecurrence) {
  fake_ctx *m = fake_create(goodWeights().c_str());
  ASSERT_NE(m, nullptr) << fake_last_error();
  float h[4] = {0, 0, 0, 0};
  const float xs[2][4] = {{1, 2, 3, 4}, {-1, 0.5f, 0, 2}};
  const float dts[2] = {1.0f, 0.5f};
  for (int t = 0; t < 2; ++t) {
    float y[3];
    ASSERT_EQ(fake_step(m, xs[t], dts[t], y), 0);
    for (int i = 0; i < 4; ++i)
      h[i] = kWeights[i] * h[i] + xs[t][i] * dts[t];
    for (int j = 0; j < 3; ++j)
      EXPECT_FLOAT_EQ(y[j], h[j] + kWeights[4 + j]);
  }
  float state[4];
  ASSERT_EQ(fake_get_state(m, 0, state), 0);
  for (int i = 0; i < 4; ++i)
    EXPECT_FLOAT_EQ(state[i], h[i]);
  fake_destroy(m);
}

TEST(Runtime, RunResetAndStateRoundTrip) {
  fake_ctx *m = fake_create(goodWeights().c_str());
  ASSERT_NE(m, nullptr) << fake_last_error();
  EXPECT_EQ(fake_state_size(0), 4u);
  const float xs[3 * 4] = {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
  float ys1[9], ys2[9], saved[4], after[4];
  ASSERT_EQ(fake_run(m, xs, nullptr, 3, ys1), 0);
  ASSERT_EQ(fake_get_state(m, 0, saved), 0);
  fake_reset(m);
  ASSERT_EQ(fake_run(m, xs, nullptr, 3, ys2), 0);
  EXPECT_EQ(0, std::memcmp(ys1, ys2, sizeof ys1)) << "reset must restore the zero state";
  ASSERT_EQ(fake_set_state(m, 0, saved), 0);
  ASSERT_EQ(fake_get_state(m, 0, after), 0);
  EXPECT_EQ(0, std::memcmp(saved, after, sizeof saved));
  EXPECT_NE(fake_get_state(m, 1, after), 0) << "a one-state model has no state 1";
  fake_destroy(m);
}

TEST(Runtime, BadWeightsFilesAreRejectedWithOneLine) {
  struct Case {
    std::string path, expect;
  } cases[] = {
      {::testing::TempDir() + "/does-not-exist.lqw", "does-not-exist.lqw"},
      {writeLqw("magic.lqw", 0x0123456789abcdefULL, 7, kWeights, 7, "NOTLQW!!"), "magic.lqw"},
      {writeLqw("hash.lqw", 42, 7, kWeights, 7), "hash"},
      {writeLqw("count.lqw", 0x0123456789abcdefULL, 6, kWeights, 6), "count.lqw"},
      {writeLqw("short.lqw", 0x0123456789abcdefULL, 7, kWeights, 5), "short.lqw"},
  };
  for (const Case &c : cases) {
    fake_ctx *m = fake_create(c.path.c_str());
    EXPECT_EQ(m, nullptr) << c.path;
    std::string err = fake_last_error();
    EXPECT_NE(err.find(c.expect), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  }
  EXPECT_EQ(fake_create(nullptr), nullptr) << "this model has no embedded weights";
}

} // namespace
