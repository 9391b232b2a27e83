//===- PackedFormat.h - the packed weight formats, described once -*- C++ -*-===//
//
// How liquidc lays out weights in the packed blob (.lqw), as two independent
// choices: the layout (how elements are ordered and padded) and the element
// type (F32; F16, two per float of the blob; Q8, int8 with a float scale per
// block of 32 inputs). Every piece of code that computes an offset into the
// blob (the packer, the LLVM kernels, liquid-halide-gen's C entry points)
// uses these definitions. No LLVM or MLIR here: liquid-halide-gen (Halide 14,
// its own LLVM) includes it too.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_PASSES_PACKEDFORMAT_H
#define LIQUID_PASSES_PACKEDFORMAT_H

#include <cstdint>
#include <string>

namespace liquid {

/// How a weight is ordered in the blob. `lanes` (the kernels' vector width in
/// floats: 8 for AVX2/NEON, 16 for AVX-512) sets all padding.
enum class PackLayout {
  Vector, ///< 1-D, zero padded to a multiple of lanes
  Rows,   ///< 2-D [R, C], each row zero padded to a multiple of lanes
  /// 2-D [N, K] (products): the padded output dimension Np = roundup(N,
  /// lanes) is cut into column tiles of denseTile(lanes) outputs; tile j is
  /// stored contiguously as [K, width_j], so a kernel computing one tile of
  /// outputs (8 vector accumulators) streams one block.
  Transposed,
  /// 3-D [B, N, K] (stacked experts): B Transposed [N, K] matrices, one after
  /// the other.
  TransposedBatched,
  /// 3-D [B, 2I, K] (stacked fused gate/up experts: gate rows [0, I), up rows
  /// [I, 2I)): per expert, both halves padded to Ip = roundup(I, lanes) and
  /// interleaved one vector at a time (gate rows 0..lanes-1, up rows
  /// 0..lanes-1, gate rows lanes.., ...), then packed Transposed [2Ip, K]: every
  /// column tile holds matching gate and up vectors, so one product yields the
  /// SwiGLU activation.
  TransposedBatchedGLU,
};

/// The element type of a packed weight (the Transposed layouts take all
/// three; Vector and Rows are F32).
enum class PackElement {
  F32,
  /// Half precision, in the same element order: two per float of the blob.
  F16,
  /// int8 with one float scale per block of 32 inputs (the values of GGUF
  /// Q8_0; K a multiple of 32). Column tiles as in Transposed; tile j holds,
  /// per block b of 32 inputs, the width_j scales (floats) and then [32,
  /// width_j] int8 weights: q8::blockFloats(width_j) floats a block.
  Q8,
};

struct PackFormat {
  PackLayout layout = PackLayout::Vector;
  PackElement element = PackElement::F32;
  constexpr PackFormat() = default;
  constexpr PackFormat(PackLayout l, PackElement e = PackElement::F32) : layout(l), element(e) {}
  constexpr bool operator==(const PackFormat &o) const {
    return layout == o.layout && element == o.element;
  }
  constexpr bool operator!=(const PackFormat &o) const { return !(*this == o); }
};

inline int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }
/// Outputs per column tile of the Transposed layouts: 8 vectors.
inline int64_t denseTile(int64_t lanes) { return 8 * lanes; }
/// Block-sparse layouts keep only the lanes-wide blocks that hold a nonzero,
/// in the order column tile -> row -> chunk; a tile is denseTile(lanes) /
/// lanes chunks for a product's transposed matrix, this many for an LTC
/// synapse matrix's rows (its kernel keeps 2 x 4 accumulators).
constexpr int64_t kLtcTileChunks = 4;

namespace q8 {
/// Inputs per block (one scale each).
constexpr int64_t kBlock = 32;
/// One block of a `width`-wide column tile: width float scales, then
/// [32, width] int8 weights.
constexpr int64_t blockBytes(int64_t width) { return 4 * width + kBlock * width; }
constexpr int64_t blockFloats(int64_t width) { return blockBytes(width) / 4; }
/// A `width`-wide column tile of a [N, K] matrix, all its K / 32 blocks.
constexpr int64_t tileFloats(int64_t k, int64_t width) { return k / kBlock * blockFloats(width); }
} // namespace q8

/// Bytes of `n` weights stored as `e` (Q8: its scales included).
constexpr int64_t elementBytes(PackElement e, int64_t n) {
  return e == PackElement::F32 ? 4 * n : e == PackElement::F16 ? 2 * n : q8::blockBytes(n) / 32;
}

/// The format's name in liquid.weights and the layout hash ("transposed-q8").
inline std::string formatName(PackFormat f) {
  static const char *const layouts[] = {"vector", "rows", "transposed", "transposed-batched",
                                        "transposed-batched-glu"};
  std::string s = layouts[static_cast<int>(f.layout)];
  if (f.element == PackElement::F16)
    s += "-f16";
  if (f.element == PackElement::Q8)
    s += "-q8";
  return s;
}

} // namespace liquid

#endif // LIQUID_PASSES_PACKEDFORMAT_H
