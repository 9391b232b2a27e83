//===- WeightEval.h - compile-time weight arithmetic (no MLIR) --*- C++ -*-===//
#ifndef LIQUID_PASSES_WEIGHTEVAL_H
#define LIQUID_PASSES_WEIGHTEVAL_H

#include "liquid/Frontend/NcpsModel.h"

#include <string>
#include <vector>

namespace liquid {

/// How a weight is laid out in the packed blob. `lanes` (the kernels' vector
/// width in floats: 8 for AVX2/NEON, 16 for AVX-512) sets all padding.
enum class PackLayout {
  Vector,     ///< 1-D, zero padded to a multiple of lanes
  Rows,       ///< 2-D [R, C], each row zero padded to a multiple of lanes
  /// 2-D [N, K] (dense layers): the padded output dimension Np = roundup(N,
  /// lanes) is cut into column tiles of denseTile(lanes) outputs; tile j is
  /// stored contiguously as [K, width_j], so a kernel computing one tile of
  /// outputs (8 vector accumulators) streams one block.
  Transposed,
  /// As Transposed, with half-precision elements (two per float of the blob).
  TransposedF16,
  /// 3-D [B, N, K] (stacked experts): B Transposed [N, K] matrices, one after
  /// the other, each packedFloats([N, K], Transposed) floats.
  TransposedBatched,
  /// 3-D [B, 2I, K] (stacked fused gate/up experts: gate rows [0, I), up rows
  /// [I, 2I)): per expert, both halves padded to Ip = roundup(I, lanes) and
  /// interleaved one vector at a time (gate rows 0..lanes-1, up rows
  /// 0..lanes-1, gate rows lanes.., ...), then packed Transposed [2Ip, K]: every
  /// column tile holds matching gate and up vectors, so one product yields the
  /// SwiGLU activation.
  TransposedBatchedGLU,
  /// TransposedBatched and TransposedBatchedGLU with half-precision elements
  /// (the same element order; two per float of the blob).
  TransposedBatchedF16,
  TransposedBatchedGLUF16,
  /// ... and as int8 (TransposedQ8 per expert; K a multiple of 32).
  TransposedBatchedQ8,
  TransposedBatchedGLUQ8,
  /// 2-D [N, K] as int8 with one float scale per block of 32 inputs (the
  /// values of GGUF Q8_0; K must be a multiple of 32). Column tiles as in
  /// Transposed; tile j holds, per block b of 32 inputs, the width_j scales
  /// (floats) and then [32, width_j] int8 weights: 9 * width_j floats a block.
  TransposedQ8,
};
/// Q8_0 quantization of `t` (ggml's rule: scale = max |x| / 127 rounded to
/// f16, q = round(x / scale)); t.q8 as is when the checkpoint had it.
void quantizeQ8(const Tensor &t, std::vector<int8_t> &q, std::vector<float> &scales);
inline int64_t denseTile(int64_t lanes) { return 8 * lanes; }
inline int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }
const char *layoutName(PackLayout l);
/// Floats a tensor of `shape` takes in the blob with layout `l`.
int64_t packedFloats(const std::vector<int64_t> &shape, PackLayout l, int64_t lanes);
/// Appends `t` in layout `l` to `out` (exactly packedFloats floats).
void packTensor(const Tensor &t, PackLayout l, int64_t lanes, std::vector<float> &out);

/// Which lanes-wide blocks of a matrix hold a nonzero: occ[row][chunk]. With
/// `transposed` the matrix is a dense-layer weight [N, K] seen as W^T: rows are
/// the K inputs and chunks cover the N outputs; otherwise rows are rows.
using Occupancy = std::vector<std::vector<bool>>;
Occupancy blockOccupancy(const Tensor &t, bool transposed, int64_t lanes);
int64_t countBlocks(const Occupancy &occ);
double zeroFraction(const Occupancy &occ);
/// Appends the blocks of `t` that `occ` marks, `lanes` floats each, in the order
/// column tile (`tileChunks` chunks) -> row -> chunk: the block-sparse layout.
void packBlocks(const Tensor &t, bool transposed, const Occupancy &occ, int64_t tileChunks,
                int64_t lanes, std::vector<float> &out);

Tensor concatTensors(const std::vector<const Tensor *> &parts, int64_t dim);
/// Element-wise product; shapes must match (checked by the IR verifier).
Tensor mulTensors(const Tensor &a, const Tensor &b);
/// fn: softplus | relu | abs | neg.
Tensor mapTensor(const Tensor &a, const std::string &fn);

/// 64-bit FNV-1a.
uint64_t fnv1a(const std::string &s, uint64_t h = 1469598103934665603ULL);

} // namespace liquid

#endif
