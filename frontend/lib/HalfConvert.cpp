//===- HalfConvert.cpp - float32 <-> binary16 in bulk ----------------------===//
//
// The compiler converts every F16 weight twice (the checkpoint's halves to
// float32, the packed products' float32 back to halves): with the host's
// F16C instructions where it has them, eight at a time. Blocks holding an
// infinity or NaN take the scalar functions, which define the results; so do
// hosts without F16C. Lfm2ModelTest checks the two agree bit for bit.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Gguf.h"
#include "liquid/Frontend/Safetensors.h"

#include <cstring>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define LIQUID_F16C 1
#endif

namespace liquid {

#ifdef LIQUID_F16C
namespace {
bool hostHasF16C() {
  static const bool has = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  return has;
}

__attribute__((target("avx,f16c"))) size_t halvesToFloatsF16C(const uint16_t *src, size_t n,
                                                               float *dst) {
  size_t i = 0;
  const __m128i expMask = _mm_set1_epi16(0x7c00);
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
    if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(h, expMask), expMask))) {
      for (size_t j = i; j < i + 8; ++j)
        dst[j] = halfToFloat(src[j]);
      continue;
    }
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  return i;
}

__attribute__((target("avx,f16c"))) size_t floatsToHalvesF16C(const float *src, size_t n,
                                                               uint16_t *dst) {
  size_t i = 0;
  const __m256i expMask = _mm256_set1_epi32(0x7f800000);
  for (; i + 8 <= n; i += 8) {
    __m256 f = _mm256_loadu_ps(src + i);
    __m256 e = _mm256_and_ps(f, _mm256_castsi256_ps(expMask));
    if (_mm256_movemask_ps(_mm256_cmp_ps(e, _mm256_castsi256_ps(expMask), _CMP_EQ_OQ))) {
      for (size_t j = i; j < i + 8; ++j)
        dst[j] = floatToHalf(src[j]);
      continue;
    }
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i),
                     _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  return i;
}
} // namespace
#endif

void halvesToFloats(const uint16_t *src, size_t n, float *dst) {
  size_t i = 0;
#ifdef LIQUID_F16C
  if (hostHasF16C())
    i = halvesToFloatsF16C(src, n, dst);
#endif
  for (; i < n; ++i)
    dst[i] = halfToFloat(src[i]);
}

void floatsToHalves(const float *src, size_t n, uint16_t *dst) {
  size_t i = 0;
#ifdef LIQUID_F16C
  if (hostHasF16C())
    i = floatsToHalvesF16C(src, n, dst);
#endif
  for (; i < n; ++i)
    dst[i] = floatToHalf(src[i]);
}

} // namespace liquid
