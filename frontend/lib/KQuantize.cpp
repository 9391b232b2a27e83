//===- KQuantize.cpp - float32 -> Q4_K / Q6_K blocks ------------------------===//
//
// The K-quant encoders (the layouts decodeToF32 / decomposeBlocks read, from
// ggml's published block definitions): each sub-block's scale (and Q4_K's
// minimum) from its range, the super-block's half-precision d (and dmin)
// from the largest of those, the 6- or 8-bit sub-block factors rounded, and
// every value rounded to the nearest level of its decoded scale. One pass,
// no search (ggml's quantizers search for better scales; any encoding of
// the layout reads back the same way).
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Gguf.h"
#include "liquid/Frontend/Safetensors.h"

#include <algorithm>
#include <cmath>

namespace liquid {

namespace {

void putHalf(uint8_t *p, float v) {
  uint16_t h = floatToHalf(v);
  p[0] = static_cast<uint8_t>(h);
  p[1] = static_cast<uint8_t>(h >> 8);
}

/// `v` rounded to half precision and back.
float asHalf(float v) { return halfToFloat(floatToHalf(v)); }

int clampRound(float v, int lo, int hi) {
  return std::min(hi, std::max(lo, static_cast<int>(std::lround(v))));
}

/// One Q4_K block (144 bytes): d, dmin, 12 bytes of 6-bit sub-block scales
/// and minimums, 128 bytes of 4-bit values; value = d*sc*q - dmin*mn.
void quantizeBlockQ4K(const float *x, uint8_t *o) {
  float scale[8], mins[8];
  for (int j = 0; j < 8; ++j) {
    float lo = 0.f, hi = 0.f; // the range includes 0: mn >= 0
    for (int l = 0; l < 32; ++l) {
      lo = std::min(lo, x[32 * j + l]);
      hi = std::max(hi, x[32 * j + l]);
    }
    scale[j] = (hi - lo) / 15.f;
    mins[j] = -lo;
  }
  float d = asHalf(*std::max_element(scale, scale + 8) / 63.f);
  float dmin = asHalf(*std::max_element(mins, mins + 8) / 63.f);
  int sc[8], mn[8];
  for (int j = 0; j < 8; ++j) {
    // round the scale up so the range still fits in 0..15
    sc[j] = d > 0.f ? std::min(63, static_cast<int>(std::ceil(scale[j] / d))) : 0;
    mn[j] = dmin > 0.f ? clampRound(mins[j] / dmin, 0, 63) : 0;
  }
  putHalf(o, d);
  putHalf(o + 2, dmin);
  uint8_t *s = o + 4;
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
  }
  uint8_t q[256];
  for (int j = 0; j < 8; ++j) {
    float step = d * static_cast<float>(sc[j]), m = dmin * static_cast<float>(mn[j]);
    for (int l = 0; l < 32; ++l)
      q[32 * j + l] = static_cast<uint8_t>(step > 0.f ? clampRound((x[32 * j + l] + m) / step, 0, 15)
                                                      : 0);
  }
  uint8_t *p = o + 16;
  for (int j = 0; j < 4; ++j, p += 32)
    for (int l = 0; l < 32; ++l)
      p[l] = static_cast<uint8_t>(q[64 * j + l] | (q[64 * j + 32 + l] << 4));
}

/// One Q6_K block (210 bytes): 128 bytes of low 4 bits, 64 of high 2 bits,
/// 16 int8 sub-block scales, d; value = d*sc*(q - 32).
void quantizeBlockQ6K(const float *x, uint8_t *o) {
  float scale[16];
  for (int i = 0; i < 16; ++i) {
    float amax = 0.f;
    for (int l = 0; l < 16; ++l)
      amax = std::max(amax, std::fabs(x[16 * i + l]));
    scale[i] = amax / 31.f;
  }
  float d = asHalf(*std::max_element(scale, scale + 16) / 127.f);
  int8_t sc[16];
  uint8_t q[256];
  for (int i = 0; i < 16; ++i) {
    sc[i] = static_cast<int8_t>(d > 0.f ? std::min(127, static_cast<int>(std::ceil(scale[i] / d))) : 0);
    float step = d * static_cast<float>(sc[i]);
    for (int l = 0; l < 16; ++l)
      q[16 * i + l] =
          static_cast<uint8_t>(step > 0.f ? clampRound(x[16 * i + l] / step, -32, 31) + 32 : 32);
  }
  uint8_t *ql = o, *qh = o + 128;
  const uint8_t *qq = q;
  for (int half = 0; half < 2; ++half, ql += 64, qh += 32, qq += 128)
    for (int l = 0; l < 32; ++l) {
      ql[l] = static_cast<uint8_t>((qq[l] & 0xF) | ((qq[l + 64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((qq[l + 32] & 0xF) | ((qq[l + 96] & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) |
                                   ((qq[l + 64] >> 4) << 4) | ((qq[l + 96] >> 4) << 6));
    }
  for (int i = 0; i < 16; ++i)
    o[192 + i] = static_cast<uint8_t>(sc[i]);
  putHalf(o + 208, d);
}

} // namespace

void quantizeKBlocks(GgmlType t, const float *src, size_t n, uint8_t *dst) {
  const size_t bytes = ggmlBlockBytes(t);
  for (size_t b = 0; b < n / 256; ++b) {
    if (t == GgmlType::Q4_K)
      quantizeBlockQ4K(src + 256 * b, dst + bytes * b);
    else
      quantizeBlockQ6K(src + 256 * b, dst + bytes * b);
  }
}

} // namespace liquid
