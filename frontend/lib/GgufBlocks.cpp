//===- GgufBlocks.cpp - ggml tensor types: names, sizes, conversions ------===//
//
// The ggml type table, half / bfloat16 conversions, the Q8_0 and Q4
// quantizers, and the block formats (Q4_0 ... Q8_0, the K-quants) split into
// integers and scales or decoded to float32. Written from ggml's published
// layouts (ggml-common.h). See liquid/Frontend/Gguf.h.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Gguf.h"

#include "liquid/Frontend/Safetensors.h" // halfToFloat, bf16ToFloat

#include "FileUtil.h"
#include "GgufFormat.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace liquid {

using namespace gguf;

namespace {

using detail::bitsToFloat;
using detail::loadLE16;
using detail::loadLE32;

struct TypeName {
  uint32_t id;
  const char *name;
};
constexpr TypeName kGgmlNames[] = {
    {0, "F32"},      {1, "F16"},      {2, "Q4_0"},     {3, "Q4_1"},
    {6, "Q5_0"},     {7, "Q5_1"},     {8, "Q8_0"},     {9, "Q8_1"},
    {10, "Q2_K"},    {11, "Q3_K"},    {12, "Q4_K"},    {13, "Q5_K"},
    {14, "Q6_K"},    {15, "Q8_K"},    {16, "IQ2_XXS"}, {17, "IQ2_XS"},
    {18, "IQ3_XXS"}, {19, "IQ1_S"},   {20, "IQ4_NL"},  {21, "IQ3_S"},
    {22, "IQ2_S"},   {23, "IQ4_XS"},  {24, "I8"},      {25, "I16"},
    {26, "I32"},     {27, "I64"},     {28, "F64"},     {29, "IQ1_M"},
    {30, "BF16"},    {34, "TQ1_0"},   {35, "TQ2_0"},   {39, "MXFP4"},
};

} // namespace

//===----------------------------------------------------------------------===//
// Types and conversions
//===----------------------------------------------------------------------===//

const char *ggufTypeName(GgufType t) {
  static const char *names[] = {"UINT8",   "INT8",   "UINT16", "INT16",
                                "UINT32",  "INT32",  "FLOAT32", "BOOL",
                                "STRING",  "ARRAY",  "UINT64", "INT64",
                                "FLOAT64"};
  uint32_t i = static_cast<uint32_t>(t);
  return i <= 12 ? names[i] : "?";
}

const char *ggmlTypeName(uint32_t typeId) {
  for (const auto &n : kGgmlNames)
    if (n.id == typeId) return n.name;
  return "unknown";
}

bool ggmlTypeSupported(uint32_t id) {
  switch (id) {
  case 0: case 1: case 2: case 3: case 6: case 7: case 8: case 12: case 13: case 14: case 30:
    return true;
  default:
    return false;
  }
}

int64_t ggmlBlockSize(GgmlType t) {
  switch (t) {
  case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: return 1;
  case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K: return 256;
  default: return 32;
  }
}

size_t ggmlBlockBytes(GgmlType t) {
  switch (t) {
  case GgmlType::F32: return 4;
  case GgmlType::F16: case GgmlType::BF16: return 2;
  case GgmlType::Q4_0: return 18;  // f16 d, 16 bytes of nibbles
  case GgmlType::Q4_1: return 20;  // f16 d, f16 m, nibbles
  case GgmlType::Q5_0: return 22;  // f16 d, 4 bytes of high bits, nibbles
  case GgmlType::Q5_1: return 24;  // f16 d, f16 m, high bits, nibbles
  case GgmlType::Q8_0: return kQ8_0BlockBytes;
  case GgmlType::Q4_K: return 144; // f16 d, dmin, 12 bytes of 6-bit scales/mins, 128 of nibbles
  case GgmlType::Q5_K: return 176; // as Q4_K + 32 bytes of high bits
  case GgmlType::Q6_K: return 210; // 128 low nibbles, 64 of 2-bit highs, 16 int8 scales, f16 d
  }
  return 0;
}

uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) { // inf / NaN (NaN stays a quiet NaN)
    if (a == 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u);
    uint32_t m = (a >> 13) & 0x3ffu;
    return static_cast<uint16_t>(sign | 0x7c00u | 0x200u | m);
  }
  if (a >= 0x477ff000u) // >= 65520 rounds to infinity
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (a < 0x38800000u) { // below 2^-14: half subnormal or zero
    if (a <= 0x33000000u) return static_cast<uint16_t>(sign); // <= 2^-25
    const uint32_t e = a >> 23;
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e; // 14..24
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1u))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t r = (a >> 13) - (112u << 10); // rebias the exponent 127 -> 15
  const uint32_t rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r; // may carry: fine
  return static_cast<uint16_t>(sign | r);
}

uint16_t floatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) // NaN: keep it a quiet NaN
    return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

void quantizeQ8_0(const float *src, size_t n, uint8_t *dst) {
  for (size_t b = 0; b < n / kQ8_0Block; ++b) {
    const float *x = src + b * kQ8_0Block;
    uint8_t *o = dst + b * kQ8_0BlockBytes;
    float amax = 0.f;
    for (int j = 0; j < kQ8_0Block; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    const uint16_t h = floatToHalf(d);
    o[0] = static_cast<uint8_t>(h);
    o[1] = static_cast<uint8_t>(h >> 8);
    for (int j = 0; j < kQ8_0Block; ++j) {
      float q = std::round(x[j] * id);
      q = std::min(127.f, std::max(-127.f, q));
      o[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
  }
}

void quantizeQ4Blocks(const float *src, size_t n, IntBlocks &out) {
  out = IntBlocks();
  out.bits = 4, out.zero = 8;
  out.q.resize(n);
  out.scale.resize(n / 32);
  for (size_t b = 0; b < n / 32; ++b) {
    const float *x = src + 32 * b;
    float m = 0.0f;
    for (int i = 0; i < 32; ++i)
      if (std::fabs(x[i]) > std::fabs(m))
        m = x[i];
    const float d = halfToFloat(floatToHalf(m / -8.0f));
    out.scale[b] = d;
    for (int i = 0; i < 32; ++i) {
      float r = d != 0.0f ? std::nearbyint(x[i] / d) + 8.0f : 8.0f;
      out.q[32 * b + i] = static_cast<uint8_t>(std::min(15.0f, std::max(0.0f, r)));
    }
  }
}

void unpackQ8_0(const void *src, size_t n, int8_t *q, float *d) {
  const uint8_t *blk = static_cast<const uint8_t *>(src);
  for (size_t b = 0; b < n / kQ8_0Block; ++b, blk += kQ8_0BlockBytes) {
    d[b] = halfToFloat(static_cast<uint16_t>(blk[0] | blk[1] << 8));
    std::memcpy(q + b * kQ8_0Block, blk + 2, kQ8_0Block);
  }
}

namespace {

/// Q4_0 / Q4_1 / Q5_0 / Q5_1: 32 values, nibbles j and j + 16 share byte j;
/// Q5 types add bit j (and j + 16) of the 32-bit `qh`. The symmetric types
/// (no min) give signed q - 16 (Q5_0) or unsigned q with zero 8 (Q4_0).
void splitBlock32(GgmlType t, const uint8_t *blk, uint8_t *q, float *scale, float *min) {
  const bool hasMin = t == GgmlType::Q4_1 || t == GgmlType::Q5_1;
  const bool five = t == GgmlType::Q5_0 || t == GgmlType::Q5_1;
  *scale = halfToFloat(loadLE16(blk));
  if (hasMin)
    *min = halfToFloat(loadLE16(blk + 2));
  const uint8_t *p = blk + (hasMin ? 4 : 2);
  uint32_t qh = 0;
  if (five) {
    qh = loadLE32(p);
    p += 4;
  }
  for (int j = 0; j < 16; ++j) {
    int lo = p[j] & 0xF, hi = p[j] >> 4;
    if (five) {
      lo |= static_cast<int>((qh >> j) & 1u) << 4;
      hi |= static_cast<int>((qh >> (j + 16)) & 1u) << 4;
    }
    if (t == GgmlType::Q5_0)
      lo -= 16, hi -= 16; // int8
    q[j] = static_cast<uint8_t>(lo);
    q[j + 16] = static_cast<uint8_t>(hi);
  }
}

/// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K block.
void scaleMinK4(int j, const uint8_t *s, int &sc, int &mn) {
  if (j < 4) {
    sc = s[j] & 63;
    mn = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

/// Q4_K / Q5_K: 256 values in 8 sub-blocks of 32, each with its own 6-bit
/// scale and min (times the block's d and dmin); value = d*sc*q - dmin*mn,
/// so scale d*sc and min -dmin*mn (both exact in float).
void splitBlockK45(bool five, const uint8_t *blk, uint8_t *q, float *scale, float *min,
                   uint8_t *subScale, uint8_t *subMin) {
  const float d = halfToFloat(loadLE16(blk)), dmin = halfToFloat(loadLE16(blk + 2));
  const uint8_t *scales = blk + 4, *qh = blk + 16, *p = blk + (five ? 48 : 16);
  for (int j = 0; j < 4; ++j) { // 64 values: low nibbles, then high nibbles
    for (int h = 0; h < 2; ++h) {
      int sc, mn;
      scaleMinK4(2 * j + h, scales, sc, mn);
      scale[2 * j + h] = d * static_cast<float>(sc);
      min[2 * j + h] = -(dmin * static_cast<float>(mn));
      subScale[2 * j + h] = static_cast<uint8_t>(sc);
      subMin[2 * j + h] = static_cast<uint8_t>(mn);
    }
    for (int l = 0; l < 32; ++l) {
      int lo = p[l] & 0xF, hi = p[l] >> 4;
      if (five) {
        lo += ((qh[l] >> (2 * j)) & 1) << 4;
        hi += ((qh[l] >> (2 * j + 1)) & 1) << 4;
      }
      q[64 * j + l] = static_cast<uint8_t>(lo);
      q[64 * j + 32 + l] = static_cast<uint8_t>(hi);
    }
    p += 32;
  }
}

/// Q6_K: 256 values in 16 sub-blocks of 16 with int8 scales; 4 low bits in
/// `ql`, 2 high bits in `qh`, minus 32: int8 q, scale d*sc per 16.
void splitBlockQ6K(const uint8_t *blk, uint8_t *q, float *scale, uint8_t *subScale) {
  const uint8_t *ql = blk, *qh = blk + 128;
  const int8_t *sc = reinterpret_cast<const int8_t *>(blk + 192);
  const float d = halfToFloat(loadLE16(blk + 208));
  for (int i = 0; i < 16; ++i) {
    scale[i] = d * static_cast<float>(sc[i]);
    subScale[i] = static_cast<uint8_t>(sc[i]);
  }
  for (int half = 0; half < 2; ++half) { // 128 values each
    for (int l = 0; l < 32; ++l) {
      q[l] = static_cast<uint8_t>(((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
      q[l + 32] = static_cast<uint8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      q[l + 64] = static_cast<uint8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      q[l + 96] = static_cast<uint8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
    q += 128;
    ql += 64;
    qh += 32;
  }
}

} // namespace

bool decomposeBlocks(GgmlType t, const void *srcv, size_t n, IntBlocks &out) {
  const uint8_t *p = static_cast<const uint8_t *>(srcv);
  out = IntBlocks();
  switch (t) {
  case GgmlType::Q4_0: out.bits = 4, out.zero = 8; break;
  case GgmlType::Q4_1: case GgmlType::Q4_K: out.bits = 4; break;
  case GgmlType::Q5_1: case GgmlType::Q5_K: out.bits = 5; break;
  case GgmlType::Q5_0: out.bits = 5, out.isSigned = true; break;
  case GgmlType::Q8_0: out.bits = 8, out.isSigned = true; break;
  case GgmlType::Q6_K: out.bits = 6, out.isSigned = true, out.block = 16; break;
  default: return false;
  }
  const bool hasMin = t == GgmlType::Q4_1 || t == GgmlType::Q5_1 || t == GgmlType::Q4_K ||
                      t == GgmlType::Q5_K;
  const bool kType = t == GgmlType::Q4_K || t == GgmlType::Q5_K || t == GgmlType::Q6_K;
  const size_t bs = static_cast<size_t>(ggmlBlockSize(t)), bb = ggmlBlockBytes(t);
  const size_t sub = bs / out.block; // scales a ggml block
  out.q.resize(n);
  out.scale.resize(n / out.block);
  if (hasMin)
    out.min.resize(n / out.block);
  if (kType) {
    out.super = static_cast<int>(bs);
    out.subSigned = t == GgmlType::Q6_K;
    out.superScale.resize(n / bs);
    out.subScale.resize(n / out.block);
    if (hasMin) {
      out.superMin.resize(n / bs);
      out.subMin.resize(n / out.block);
    }
  }
  for (size_t b = 0; b < n / bs; ++b, p += bb) {
    uint8_t *q = out.q.data() + b * bs;
    float *sc = out.scale.data() + b * sub, *mn = hasMin ? out.min.data() + b * sub : nullptr;
    if (t == GgmlType::Q8_0) {
      *sc = halfToFloat(loadLE16(p));
      std::memcpy(q, p + 2, kQ8_0Block);
    } else if (t == GgmlType::Q6_K) {
      out.superScale[b] = loadLE16(p + 208);
      splitBlockQ6K(p, q, sc, out.subScale.data() + b * sub);
    } else if (t == GgmlType::Q4_K || t == GgmlType::Q5_K) {
      out.superScale[b] = loadLE16(p);
      out.superMin[b] = static_cast<uint16_t>(loadLE16(p + 2) ^ 0x8000u); // -dmin
      splitBlockK45(t == GgmlType::Q5_K, p, q, sc, mn, out.subScale.data() + b * sub,
                    out.subMin.data() + b * sub);
    } else {
      splitBlock32(t, p, q, sc, mn);
    }
  }
  return true;
}

void decodeToF32(GgmlType t, const void *srcv, size_t n, float *dst) {
  const uint8_t *p = static_cast<const uint8_t *>(srcv);
  switch (t) {
  case GgmlType::F32:
    for (size_t i = 0; i < n; ++i) dst[i] = bitsToFloat(loadLE32(p + 4 * i));
    return;
  case GgmlType::F16:
    if (detail::kLittleEndianHost && reinterpret_cast<uintptr_t>(p) % 2 == 0) {
      halvesToFloats(reinterpret_cast<const uint16_t *>(p), n, dst);
      return;
    }
    for (size_t i = 0; i < n; ++i) dst[i] = halfToFloat(loadLE16(p + 2 * i));
    return;
  case GgmlType::BF16:
    for (size_t i = 0; i < n; ++i) dst[i] = bf16ToFloat(loadLE16(p + 2 * i));
    return;
  default: {
    // scale * (q - zero) (+ min): the formats' own arithmetic, in float
    IntBlocks ib;
    decomposeBlocks(t, p, n, ib);
    for (size_t i = 0; i < n; ++i) {
      int q = ib.isSigned ? static_cast<int8_t>(ib.q[i]) : ib.q[i];
      float v = static_cast<float>(q - ib.zero) * ib.scale[i / ib.block];
      dst[i] = ib.min.empty() ? v : v + ib.min[i / ib.block];
    }
    return;
  }
  }
}

} // namespace liquid
