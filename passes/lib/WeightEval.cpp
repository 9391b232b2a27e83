//===- WeightEval.cpp - compile-time weight arithmetic ---------------------===//
#include "WeightEval.h"

#include "liquid/Frontend/Gguf.h"
#include "liquid/Frontend/Safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace liquid {


int64_t packedFloats(const std::vector<int64_t> &shape, PackFormat f, int64_t lanes) {
  switch (f.element) {
  case PackElement::F16: // the F32 order, two halves per float
    return (packedFloats(shape, f.layout, lanes) + 1) / 2;
  case PackElement::Q8:
    switch (f.layout) {
    case PackLayout::Transposed: {
      int64_t np = roundUp(shape[0], lanes), tile = denseTile(lanes), floats = 0;
      for (int64_t t0 = 0; t0 < np; t0 += tile)
        floats += q8::tileFloats(shape[1], std::min(tile, np - t0));
      return floats;
    }
    case PackLayout::TransposedBatched:
      return shape[0] * packedFloats({shape[1], shape[2]},
                                     {PackLayout::Transposed, PackElement::Q8}, lanes);
    case PackLayout::TransposedBatchedGLU:
      return shape[0] * packedFloats({2 * roundUp(shape[1] / 2, lanes), shape[2]},
                                     {PackLayout::Transposed, PackElement::Q8}, lanes);
    default:
      return 0; // Vector and Rows are F32 only
    }
  case PackElement::F32:
    break;
  case PackElement::Q8C: // Transposed only
    return f.layout == PackLayout::Transposed ? q8c::floats(roundUp(shape[0], lanes), shape[1]) : 0;
  default: { // integer blocks: Transposed only
    if (f.layout != PackLayout::Transposed)
      return 0;
    // the tiles are consecutive in bytes (tileBytes is linear in the width)
    return (iblk::tileBytes(iblk::format(f.element), shape[1], roundUp(shape[0], lanes)) + 3) / 4;
  }
  }
  switch (f.layout) {
  case PackLayout::Vector: {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return roundUp(n, lanes);
  }
  case PackLayout::Rows: return shape[0] * roundUp(shape[1], lanes);
  case PackLayout::Transposed: return shape[1] * roundUp(shape[0], lanes);
  case PackLayout::TransposedBatched:
    return shape[0] * packedFloats({shape[1], shape[2]}, PackLayout::Transposed, lanes);
  case PackLayout::TransposedBatchedGLU:
    return shape[0] * shape[2] * 2 * roundUp(shape[1] / 2, lanes);
  }
  return 0;
}

/// The TransposedQ8 tiles of an [n, k] int8 matrix with scales [n, k / 32].
static void packQ8Tiles(int64_t n, int64_t k, const int8_t *q, const float *d, int64_t lanes,
                        float *dst) {
  int64_t kb = k / 32, np = roundUp(n, lanes), tile = denseTile(lanes);
  auto *bytes = reinterpret_cast<int8_t *>(dst);
  for (int64_t t0 = 0; t0 < np; t0 += tile) {
    int64_t w = std::min(tile, np - t0);
    for (int64_t b = 0; b < kb; ++b) {
      int64_t base = q8::tileFloats(k, t0) + b * q8::blockFloats(w); // floats
      for (int64_t c = 0; c < w && t0 + c < n; ++c) {
        dst[base + c] = d[(t0 + c) * kb + b];
        for (int64_t kk = 0; kk < 32; ++kk)
          bytes[(base + w) * 4 + kk * w + c] = q[(t0 + c) * k + b * 32 + kk];
      }
    }
  }
}

/// The values of one block of column c of a `w`-wide tile (iblk's value
/// order) from `src` (one a byte, already offset by f.zero when unsigned).
static void packBlockValues(iblk::Format f, int64_t w, int64_t c, const uint8_t *src,
                            uint8_t *vals) {
  uint8_t *high = vals + f.block * w / 2; // the 5- and 6-bit values' high bits
  const int hb = f.bits - 4;
  for (int64_t i = 0; i < f.block; ++i) {
    if (f.bits == 8) {
      vals[(i / 4) * w * 4 + c * 4 + i % 4] = src[i];
      continue;
    }
    vals[(i / 8) * w * 4 + c * 4 + i % 4] |=
        static_cast<uint8_t>((src[i] & 0xF) << (i % 8 >= 4 ? 4 : 0));
    if (hb > 0)
      high[c * 4 + i % 4] |= static_cast<uint8_t>((src[i] >> 4) << (hb * (i / 4)));
  }
}

/// The integer-block tiles (iblk) of an [n, k] matrix `b` (values one a
/// byte, scales and minimums per block, the K types' super-block scales).
static void packIntTiles(iblk::Format f, int64_t n, int64_t k, const IntBlocks &b, int64_t lanes,
                         float *dst) {
  int64_t np = roundUp(n, lanes), tile = denseTile(lanes), nb = k / f.block;
  int64_t per = iblk::superInputs(f) / f.block, ns = k / iblk::superInputs(f);
  // signed checkpoint values stored unsigned: offset by the zero point
  const int shift = b.isSigned && !f.isSigned ? f.zero : 0;
  std::vector<uint8_t> src(f.block);
  auto *bytes = reinterpret_cast<uint8_t *>(dst);
  for (int64_t t0 = 0; t0 < np; t0 += tile) {
    int64_t w = std::min(tile, np - t0), live = std::min(n, t0 + w) - t0;
    for (int64_t s = 0; s < ns; ++s) {
      if (f.super) { // the header: half scales (and -dmin) per column
        auto *h = reinterpret_cast<uint16_t *>(bytes);
        for (int64_t c = 0; c < live; ++c) {
          h[c] = b.superScale[(t0 + c) * ns + s];
          if (f.hasMin)
            h[w + c] = b.superMin[(t0 + c) * ns + s];
        }
        bytes += iblk::headerBytes(f, w);
      }
      for (int64_t blk = s * per; blk < (s + 1) * per; ++blk, bytes += iblk::blockBytes(f, w)) {
        float *sc = reinterpret_cast<float *>(bytes), *mn = sc + w;
        uint8_t *vals = bytes + iblk::scaleBytes(f, w);
        for (int64_t c = 0; c < live; ++c) { // padding columns stay 0
          int64_t r = t0 + c, at = r * nb + blk;
          if (f.super) {
            bytes[c] = b.subScale[at];
            if (f.hasMin)
              bytes[w + c] = b.subMin[at];
          } else if (f.halfScale) {
            reinterpret_cast<uint16_t *>(bytes)[c] = floatToHalf(b.scale[at]);
          } else {
            sc[c] = b.scale[at];
          }
          if (f.hasMin && !f.super)
            mn[c] = b.min[at];
          for (int64_t i = 0; i < f.block; ++i)
            src[i] = static_cast<uint8_t>(b.q[r * k + blk * f.block + i] + shift);
          packBlockValues(f, w, c, src.data(), vals);
        }
      }
    }
  }
}

/// The integer blocks `t` is packed from as element `e`: the checkpoint's
/// when they have e's format; q4 quantized from the floats; q8i from the
/// int8 values (quantized when the checkpoint had none). Null if `t` has
/// no such blocks.
static const IntBlocks *intBlocksFor(const Tensor &t, PackElement e, IntBlocks &tmp) {
  iblk::Format f = iblk::format(e);
  const IntBlocks &b = t.blocks;
  // the K formats need the checkpoint's super-block scales; a signed
  // checkpoint's values go to an unsigned K format offset by its zero point
  bool match = !b.empty() && b.block == f.block && !b.min.empty() == f.hasMin &&
               b.bits <= f.bits &&
               (f.super ? b.super == f.super && b.subSigned == f.subSigned &&
                              b.zero == 0 && b.isSigned == (f.zero > 0)
                        : b.isSigned == f.isSigned && b.zero == f.zero);
  if (match)
    return &b;
  if (e == PackElement::Q4 && !t.data.empty() && t.shape.back() % 32 == 0) {
    quantizeQ4Blocks(t.data.data(), t.data.size(), tmp);
    return &tmp;
  }
  if (e == PackElement::Q8I && t.shape.back() % 32 == 0) {
    std::vector<int8_t> q;
    tmp = IntBlocks();
    tmp.bits = 8, tmp.isSigned = true;
    quantizeQ8(t, q, tmp.scale);
    tmp.q.assign(q.begin(), q.end());
    return &tmp;
  }
  return nullptr;
}

bool canPack(const Tensor &t, PackFormat f) {
  if (!iblk::isIntBlocks(f.element))
    return true;
  IntBlocks tmp;
  const IntBlocks *b = f.layout == PackLayout::Transposed && t.shape.size() == 2
                           ? intBlocksFor(t, f.element, tmp)
                           : nullptr;
  if (!b)
    return false;
  if (iblk::format(f.element).halfScale) // half scales only where they are exact
    for (float s : b->scale)
      if (halfToFloat(floatToHalf(s)) != s)
        return false;
  return true;
}

/// `t` in layout `l` with Q8 elements (from the checkpoint's int8 values
/// when it had them): Transposed directly; per expert for the batched
/// layouts (GLU: gate and up rows interleaved a vector at a time, as
/// TransposedBatchedGLU).
static void packQ8(const Tensor &t, PackLayout l, int64_t lanes, float *dst) {
  std::vector<int8_t> q;
  std::vector<float> d;
  quantizeQ8(t, q, d);
  if (l == PackLayout::Transposed) {
    packQ8Tiles(t.shape[0], t.shape[1], q.data(), d.data(), lanes, dst);
    return;
  }
  bool glu = l == PackLayout::TransposedBatchedGLU;
  int64_t e = t.shape[0], rowsIn = t.shape[1], k = t.shape[2], kb = k / q8::kBlock;
  int64_t half = rowsIn / 2, ip = roundUp(half, lanes);
  int64_t rowsOut = glu ? 2 * ip : rowsIn;
  int64_t per = packedFloats({rowsOut, k}, {PackLayout::Transposed, PackElement::Q8}, lanes);
  std::vector<int8_t> eq(rowsOut * k);
  std::vector<float> ed(rowsOut * kb);
  for (int64_t x = 0; x < e; ++x) {
    std::fill(eq.begin(), eq.end(), 0);
    std::fill(ed.begin(), ed.end(), 0.0f);
    for (int64_t r = 0; r < rowsIn; ++r) {
      int64_t dstRow = r;
      if (glu) {
        int64_t h = r / half, rr = r % half;
        dstRow = (rr / lanes * 2 + h) * lanes + rr % lanes;
      }
      const int8_t *srcQ = q.data() + (x * rowsIn + r) * k;
      std::copy(srcQ, srcQ + k, eq.begin() + dstRow * k);
      const float *srcD = d.data() + (x * rowsIn + r) * kb;
      std::copy(srcD, srcD + kb, ed.begin() + dstRow * kb);
    }
    packQ8Tiles(rowsOut, k, eq.data(), ed.data(), lanes, dst + x * per);
  }
}

/// The Transposed layout of the [n, k] matrix at `src` (n padded to lanes
/// with zeros): column tiles of denseTile(lanes) outputs, each k rows of the
/// tile's width. `store(at, values, count)` puts float32 values at element
/// `at` of the packed order. A few columns at a time, so that the reads and
/// the writes both stay in cache.
template <typename Store>
static void transposeTiles(const float *src, int64_t n, int64_t k, int64_t lanes, Store store) {
  constexpr int64_t kCols = 32;
  int64_t np = roundUp(n, lanes), tile = denseTile(lanes);
  std::vector<float> buf(kCols * tile);
  for (int64_t t0 = 0; t0 < np; t0 += tile) {
    int64_t w = std::min(tile, np - t0), live = std::min(n, t0 + w) - t0;
    for (int64_t j0 = 0; j0 < k; j0 += kCols) {
      int64_t jb = std::min(kCols, k - j0);
      if (live < w)
        std::fill(buf.begin(), buf.begin() + jb * w, 0.0f);
      for (int64_t i = 0; i < live; ++i) {
        const float *row = src + (t0 + i) * k + j0;
        for (int64_t j = 0; j < jb; ++j)
          buf[j * w + i] = row[j];
      }
      store(t0 * k + j0 * w, buf.data(), jb * w);
    }
  }
}

/// `t` in float layout `l`, its values put by `store` (as transposeTiles);
/// what it never stores is padding, zero.
template <typename Store>
static void packFloatLayout(const Tensor &t, PackLayout l, int64_t lanes, Store store) {
  switch (l) {
  case PackLayout::Vector:
    store(0, t.data.data(), static_cast<int64_t>(t.data.size()));
    break;
  case PackLayout::Rows: {
    int64_t r = t.shape[0], c = t.shape[1], cp = roundUp(c, lanes);
    for (int64_t i = 0; i < r; ++i)
      store(i * cp, t.data.data() + i * c, c);
    break;
  }
  case PackLayout::Transposed:
    transposeTiles(t.data.data(), t.shape[0], t.shape[1], lanes, store);
    break;
  case PackLayout::TransposedBatched: {
    int64_t n = t.shape[1], k = t.shape[2];
    int64_t per = packedFloats({n, k}, PackLayout::Transposed, lanes);
    for (int64_t e = 0; e < t.shape[0]; ++e)
      transposeTiles(t.data.data() + e * n * k, n, k, lanes,
                     [&](int64_t at, const float *v, int64_t cnt) { store(e * per + at, v, cnt); });
    break;
  }
  case PackLayout::TransposedBatchedGLU: {
    // gate and up rows interleaved a vector at a time
    int64_t i = t.shape[1] / 2, k = t.shape[2], ip = roundUp(i, lanes);
    int64_t per = packedFloats({2 * ip, k}, PackLayout::Transposed, lanes);
    std::vector<float> inter(2 * ip * k);
    for (int64_t e = 0; e < t.shape[0]; ++e) {
      std::fill(inter.begin(), inter.end(), 0.0f);
      const float *src = t.data.data() + e * 2 * i * k;
      for (int64_t half = 0; half < 2; ++half)
        for (int64_t r = 0; r < i; ++r) {
          int64_t dstRow = (r / lanes * 2 + half) * lanes + r % lanes;
          std::copy(src + (half * i + r) * k, src + (half * i + r + 1) * k,
                    inter.begin() + dstRow * k);
        }
      transposeTiles(inter.data(), 2 * ip, k, lanes,
                     [&](int64_t at, const float *v, int64_t cnt) { store(e * per + at, v, cnt); });
    }
    break;
  }
  }
}

void packTensor(const Tensor &t, PackFormat f, int64_t lanes, std::vector<float> &out) {
  size_t start = out.size();
  out.resize(start + packedFloats(t.shape, f, lanes), 0.0f);
  float *dst = out.data() + start;
  if (f.element == PackElement::F16) {
    // the float32 order, each element rounded to half precision
    auto *h = reinterpret_cast<uint16_t *>(dst);
    packFloatLayout(t, f.layout, lanes, [h](int64_t at, const float *v, int64_t n) {
      floatsToHalves(v, static_cast<size_t>(n), h + at);
    });
    return;
  }
  if (f.element == PackElement::Q8) {
    packQ8(t, f.layout, lanes, dst);
    return;
  }
  if (f.element == PackElement::Q8C) { // Transposed [n, k]
    int64_t n = t.shape[0], k = t.shape[1], np = roundUp(n, lanes);
    std::vector<int8_t> q;
    quantizeRows(t, q, dst);
    auto *bytes = reinterpret_cast<int8_t *>(dst + np);
    for (int64_t t0 = 0; t0 < np; t0 += denseTile(lanes)) {
      int64_t w = std::min(denseTile(lanes), np - t0);
      for (int64_t c = 0; c < w && t0 + c < n; ++c)
        for (int64_t kk = 0; kk < k; ++kk)
          bytes[t0 * k + kk * w + c] = q[(t0 + c) * k + kk];
    }
    return;
  }
  if (iblk::isIntBlocks(f.element)) { // checked by canPack
    IntBlocks tmp;
    const IntBlocks *b = intBlocksFor(t, f.element, tmp);
    packIntTiles(iblk::format(f.element), t.shape[0], t.shape[1], *b, lanes, dst);
    return;
  }
  packFloatLayout(t, f.layout, lanes,
                  [dst](int64_t at, const float *v, int64_t n) { std::copy(v, v + n, dst + at); });
}

// Element (row, col) of `t` viewed as rows x cols (transposed: W^T).
static float at(const Tensor &t, bool transposed, int64_t r, int64_t c) {
  return transposed ? t.data[c * t.shape[1] + r] : t.data[r * t.shape[1] + c];
}

Occupancy blockOccupancy(const Tensor &t, bool transposed, int64_t lanes) {
  int64_t rows = transposed ? t.shape[1] : t.shape[0];
  int64_t cols = transposed ? t.shape[0] : t.shape[1];
  int64_t chunks = roundUp(cols, lanes) / lanes;
  Occupancy occ(rows, std::vector<bool>(chunks, false));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      if (at(t, transposed, r, c) != 0.0f)
        occ[r][c / lanes] = true;
  return occ;
}

int64_t countBlocks(const Occupancy &occ) {
  int64_t n = 0;
  for (const auto &row : occ)
    for (bool b : row)
      n += b;
  return n;
}

double zeroFraction(const Occupancy &occ) {
  int64_t total = occ.empty() ? 0 : occ.size() * occ.front().size();
  return total ? 1.0 - static_cast<double>(countBlocks(occ)) / total : 0.0;
}

void packBlocks(const Tensor &t, bool transposed, const Occupancy &occ, int64_t tileChunks,
                int64_t lanes, std::vector<float> &out) {
  int64_t cols = transposed ? t.shape[0] : t.shape[1];
  int64_t chunks = occ.empty() ? 0 : occ.front().size();
  for (int64_t c0 = 0; c0 < chunks; c0 += tileChunks)
    for (size_t r = 0; r < occ.size(); ++r)
      for (int64_t c = c0; c < std::min(chunks, c0 + tileChunks); ++c) {
        if (!occ[r][c])
          continue;
        for (int64_t l = 0; l < lanes; ++l) {
          int64_t col = c * lanes + l;
          out.push_back(col < cols ? at(t, transposed, r, col) : 0.0f);
        }
      }
}

void quantizeRows(const Tensor &t, std::vector<int8_t> &q, float *scales) {
  int64_t n = t.shape[0], k = t.shape[1];
  q.assign(n * k, 0);
  for (int64_t r = 0; r < n; ++r) {
    const float *row = t.data.data() + r * k;
    float m = 0.0f; // of the finite values (liquidc warned about the others)
    for (int64_t i = 0; i < k; ++i)
      if (std::isfinite(row[i]))
        m = std::max(m, std::fabs(row[i]));
    float scale = m / 127.0f;
    scales[r] = scale;
    if (scale == 0.0f)
      continue; // a zero row (or one of values below 127 denormals)
    for (int64_t i = 0; i < k; ++i) // NaN -> 0, +-inf -> +-127
      q[r * k + i] = std::isnan(row[i]) ? 0
                     : static_cast<int8_t>(std::clamp(std::nearbyint(row[i] / scale), -127.0f, 127.0f));
  }
}

void packBlocksQ8C(const Tensor &t, const Occupancy &occ, int64_t tileChunks, int64_t lanes,
                   std::vector<float> &out) {
  int64_t n = t.shape[0], k = t.shape[1], np = roundUp(n, lanes);
  int64_t chunks = np / lanes, start = static_cast<int64_t>(out.size());
  out.resize(start + q8c::blockFloats(np, countBlocks(occ), lanes), 0.0f);
  std::vector<int8_t> q;
  quantizeRows(t, q, out.data() + start);
  auto *bytes = reinterpret_cast<int8_t *>(out.data() + start + np);
  for (int64_t c0 = 0; c0 < chunks; c0 += tileChunks)
    for (int64_t r = 0; r < k; ++r) // the inputs: rows of W^T
      for (int64_t c = c0; c < std::min(chunks, c0 + tileChunks); ++c) {
        if (!occ[r][c])
          continue;
        for (int64_t l = 0; l < lanes; ++l, ++bytes)
          if (c * lanes + l < n)
            *bytes = q[(c * lanes + l) * k + r];
      }
}

void quantizeQ8(const Tensor &t, std::vector<int8_t> &q, std::vector<float> &scales) {
  if (!t.q8.empty()) {
    q = t.q8;
    scales = t.q8Scales;
    return;
  }
  // ggml's Q8_0 rule, as the GGUF writer applies it
  size_t blocks = t.data.size() / kQ8_0Block;
  std::vector<uint8_t> raw(blocks * kQ8_0BlockBytes);
  quantizeQ8_0(t.data.data(), t.data.size(), raw.data());
  q.resize(blocks * kQ8_0Block);
  scales.resize(blocks);
  unpackQ8_0(raw.data(), t.data.size(), q.data(), scales.data());
}

Tensor concatTensors(const std::vector<const Tensor *> &parts, int64_t dim) {
  Tensor r;
  r.shape = parts.front()->shape;
  r.shape[dim] = 0;
  for (const Tensor *p : parts)
    r.shape[dim] += p->shape[dim];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= r.shape[i];
  for (size_t i = dim + 1; i < r.shape.size(); ++i) inner *= r.shape[i];
  r.data.reserve(r.numel());
  bool q8 = dim + 1 < static_cast<int64_t>(r.shape.size());
  bool blocks = q8;
  for (const Tensor *p : parts) {
    q8 = q8 && !p->q8.empty();
    const IntBlocks &a = p->blocks, &f = parts.front()->blocks;
    blocks = blocks && !a.empty() && a.bits == f.bits && a.block == f.block && a.zero == f.zero &&
             a.isSigned == f.isSigned && a.min.empty() == f.min.empty() && a.super == f.super &&
             a.subSigned == f.subSigned;
  }
  if (blocks) {
    const IntBlocks &f = parts.front()->blocks;
    r.blocks.bits = f.bits, r.blocks.block = f.block, r.blocks.zero = f.zero;
    r.blocks.isSigned = f.isSigned;
    r.blocks.super = f.super, r.blocks.subSigned = f.subSigned;
  }
  // elements [o * n, (o + 1) * n) of `from` appended to `to` (none if it is empty)
  auto append = [](auto &to, const auto &from, int64_t o, int64_t n) {
    if (!from.empty())
      to.insert(to.end(), from.begin() + o * n, from.begin() + (o + 1) * n);
  };
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor *p : parts) {
      int64_t chunk = p->shape[dim] * inner;
      r.data.insert(r.data.end(), p->data.begin() + o * chunk, p->data.begin() + (o + 1) * chunk);
      if (q8) {
        r.q8.insert(r.q8.end(), p->q8.begin() + o * chunk, p->q8.begin() + (o + 1) * chunk);
        r.q8Scales.insert(r.q8Scales.end(), p->q8Scales.begin() + o * chunk / 32,
                          p->q8Scales.begin() + (o + 1) * chunk / 32);
      }
      if (blocks) {
        const IntBlocks &a = p->blocks;
        int64_t bc = chunk / a.block;
        append(r.blocks.q, a.q, o, chunk);
        append(r.blocks.scale, a.scale, o, bc);
        append(r.blocks.min, a.min, o, bc);
        append(r.blocks.subScale, a.subScale, o, bc);
        append(r.blocks.subMin, a.subMin, o, bc);
        if (a.super) {
          append(r.blocks.superScale, a.superScale, o, chunk / a.super);
          append(r.blocks.superMin, a.superMin, o, chunk / a.super);
        }
      }
    }
  return r;
}

Tensor mulTensors(const Tensor &a, const Tensor &b) {
  Tensor r;
  r.shape = a.shape;
  r.data.resize(a.data.size());
  for (size_t i = 0; i < a.data.size(); ++i)
    r.data[i] = a.data[i] * b.data[i];
  return r;
}

static float apply(MapFn fn, float x) {
  switch (fn) {
  case MapFn::Softplus: // torch.nn.Softplus(beta=1, threshold=20)
    return x > 20.0f ? x : static_cast<float>(std::log1p(std::exp(static_cast<double>(x))));
  case MapFn::Relu:
    return x > 0.0f ? x : 0.0f;
  case MapFn::Abs:
    return std::fabs(x);
  case MapFn::Neg:
    return -x;
  }
  return x;
}

Tensor mapTensor(const Tensor &a, MapFn fn) {
  Tensor r;
  r.shape = a.shape;
  r.data.resize(a.data.size());
  for (size_t i = 0; i < a.data.size(); ++i)
    r.data[i] = apply(fn, a.data[i]);
  return r;
}

uint64_t fnv1a(const std::string &s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

} // namespace liquid
