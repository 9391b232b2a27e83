//===- GgufFormat.h - what the GGUF reader and writer share ------*- C++ -*-===//
#ifndef LIQUID_FRONTEND_GGUFFORMAT_H
#define LIQUID_FRONTEND_GGUFFORMAT_H

#include "FileUtil.h"

#include <cstdint>
#include <limits>

namespace liquid::gguf {

constexpr uint32_t kMagic = 0x46554747u; // "GGUF" read as little-endian u32
constexpr uint32_t kMaxDims = 4;
/// Names read from the file are shown escaped and cut after 200 characters.
constexpr detail::NameStyle kShown{true, 200};

/// a * b, false on overflow.
inline bool mulOk(uint64_t a, uint64_t b, uint64_t &out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a)
    return false;
  out = a * b;
  return true;
}

inline uint64_t alignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

} // namespace liquid::gguf

#endif
