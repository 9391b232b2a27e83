//===- Arena.h - the conventions of the static arena -------------*- C++ -*-===//
//
// Every buffer of a compiled model lives in one arena planned at compile
// time (liquid-plan-memory). These conventions are part of the IR's
// contract: the planner sizes slots by them, ops state their scratch by them
// (ScratchOpInterface), and the kernels rely on them.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_DIALECT_ARENA_H
#define LIQUID_DIALECT_ARENA_H

#include <cstdint>

namespace mlir::liquid {

/// Kernels work on vectors of 8 (AVX2, NEON) or 16 (AVX-512) floats; slots are
/// planned for the widest.
constexpr int64_t kMaxLanes = 16;
/// Slot alignment in floats (64 bytes).
constexpr int64_t kSlotAlign = 16;

/// Most threads a language-model kernel runs on (the runtime's limit): ops
/// that give each thread its own scratch reserve this many copies.
constexpr int64_t kMaxThreads = 64;

inline int64_t alignTo(int64_t n, int64_t a) { return (n + a - 1) / a * a; }
/// Floats reserved for a vector of `n` elements: kernels may read and write
/// up to one vector past the end of any segment they touch.
inline int64_t slotFloats(int64_t n) { return alignTo(n + kMaxLanes, kSlotAlign); }

/// One row of `k` inputs quantized for int8 x int8 products (a linear with
/// int8_inputs; k a multiple of 32): k int8 values, then a float scale per
/// 32 inputs, then an int32 sum of the int8 values per 16.
inline int64_t int8RowFloats(int64_t k) { return k / 4 + k / 32 + k / 16; }

/// Attention on the LLVM path: a work item is a block of query rows times
/// the query heads of one KV head (about kAttnQueries queries, so each cached
/// key and value row is read once for all of them), with an online softmax
/// over tiles of kAttnKeyTile keys.
constexpr int64_t kAttnKeyTile = 64;
constexpr int64_t kAttnQueries = 16;
/// Query rows of a block when `group` query heads share a KV head.
inline int64_t attnBlockRows(int64_t group) { return group >= kAttnQueries ? 1 : kAttnQueries / group; }
/// One thread's attention scratch: per query (padded to 4) its rotated query
/// and output accumulator (head_dim each), a tile of scores, max, sum, rescale.
inline int64_t attnThreadFloats(int64_t group, int64_t headDim) {
  int64_t queries = alignTo(attnBlockRows(group) * group, 4);
  return alignTo(queries * (2 * headDim + kAttnKeyTile + 3), kSlotAlign);
}

} // namespace mlir::liquid

#endif
