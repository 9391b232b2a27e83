//===- LMIntBlocks.cpp - products from integer-block weights ---------------===//
//
// liquid.linear with integer-block weights (PackedFormat.h, iblk: the GGUF
// 4-, 5- and 6-bit types as stored, and q8 for int8 x int8 products), two
// ways:
//  - float inputs: each group of 4 inputs' values is unpacked from one
//    32-bit lane per column (shifts and masks), converted to float and
//    multiplied by the inputs; per block, the sums are scaled (and the
//    block's minimum times the inputs' sum added);
//  - int8_inputs: the rows are first quantized to int8 per block of 32 as
//    ggml quantizes activations for its Q8_0 dot products (d = max|x| / 127
//    kept in half precision, q = round(x / d), ties away from zero; all
//    threads share the rows, then meet at a barrier); per block, one u8 x s8
//    dot product a group of 4 inputs (the target's instruction, e.g.
//    AVX512-VNNI vpdpbusd, or the same integer arithmetic spelled out) sums
//    in int32, which is converted once a block: exact, so both spellings give
//    identical results.
//
//===----------------------------------------------------------------------===//
#include "LMEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::liquid;
using namespace mlir::liquid::lm;
namespace iblk = ::liquid::iblk;

namespace {
/// Integer vectors of the emitter's width.
struct IntVec {
  VecBuilder &vb;
  VectorType i32, i8x4; ///< lanes x i32, and the same bits as 4 * lanes x i8
  explicit IntVec(VecBuilder &vb)
      : vb(vb), i32(VectorType::get({vb.lanes}, vb.b.getI32Type())),
        i8x4(VectorType::get({4 * vb.lanes}, vb.b.getI8Type())) {}
  Value c32(int32_t v) {
    return arith::ConstantOp::create(vb.b, vb.loc, DenseElementsAttr::get(i32, ArrayRef<int32_t>{v}));
  }
  Value shr(Value v, int s) { return s ? arith::ShRUIOp::create(vb.b, vb.loc, v, c32(s)) : v; }
  Value sar(Value v, int s) { return s ? arith::ShRSIOp::create(vb.b, vb.loc, v, c32(s)) : v; }
  Value shl(Value v, int s) { return s ? arith::ShLIOp::create(vb.b, vb.loc, v, c32(s)) : v; }
  Value band(Value v, int32_t m) { return arith::AndIOp::create(vb.b, vb.loc, v, c32(m)); }
  Value asBytes(Value v) { return vector::BitCastOp::create(vb.b, vb.loc, i8x4, v); }
  Value asWords(Value v) { return vector::BitCastOp::create(vb.b, vb.loc, i32, v); }
  Value toFloat(Value v) { return arith::SIToFPOp::create(vb.b, vb.loc, vb.v8, v); }
};
} // namespace

void LMEmitter::quantizeRows(Buf x, int64_t k, Value nRows, Value first, int64_t q) {
  IntVec iv(*this);
  int64_t rowFloats = int8RowFloats(k), per = 32 / lanes; // vectors a block
  auto i8v = VectorType::get({lanes}, b.getI8Type());
  auto f32q = VectorType::get({lanes / 4}, b.getF32Type());
  auto [lo, hi] = threadShare(nRows);
  dloop(lo, hi, 1, {}, [&](Value r, ValueRange) -> SmallVector<Value> {
    Value xr = muli(addi(r, first), k), qr = addi(muli(r, rowFloats), idx(q));
    loop(0, k / 32, 1, {}, [&](Value blk, ValueRange) -> SmallVector<Value> {
      Value x0 = addi(xr, muli(blk, 32));
      SmallVector<Value> xs;
      Value amax = splat(0.0f);
      for (int64_t v = 0; v < per; ++v) {
        xs.push_back(ld(x, x0, v * lanes));
        amax = arith::MaximumFOp::create(b, loc, amax, math::AbsFOp::create(b, loc, xs.back()));
      }
      Value m = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF, amax);
      Value d = arith::DivFOp::create(b, loc, m, scalar(127.0f));
      Value zero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, d, scalar(0.0f));
      Value inv = arith::SelectOp::create(b, loc, zero, scalar(0.0f),
                                          arith::DivFOp::create(b, loc, scalar(1.0f), d));
      // the scale kept in half precision, as ggml's Q8_0 blocks keep it
      Value dh = roundHalf(d);
      memref::StoreOp::create(b, loc, dh, aMem, ValueRange{addi(addi(qr, idx(k / 4)), blk)});
      Value sum16 = iv.c32(0);
      for (int64_t v = 0; v < per; ++v) {
        Value qv = arith::FPToSIOp::create(
            b, loc, iv.i32, math::RoundOp::create(b, loc, mul(xs[v], bcast(inv)))); // ties away
        Value bytes = arith::TruncIOp::create(b, loc, i8v, qv);
        vector::StoreOp::create(b, loc, vector::BitCastOp::create(b, loc, f32q, bytes), aMem,
                                ValueRange{addi(addi(qr, muli(blk, 8)), idx(v * lanes / 4))});
        sum16 = arith::AddIOp::create(b, loc, sum16, qv);
        if ((v + 1) * lanes % 16 == 0) { // the int32 sum of 16 values, as a float (exact)
          Value s = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum16);
          Value at = addi(addi(qr, idx(k / 4 + k / 32 + (v * lanes) / 16)), muli(blk, 2));
          memref::StoreOp::create(b, loc, arith::SIToFPOp::create(b, loc, b.getF32Type(), s),
                                  aMem, ValueRange{at});
          sum16 = iv.c32(0);
        }
      }
      return {};
    });
    return {};
  });
}

/// acc + the dot products of the 4-byte groups of `u8` (unsigned) and `s8`
/// (signed) in each 32-bit lane: the target's instruction, or the same
/// integer arithmetic spelled out (exact either way).
static Value dot4(VecBuilder &vb, IntVec &iv, const std::string &intrinsic, Value acc, Value u8,
                  Value s8) {
  if (!intrinsic.empty())
    return LLVM::CallIntrinsicOp::create(vb.b, vb.loc, iv.i32,
                                         StringAttr::get(vb.b.getContext(), intrinsic),
                                         ValueRange{acc, u8, s8})
        .getResult(0);
  Value a = iv.asWords(u8), s = iv.asWords(s8);
  for (int t = 0; t < 4; ++t) {
    Value at = t == 3 ? iv.shr(a, 24) : iv.band(iv.shr(a, 8 * t), 0xFF);
    Value st = iv.sar(iv.shl(s, 24 - 8 * t), 24);
    acc = arith::AddIOp::create(vb.b, vb.loc, acc, arith::MulIOp::create(vb.b, vb.loc, at, st));
  }
  return acc;
}

void LMEmitter::tileProductIntBlocks(PackElement e, Buf x, function_ref<Value(Value)> xRow,
                                     Value nRows, int64_t k, Value byteBase, int64_t width,
                                     int64_t q,
                                     function_ref<void(Value, int64_t, ArrayRef<Value>)> store) {
  const iblk::Format f = iblk::format(e);
  const bool ints = q >= 0;
  IntVec iv(*this);
  int64_t pw = ::liquid::roundUp(width, lanes), tn = pw / lanes;
  int64_t sup = iblk::superInputs(f), ns = k / sup, per = sup / f.block;
  int64_t blockBytes = iblk::blockBytes(f, pw), valOff = iblk::scaleBytes(f, pw);
  int64_t rowFloats = int8RowFloats(k), hb = f.bits - 4; // hb: high bits a value (5, 6 bits)
  // the weight bits of vector j of group-load g (4 inputs, or 8 for 4-bit)
  auto ldBytes = [&](Value at) {
    return vector::LoadOp::create(b, loc, iv.i8x4, wByte, ValueRange{at}).getResult();
  };
  auto ldGroup = [&](Value blkBase, int64_t g, int64_t j) {
    return ldBytes(addi(blkBase, idx(valOff + g * pw * 4 + j * lanes * 4)));
  };
  // the 4-, 5- and 6-bit values of groups 2p and 2p + 1 of vector j, one a
  // byte (the nibbles, and the high bits moved above them)
  auto pairWords = [&](Value blkBase, int64_t p, int64_t j) -> std::pair<Value, Value> {
    Value words = iv.asWords(ldGroup(blkBase, p, j));
    Value lo = iv.band(words, 0x0F0F0F0F), hi = iv.band(iv.shr(words, 4), 0x0F0F0F0F);
    if (hb > 0) {
      Value hw = iv.asWords(ldBytes(addi(blkBase, idx(valOff + f.block * pw / 2 + j * lanes * 4))));
      int32_t mask = hb == 1 ? 0x01010101 : 0x03030303;
      auto high = [&](int64_t g) { return iv.shl(iv.band(iv.shr(hw, int(hb * g)), mask), 4); };
      lo = arith::OrIOp::create(b, loc, lo, high(2 * p));
      hi = arith::OrIOp::create(b, loc, hi, high(2 * p + 1));
    }
    return {lo, hi};
  };
  auto ldF32 = [&](Value byteAt) { // a vector of floats at a byte offset of the blob
    Value fi = arith::DivUIOp::create(b, loc, byteAt, idx(4));
    return vector::LoadOp::create(b, loc, v8, wMem, ValueRange{fi}).getResult();
  };
  auto ldHalf = [&](Value byteAt) { // a vector of halves at a byte offset, as floats
    Value hi = arith::DivUIOp::create(b, loc, byteAt, idx(2));
    Value h = vector::LoadOp::create(b, loc, VectorType::get({lanes}, b.getF16Type()), wHalf,
                                     ValueRange{hi});
    return extHalf(h);
  };
  auto ldSub = [&](Value byteAt, bool isSigned) { // a vector of 8-bit integers, as floats
    Value v = vector::LoadOp::create(b, loc, VectorType::get({lanes}, b.getI8Type()), wByte,
                                     ValueRange{byteAt});
    Value w = isSigned ? arith::ExtSIOp::create(b, loc, iv.i32, v).getResult()
                       : arith::ExtUIOp::create(b, loc, iv.i32, v).getResult();
    return iv.toFloat(w);
  };
  // rows [r0, r0 + nr) x tile vectors [j0, j0 + sn)
  auto block = [&](Value r0, int64_t nr, int64_t j0, int64_t sn) {
    SmallVector<Value> xrow, qrow;
    for (int64_t r = 0; r < nr; ++r) {
      xrow.push_back(xRow(addi(r0, idx(r))));
      if (ints)
        qrow.push_back(addi(muli(addi(r0, idx(r)), rowFloats), idx(q)));
    }
    // one block of inputs; dS / dM: the K formats' super-block scales
    auto oneBlock = [&](Value blkBase, Value k0, ArrayRef<Value> dS, ArrayRef<Value> dM,
                        ValueRange a) -> SmallVector<Value> {
      // per row: the float (or int8) inputs of this block and their sum
      SmallVector<Value> part(nr * sn), xsum(nr), dx(nr);
      if (ints) {
        SmallVector<Value> iacc(nr * sn, iv.c32(0));
        auto xGroup = [&](int64_t r, int64_t g) { // 4 int8 inputs, broadcast
          Value at = addi(addi(qrow[r], arith::DivUIOp::create(b, loc, k0, idx(4))), idx(g));
          Value w = arith::BitcastOp::create(b, loc, b.getI32Type(),
                                             memref::LoadOp::create(b, loc, aMem, ValueRange{at}));
          return iv.asBytes(vector::BroadcastOp::create(b, loc, iv.i32, w));
        };
        for (int64_t g = 0; g < f.block / 4; g += (f.bits < 8 ? 2 : 1)) {
          SmallVector<Value> xg, xh;
          for (int64_t r = 0; r < nr; ++r) {
            xg.push_back(xGroup(r, g));
            if (f.bits < 8)
              xh.push_back(xGroup(r, g + 1));
          }
          for (int64_t j = 0; j < sn; ++j) {
            Value lo, hi;
            if (f.bits < 8) {
              auto [l, h] = pairWords(blkBase, g / 2, j0 + j);
              lo = iv.asBytes(l), hi = iv.asBytes(h);
            } else {
              lo = ldGroup(blkBase, g, j0 + j);
              if (f.isSigned) // int8 -> u8 + 128
                lo = iv.asBytes(arith::XOrIOp::create(b, loc, iv.asWords(lo), iv.c32(int32_t(0x80808080))));
            }
            for (int64_t r = 0; r < nr; ++r) {
              Value &ac = iacc[r * sn + j];
              ac = dot4(*this, iv, int8Dot, ac, lo, xg[r]);
              if (f.bits < 8)
                ac = dot4(*this, iv, int8Dot, ac, hi, xh[r]);
            }
          }
        }
        for (int64_t r = 0; r < nr; ++r) {
          // the inputs' scale (per 32) and sum (per 16) of this block
          Value ab = arith::DivUIOp::create(b, loc, k0, idx(32));
          dx[r] = memref::LoadOp::create(b, loc, aMem, ValueRange{addi(addi(qrow[r], idx(k / 4)), ab)});
          Value s16 = addi(addi(qrow[r], idx(k / 4 + k / 32)), arith::DivUIOp::create(b, loc, k0, idx(16)));
          xsum[r] = memref::LoadOp::create(b, loc, aMem, ValueRange{s16});
          if (f.block == 32)
            xsum[r] = arith::AddFOp::create(b, loc, xsum[r],
                                            memref::LoadOp::create(b, loc, aMem, ValueRange{addi(s16, idx(1))}));
          int64_t z = f.isSigned ? 128 : f.zero;
          for (int64_t j = 0; j < sn; ++j) {
            Value p = iv.toFloat(iacc[r * sn + j]);
            if (z)
              p = sub(p, bcast(arith::MulFOp::create(b, loc, xsum[r], scalar(float(z)))));
            part[r * sn + j] = p;
          }
        }
      } else {
        SmallVector<Value> fz(nr * sn, splat(0.0f));
        auto xAt = [&](int64_t r, int64_t i) { return bcast(ldScalar(x, addi(xrow[r], k0), i)); };
        int64_t perLoad = f.bits < 8 ? 8 : 4; // inputs a group load
        for (int64_t g = 0; g < f.block / perLoad; ++g) {
          SmallVector<Value> xs; // [i][r]
          for (int64_t i = 0; i < perLoad; ++i)
            for (int64_t r = 0; r < nr; ++r)
              xs.push_back(xAt(r, g * perLoad + i));
          for (int64_t j = 0; j < sn; ++j) {
            Value words, lohi[2];
            if (hb > 0)
              std::tie(lohi[0], lohi[1]) = pairWords(blkBase, g, j0 + j);
            else
              words = iv.asWords(ldGroup(blkBase, g, j0 + j));
            for (int64_t i = 0; i < perLoad; ++i) {
              int t = i % 4, s = 8 * t + (i >= 4 ? 4 : 0);
              Value qv = f.isSigned     ? iv.sar(iv.shl(words, 24 - 8 * t), 24)
                         : hb > 0      ? (t == 3 ? iv.shr(lohi[i / 4], 24)
                                                 : iv.band(iv.shr(lohi[i / 4], 8 * t), 0xFF))
                         : f.bits == 4 ? iv.band(iv.shr(words, s), 0xF)
                         : t == 3      ? iv.shr(words, 24)
                                       : iv.band(iv.shr(words, s), 0xFF);
              if (f.zero)
                qv = arith::SubIOp::create(b, loc, qv, iv.c32(f.zero));
              Value wf = iv.toFloat(qv);
              for (int64_t r = 0; r < nr; ++r)
                fz[r * sn + j] = add(mul(wf, xs[i * nr + r]), fz[r * sn + j]);
            }
          }
        }
        part = fz;
        if (f.hasMin)
          for (int64_t r = 0; r < nr; ++r)
            xsum[r] = sumChunks(f.block, addi(xrow[r], k0),
                                [&](Value dyn, int64_t off) { return ld(x, dyn, off); });
      }
      SmallVector<Value> next(a.begin(), a.end());
      for (int64_t j = 0; j < sn; ++j) {
        Value col = idx((j0 + j) * lanes);
        Value scale, mn;
        if (f.super) { // the block's integer scales times the super-block's halves
          scale = mul(dS[j], ldSub(addi(blkBase, col), f.subSigned));
          if (f.hasMin)
            mn = mul(dM[j], ldSub(addi(blkBase, addi(col, idx(pw))), false));
        } else {
          scale = f.halfScale ? ldHalf(addi(blkBase, idx((j0 + j) * lanes * 2)))
                              : ldF32(addi(blkBase, idx((j0 + j) * lanes * 4)));
          if (f.hasMin)
            mn = ldF32(addi(blkBase, idx(4 * pw + (j0 + j) * lanes * 4)));
        }
        for (int64_t r = 0; r < nr; ++r) {
          Value s = ints ? mul(scale, bcast(dx[r])) : scale;
          Value &o = next[r * sn + j];
          o = add(mul(part[r * sn + j], s), o);
          if (mn) // + min * (the inputs' sum; int8: times their scale)
            o = add(mul(mn, bcast(ints ? arith::MulFOp::create(b, loc, xsum[r], dx[r]).getResult()
                                       : xsum[r])),
                    o);
        }
      }
      return next;
    };
    SmallVector<Value> init(nr * sn, splat(0.0f));
    SmallVector<Value> acc = loop(0, ns, 1, init, [&](Value sv, ValueRange a) {
      Value supBase = addi(byteBase, muli(sv, iblk::superBytes(f, pw)));
      Value k0 = muli(sv, sup);
      if (!f.super)
        return oneBlock(supBase, k0, {}, {}, a);
      SmallVector<Value> dS, dM; // the header's halves, as floats
      for (int64_t j = 0; j < sn; ++j) {
        dS.push_back(ldHalf(addi(supBase, idx((j0 + j) * lanes * 2))));
        if (f.hasMin)
          dM.push_back(ldHalf(addi(supBase, idx(2 * pw + (j0 + j) * lanes * 2))));
      }
      Value first = addi(supBase, idx(iblk::headerBytes(f, pw)));
      return loop(0, per, 1, a, [&](Value bi, ValueRange a2) {
        return oneBlock(addi(first, muli(bi, blockBytes)), addi(k0, muli(bi, f.block)), dS, dM, a2);
      });
    });
    for (int64_t r = 0; r < nr; ++r)
      store(addi(r0, idx(r)), j0, ArrayRef<Value>(acc).slice(r * sn, sn));
  };
  constexpr int64_t kRows = 4;
  Value full = muli(arith::DivUIOp::create(b, loc, nRows, idx(kRows)), kRows);
  for (int64_t j0 = 0; j0 < tn; j0 += 2)
    dloop(idx(0), full, kRows, {}, [&](Value r0, ValueRange) -> SmallVector<Value> {
      block(r0, kRows, j0, std::min<int64_t>(2, tn - j0));
      return {};
    });
  dloop(full, nRows, 1, {}, [&](Value r, ValueRange) -> SmallVector<Value> {
    for (int64_t j0 = 0; j0 < tn; j0 += 4)
      block(r, 1, j0, std::min<int64_t>(4, tn - j0));
    return {};
  });
}
