//===- WeightEval.h - compile-time weight arithmetic (no MLIR) --*- C++ -*-===//
#ifndef LIQUID_PASSES_WEIGHTEVAL_H
#define LIQUID_PASSES_WEIGHTEVAL_H

#include "liquid/Frontend/NcpsModel.h"
#include "liquid/Passes/PackedFormat.h"

#include <string>
#include <vector>

namespace liquid {

/// Q8_0 quantization of `t` (ggml's rule: scale = max |x| / 127 rounded to
/// f16, q = round(x / scale)); t.q8 as is when the checkpoint had it.
void quantizeQ8(const Tensor &t, std::vector<int8_t> &q, std::vector<float> &scales);
/// Per-row int8 of an [n, k] matrix (q8c): scales[r] = max |row r| / 127,
/// q = round(x / scale) (to nearest even), clamped to +-127.
void quantizeRows(const Tensor &t, std::vector<int8_t> &q, float *scales);
/// Floats a tensor of `shape` takes in the blob in format `f`.
int64_t packedFloats(const std::vector<int64_t> &shape, PackFormat f, int64_t lanes);
/// Whether `t` can be packed as `f`: integer-block elements need the
/// checkpoint's blocks in that format (q4 and q8i can also be quantized).
bool canPack(const Tensor &t, PackFormat f);
/// Appends `t` in format `f` to `out` (exactly packedFloats floats; canPack).
void packTensor(const Tensor &t, PackFormat f, int64_t lanes, std::vector<float> &out);

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

/// The same blocks of a dense-layer weight [N, K] (transposed) as q8c: the
/// roundup(N, lanes) scales, then the blocks, `lanes` int8 each.
void packBlocksQ8C(const Tensor &t, const Occupancy &occ, int64_t tileChunks, int64_t lanes,
                   std::vector<float> &out);

Tensor concatTensors(const std::vector<const Tensor *> &parts, int64_t dim);
/// Element-wise product; shapes must match (checked by the IR verifier).
Tensor mulTensors(const Tensor &a, const Tensor &b);
/// The element-wise functions of weights (the dialect's WeightFn, same order).
enum class MapFn { Softplus, Relu, Abs, Neg };
Tensor mapTensor(const Tensor &a, MapFn fn);

/// 64-bit FNV-1a.
uint64_t fnv1a(const std::string &s, uint64_t h = 1469598103934665603ULL);

} // namespace liquid

#endif
