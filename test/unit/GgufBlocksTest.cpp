//===- GgufBlocksTest.cpp - the 4-, 5- and 6-bit GGUF block formats --------===//
//
// Hand-built blocks, one per format, decoded by decodeToF32 and compared with
// values worked out by hand from ggml's published layouts (ggml-common.h):
// where each field sits, how nibbles pair up, where the 5th/6th bits and the
// 6-bit scales and mins of the K-quants come from. The lfm2-small-quants
// fixtures check whole models (test/e2e/quant-gguf.test).
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Gguf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace liquid;

namespace {

std::vector<float> decode(GgmlType t, const std::vector<uint8_t> &blk) {
  EXPECT_EQ(blk.size(), ggmlBlockBytes(t));
  std::vector<float> y(static_cast<size_t>(ggmlBlockSize(t)));
  decodeToF32(t, blk.data(), y.size(), y.data());
  return y;
}

void put16(std::vector<uint8_t> &b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}

TEST(GgufBlocks, Q4_0AndQ4_1) {
  std::vector<uint8_t> b(18, 0);
  put16(b, 0, 0x4000); // d = 2
  b[2] = 0x0F;         // value 0: 15 - 8, value 16: 0 - 8
  auto y = decode(GgmlType::Q4_0, b);
  EXPECT_EQ(y[0], 14.f);
  EXPECT_EQ(y[16], -16.f);
  EXPECT_EQ(y[1], -16.f);
  std::vector<uint8_t> c(20, 0);
  put16(c, 0, 0x3800); // d = 0.5
  put16(c, 2, 0xBC00); // m = -1
  c[4] = 0x3A;
  y = decode(GgmlType::Q4_1, c);
  EXPECT_EQ(y[0], 4.f);   // 10 * 0.5 - 1
  EXPECT_EQ(y[16], 0.5f); // 3 * 0.5 - 1
  EXPECT_EQ(y[5], -1.f);
}

TEST(GgufBlocks, Q5_0AndQ5_1TakeTheFifthBitFromQh) {
  std::vector<uint8_t> b(22, 0);
  put16(b, 0, 0x3400);               // d = 0.25
  b[2] = 0x01, b[4] = 0x01;          // qh bits 0 and 16
  b[6] = 0x21;                       // value 0: 1 | 16, value 16: 2 | 16
  auto y = decode(GgmlType::Q5_0, b);
  EXPECT_EQ(y[0], 0.25f);  // (17 - 16) * 0.25
  EXPECT_EQ(y[16], 0.5f);  // (18 - 16) * 0.25
  EXPECT_EQ(y[1], -4.f);   // (0 - 16) * 0.25
  std::vector<uint8_t> c(24, 0);
  put16(c, 0, 0x3C00);               // d = 1
  put16(c, 2, 0x3800);               // m = 0.5
  c[7] = 0x80;                       // qh bit 31: value 31's fifth bit
  c[8 + 15] = 0xF0;                  // value 31's low four bits
  y = decode(GgmlType::Q5_1, c);
  EXPECT_EQ(y[31], 31.5f);
  EXPECT_EQ(y[0], 0.5f);
}

/// Q4_K / Q5_K scales: sub-block 0 (scale 2, min 4), 1 (3, 1), and 4, whose
/// 6-bit scale takes its top bits from byte 0 (17) and its min from byte 4 (2).
std::vector<uint8_t> kBlock(size_t bytes) {
  std::vector<uint8_t> b(bytes, 0);
  put16(b, 0, 0x3C00); // d = 1
  put16(b, 2, 0x3800); // dmin = 0.5
  b[4 + 0] = 0x42;     // sub 0 scale 2; top bits 01 -> sub 4's scale + 16
  b[4 + 1] = 3;        // sub 1 scale 3
  b[4 + 4] = 4;        // sub 0 min 4
  b[4 + 5] = 1;        // sub 1 min 1
  b[4 + 8] = 0x21;     // sub 4: scale low bits 1, min low bits 2
  return b;
}

TEST(GgufBlocks, Q4_KScalesAndMins) {
  auto b = kBlock(144);
  b[16 + 0] = 0x51;  // value 0 (sub 0): 1; value 32 (sub 1): 5
  b[16 + 64] = 0x07; // value 128 (sub 4): 7
  auto y = decode(GgmlType::Q4_K, b);
  EXPECT_EQ(y[0], 0.f);     // 1*2*1 - 0.5*4
  EXPECT_EQ(y[32], 14.5f);  // 1*3*5 - 0.5*1
  EXPECT_EQ(y[128], 118.f); // 1*17*7 - 0.5*2
  EXPECT_EQ(y[1], -2.f);    // 0 - 0.5*4
}

TEST(GgufBlocks, Q5_KAddsTheHighBitPerSubBlock) {
  auto b = kBlock(176);
  b[16 + 0] = 0x03;  // qh of values 0 and 32: bit 0 (sub 0), bit 1 (sub 1)
  b[48 + 0] = 0x51;
  auto y = decode(GgmlType::Q5_K, b);
  EXPECT_EQ(y[0], 32.f);    // 2*(1+16) - 2
  EXPECT_EQ(y[32], 62.5f);  // 3*(5+16) - 0.5
}

TEST(GgufBlocks, Q6_KLowNibblesHighPairsInt8Scales) {
  std::vector<uint8_t> b(210, 0);
  put16(b, 208, 0x3800);          // d = 0.5
  b[192 + 0] = 2;                 // scale of values 0..15
  b[192 + 2] = static_cast<uint8_t>(-1); // values 32..47
  b[192 + 4] = 1;                 // values 64..79
  b[0] = 0x2F;                    // value 0 low 4 bits 15, value 64 low 4 bits 2
  b[128] = 0x01;                  // value 0 high bits 01
  auto y = decode(GgmlType::Q6_K, b);
  EXPECT_EQ(y[0], -1.f);   // 0.5 * 2 * ((15 | 16) - 32)
  EXPECT_EQ(y[64], -15.f); // 0.5 * 1 * (2 - 32)
  EXPECT_EQ(y[32], 16.f);  // 0.5 * -1 * (0 - 32)
}

// liquidc's own Q4_K / Q6_K encoders (liquid-lfm2-gen --gguf q4_k_m), read
// back by the decoder above: every value within half a step of its
// sub-block's scale (plus Q4_K's rounded minimum), on data of several
// shapes: centred, all positive, all negative, constant, zero, outliers.
TEST(GgufBlocks, KQuantizersRoundTripWithinHalfAStep) {
  std::vector<std::vector<float>> cases;
  uint32_t seed = 7;
  auto rnd = [&] { seed = seed * 1664525u + 1013904223u; return (seed >> 8) / 16777216.f; };
  for (int kind = 0; kind < 6; ++kind) {
    std::vector<float> x(512);
    for (size_t i = 0; i < x.size(); ++i) {
      float u = rnd() - 0.5f;
      x[i] = kind == 0 ? u : kind == 1 ? u + 0.6f : kind == 2 ? u - 3.f
           : kind == 3 ? 0.25f : kind == 4 ? 0.f : (i % 97 == 0 ? 40.f * u : u * 0.01f);
    }
    cases.push_back(x);
  }
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q6_K}) {
    int sub = t == GgmlType::Q4_K ? 32 : 16;
    for (const auto &x : cases) {
      std::vector<uint8_t> raw(x.size() / 256 * ggmlBlockBytes(t));
      quantizeKBlocks(t, x.data(), x.size(), raw.data());
      std::vector<float> y(x.size());
      decodeToF32(t, raw.data(), y.size(), y.data());
      for (size_t b = 0; b < x.size(); b += 256) {
        // the block's d and dmin before rounding to half precision
        float dMax = 0.f, minMax = 0.f;
        std::vector<float> step(256 / sub);
        for (int j = 0; j < 256 / sub; ++j) {
          float lo = 0.f, hi = 0.f, amax = 0.f;
          for (int l = 0; l < sub; ++l) {
            float v = x[b + j * sub + l];
            lo = std::min(lo, v), hi = std::max(hi, v), amax = std::max(amax, std::fabs(v));
          }
          step[j] = t == GgmlType::Q4_K ? (hi - lo) / 15.f : amax / 31.f;
          dMax = std::max(dMax, step[j]);
          minMax = std::max(minMax, -lo);
        }
        float d = dMax / (t == GgmlType::Q4_K ? 63.f : 127.f), dmin = minMax / 63.f;
        for (size_t i = b; i < b + 256; ++i) {
          int j = static_cast<int>(i - b) / sub;
          float bound = 0.5f * (step[j] + d) + (t == GgmlType::Q4_K ? 0.5f * dmin : 0.f) +
                        1e-3f * dMax + 1e-7f;
          ASSERT_LE(std::fabs(y[i] - x[i]), bound)
              << ggmlTypeName(uint32_t(t)) << " value " << i << ": " << x[i] << " read back as "
              << y[i];
        }
      }
    }
  }
}

// The K types keep their two-level scales as stored (what the q4k / q5k /
// q6k kernels read): half * 8-bit integer gives each block's scale and
// minimum exactly.
TEST(GgufBlocks, KTypesKeepSuperBlockScales) {
  IntBlocks k4;
  ASSERT_TRUE(decomposeBlocks(GgmlType::Q4_K, kBlock(144).data(), 256, k4));
  EXPECT_EQ(k4.super, 256);
  EXPECT_FALSE(k4.subSigned);
  ASSERT_EQ(k4.superScale.size(), 1u);
  EXPECT_EQ(k4.superScale[0], 0x3C00); // d
  EXPECT_EQ(k4.superMin[0], 0xB800);   // -dmin
  ASSERT_EQ(k4.subScale.size(), 8u);
  EXPECT_EQ(k4.subScale[0], 2);
  EXPECT_EQ(k4.subScale[4], 17);
  EXPECT_EQ(k4.subMin[4], 2);
  for (size_t j = 0; j < 8; ++j) {
    EXPECT_EQ(k4.scale[j], 1.0f * k4.subScale[j]);
    EXPECT_EQ(k4.min[j], -0.5f * k4.subMin[j]);
  }
  std::vector<uint8_t> b(210, 0);
  put16(b, 208, 0x3800);                 // d = 0.5
  b[192 + 3] = static_cast<uint8_t>(-7); // block 3's scale
  IntBlocks k6;
  ASSERT_TRUE(decomposeBlocks(GgmlType::Q6_K, b.data(), 256, k6));
  EXPECT_EQ(k6.super, 256);
  EXPECT_TRUE(k6.subSigned);
  EXPECT_EQ(k6.superScale[0], 0x3800);
  EXPECT_TRUE(k6.superMin.empty());
  EXPECT_EQ(static_cast<int8_t>(k6.subScale[3]), -7);
  EXPECT_EQ(k6.scale[3], -3.5f);
  IntBlocks q4;
  ASSERT_TRUE(decomposeBlocks(GgmlType::Q4_0, std::vector<uint8_t>(18, 0).data(), 32, q4));
  EXPECT_EQ(q4.super, 0); // one level of scales
}

TEST(GgufBlocks, SizesFollowTheLayouts) {
  EXPECT_EQ(ggmlBlockBytes(GgmlType::Q4_0), 18u);
  EXPECT_EQ(ggmlBlockBytes(GgmlType::Q5_1), 24u);
  EXPECT_EQ(ggmlBlockBytes(GgmlType::Q4_K), 144u);
  EXPECT_EQ(ggmlBlockBytes(GgmlType::Q5_K), 176u);
  EXPECT_EQ(ggmlBlockBytes(GgmlType::Q6_K), 210u);
  EXPECT_EQ(ggmlBlockSize(GgmlType::Q6_K), 256);
  EXPECT_FALSE(ggmlTypeSupported(10)); // Q2_K
}

} // namespace
