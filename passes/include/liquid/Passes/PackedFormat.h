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
  /// Integer blocks (see iblk below): the GGUF 4-, 5- and 6-bit types as
  /// stored, and q8 for int8 x int8 products. The same order as the
  /// dialect's WeightStorage.
  Q4,
  Q4M,
  Q8M,
  Q8X16,
  Q8I,
  Q4K,
  Q5K,
  Q6K,
  /// int8 with one float scale per output (a row of the [N, K] matrix):
  /// cells' products (q8c below).
  Q8C,
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

/// Per-channel int8 (the cells' --quantize=q8): row n of an [N, K] matrix
/// is scale[n] * q[n, :], scale[n] = max |W[n, :]| / 127, q = round(W /
/// scale). A Transposed slot holds the Np = roundup(N, lanes) float scales,
/// then the column tiles of Transposed with int8 elements: tile j, at byte
/// 4 Np + K t0_j, is [K, width_j] int8 (a row of the tile is width_j bytes).
/// A block-sparse slot holds the Np scales, then its blocks of `lanes` int8.
namespace q8c {
/// Floats of a Transposed [n, k] slot.
constexpr int64_t floats(int64_t np, int64_t k) { return np + np * k / 4; }
/// Floats of a block-sparse slot of `blocks` blocks.
constexpr int64_t blockFloats(int64_t np, int64_t blocks, int64_t lanes) {
  return np + blocks * lanes / 4;
}
} // namespace q8c

/// Integer blocks: a Transposed [N, K] matrix whose values are integers q
/// in blocks of `block` inputs, value = scale * (q - zero) (+ min, for the
/// formats that have one), one scale (and minimum) per block and column.
/// Column tiles as in Transposed; tile j holds, per block of inputs, its
/// width_j scales (float, or half where that is exact: halfScale), then
/// (hasMin) width_j float minimums, then the values in groups of 4
/// consecutive inputs per column, so one 32-bit lane holds 4 inputs of one
/// column (what int8 dot-product instructions take):
///   8-bit: [block / 4][width][4] bytes: byte t of column c of group g is
///          input 4g + t;
///   4-, 5- and 6-bit: the low 4 bits as [block / 8][width][4] bytes: byte t
///          of column c of pair p holds input 8p + t in its low nibble and
///          input 8p + 4 + t in its high; then (5, 6 bits) the high bits as
///          [width][4] bytes: bits hb*g .. hb*g + hb-1 (hb = bits - 4) of
///          byte t hold the high bits of input 4g + t.
/// The K formats (`super` > 0: GGUF Q4_K, Q5_K, Q6_K as stored) keep the
/// checkpoint's two-level scales: each super-block of `super` inputs starts
/// with a header of width_j half scales (and width_j half minimum scales),
/// and a block's scales (and minimums) are one byte per column, an integer
/// the header's half multiplies (int8 when subSigned).
namespace iblk {
struct Format {
  int bits;       ///< 4, 5, 6 or 8 bits a value
  int block;      ///< inputs per scale: 16 or 32
  bool hasMin;    ///< a minimum per block
  bool isSigned;  ///< int8 values (else unsigned)
  int zero;       ///< subtracted from each value (Q4_0: 8, Q6_K: 32)
  bool halfScale; ///< scales in half precision (exact for Q4_0, Q8_0, Q5_0)
  int super = 0;  ///< the K formats: inputs per super-block (256), else 0
  bool subSigned = false; ///< the K formats' block scales are int8 (else uint8)
};
constexpr bool isIntBlocks(PackElement e) {
  return static_cast<int>(e) >= static_cast<int>(PackElement::Q4) &&
         static_cast<int>(e) <= static_cast<int>(PackElement::Q6K);
}
constexpr Format format(PackElement e) {
  switch (e) {
  case PackElement::Q4: return {4, 32, false, false, 8, true};
  case PackElement::Q4M: return {4, 32, true, false, 0, false};
  case PackElement::Q8M: return {8, 32, true, false, 0, false};
  case PackElement::Q8X16: return {8, 16, false, true, 0, false};
  case PackElement::Q4K: return {4, 32, true, false, 0, false, 256, false};
  case PackElement::Q5K: return {5, 32, true, false, 0, false, 256, false};
  case PackElement::Q6K: return {6, 16, false, false, 32, false, 256, true};
  default: return {8, 32, false, true, 0, true}; // Q8I
  }
}
/// Inputs per super-block: `super`, or one block for the other formats.
constexpr int64_t superInputs(Format f) { return f.super ? f.super : f.block; }
/// Bytes of a super-block's header (the K formats' half scales) for `width`
/// columns.
constexpr int64_t headerBytes(Format f, int64_t width) {
  return f.super ? 2 * width * (f.hasMin ? 2 : 1) : 0;
}
/// Bytes of a block's scales (and minimums) for `width` columns.
constexpr int64_t scaleBytes(Format f, int64_t width) {
  return (f.super ? 1 : f.halfScale ? 2 : 4) * width * (f.hasMin ? 2 : 1);
}
/// Bytes of a block's values for `width` columns: 4 bits a value, and a
/// 32-bit word a column for the high bits of 5- and 6-bit values.
constexpr int64_t valueBytes(Format f, int64_t width) {
  return f.bits == 8 ? f.block * width : f.block * width / 2 + (f.bits > 4 ? 4 * width : 0);
}
constexpr int64_t blockBytes(Format f, int64_t width) {
  return scaleBytes(f, width) + valueBytes(f, width);
}
/// Bytes of a super-block: its header and blocks.
constexpr int64_t superBytes(Format f, int64_t width) {
  return headerBytes(f, width) + superInputs(f) / f.block * blockBytes(f, width);
}
/// Bytes of a `width`-wide column tile of a [N, K] matrix (linear in width:
/// the bytes before column c of a tile are tileBytes(f, k, c)).
constexpr int64_t tileBytes(Format f, int64_t k, int64_t width) {
  return k / superInputs(f) * superBytes(f, width);
}
} // namespace iblk

/// Bytes of `n` weights stored as `e` (the block formats: scales included).
constexpr int64_t elementBytes(PackElement e, int64_t n) {
  if (iblk::isIntBlocks(e))
    return iblk::tileBytes(iblk::format(e), n, 1);
  if (e == PackElement::Q8C)
    return n; // and a scale per output
  return e == PackElement::F32 ? 4 * n : e == PackElement::F16 ? 2 * n : q8::blockBytes(n) / 32;
}

/// The format's name in liquid.weights and the layout hash ("transposed-q8").
inline std::string formatName(PackFormat f) {
  static const char *const layouts[] = {"vector", "rows", "transposed", "transposed-batched",
                                        "transposed-batched-glu"};
  std::string s = layouts[static_cast<int>(f.layout)];
  static const char *const elements[] = {"", "-f16", "-q8", "-q4", "-q4m", "-q8m", "-q8x16", "-q8i", "-q4k", "-q5k", "-q6k", "-q8c"};
  return s + elements[static_cast<int>(f.element)];
}

} // namespace liquid

#endif // LIQUID_PASSES_PACKEDFORMAT_H
