//===- LMAttention.cpp - liquid.attention -----------------------------------===//
//
// Per-head RMSNorm and RoPE, the KV cache append, causal GQA softmax. On the
// LLVM path every thread takes a share: the cache rows, then (after a
// barrier) the (query row, head) pairs, each with its own scores scratch;
// every pair is computed exactly as one thread would.
//
//===----------------------------------------------------------------------===//
#include "LMEmitter.h"

using namespace mlir;
using namespace mlir::liquid;
using namespace mlir::liquid::lm;

Value LMEmitter::expScores(Buf scores, Value base, Value end, Value mx) {
  auto i32 = VectorType::get({lanes}, b.getI32Type());
  SmallVector<int32_t> iota(lanes);
  for (int64_t l = 0; l < lanes; ++l)
    iota[l] = static_cast<int32_t>(l);
  Value lane = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i32, ArrayRef<int32_t>(iota)));
  auto asI32 = [&](Value ix) {
    Value s = arith::IndexCastOp::create(b, loc, b.getI32Type(), ix);
    return vector::BroadcastOp::create(b, loc, i32, s).getResult();
  };
  Value endV = asI32(end), mxV = bcast(mx);
  Value stop = muli(arith::DivUIOp::create(b, loc, addi(end, idx(lanes - 1)), idx(lanes)),
                    idx(lanes));
  Value acc = dloop(idx(0), stop, lanes, {splat(0.0f)}, [&](Value j, ValueRange a) {
    Value at = addi(base, j);
    Value e = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, ld(scores, at, 0), mxV));
    Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                        arith::AddIOp::create(b, loc, lane, asI32(j)), endV);
    e = arith::SelectOp::create(b, loc, valid, e, splat(0.0f));
    st(e, scores, at, 0);
    return SmallVector<Value>{add(a[0], e)};
  })[0];
  return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc);
}

LogicalResult LMEmitter::emitAttention(AttentionOp op, bool threaded) {
  int64_t heads = op.getHeads(), kvh = op.getKvHeads(), hd = op.getHeadDim(), half = hd / 2;
  // (emitSerial narrowed the vectors to divide head_dim / 2)
  auto sb = module.lookupSymbol<StateBufferOp>(op.getStateAttr().getAttr());
  int64_t ctx = cast<RankedTensorType>(sb.getType()).getDimSize(1), kvw = kvh * hd;
  double eps = op.getEpsilon().convertToDouble();
  // RoPE's cos and sin tables for the cache length (liquid-pack-weights).
  ArrayRef<int64_t> tables = packer.tables(op);
  if (tables.size() != 2)
    return op.emitOpError("has no RoPE tables; run liquid-pack-weights first");
  Buf cosB{wMem, tables[0]}, sinB{wMem, tables[1]};
  Buf q = act(op.getQ()), k = act(op.getK()), v = act(op.getV()), y = act(op.getResult());
  Buf qn = weight(op.getQNorm(), PackLayout::Vector), kn = weight(op.getKNorm(), PackLayout::Vector);
  int64_t kOff = stateOffset(op.getStateAttr());
  Buf kc{aMem, kOff}, vc{aMem, kOff + ctx * kvw};
  Buf scores{aMem, scratch(op)};
  int64_t scoreStride = alignTo(ctx + kMaxLanes, kSlotAlign); // one thread's scores
  int64_t nc = hd / lanes;
  // [0, count), or this thread's share of it.
  auto forShare = [&](Value count, function_ref<void(Value)> body) {
    auto [lo, hi] = threaded ? threadShare(count) : std::pair<Value, Value>(idx(0), count);
    dloop(lo, hi, 1, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
      body(i);
      return {};
    });
  };

  // Normalizes one head (hd floats at `base` of `src`) with `w` and rotates it
  // for position p: returns hd / lanes vectors.
  auto normRope = [&](Buf src, Value base, Buf w, Value p) {
    SmallVector<Value> xs;
    Value acc = splat(0.0f);
    for (int64_t c = 0; c < nc; ++c) {
      xs.push_back(ld(src, base, c * lanes));
      acc = add(acc, mul(xs.back(), xs.back()));
    }
    Value ss = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc);
    Value r = bcast(rsqrtOfMean(ss, hd, eps));
    for (int64_t c = 0; c < nc; ++c)
      xs[c] = mul(mul(xs[c], r), ld(w, Value(), c * lanes));
    Value trow = muli(p, ::liquid::roundUp(half, packer.lanes)); // Rows layout
    SmallVector<Value> out(nc);
    for (int64_t c = 0; c < nc / 2; ++c) {
      Value co = ld(cosB, trow, c * lanes), si = ld(sinB, trow, c * lanes);
      Value x1 = xs[c], x2 = xs[c + nc / 2];
      out[c] = sub(mul(x1, co), mul(x2, si));
      out[c + nc / 2] = add(mul(x2, co), mul(x1, si));
    }
    return out;
  };

  // 1. Append the new keys (normed, rotated) and values to the cache.
  forShare(rows, [&](Value t) {
    Value p = addi(pos, t);
    for (int64_t g = 0; g < kvh; ++g) {
      Value src = addi(muli(t, kvw), idx(g * hd)), dst = addi(muli(p, kvw), idx(g * hd));
      SmallVector<Value> kr = normRope(k, src, kn, p);
      for (int64_t c = 0; c < nc; ++c) {
        st(kr[c], kc, dst, c * lanes);
        st(ld(v, src, c * lanes), vc, dst, c * lanes);
      }
    }
  });
  if (threaded)
    barrier(); // every row's keys are in the cache before any query reads them
  // 2. Each query attends to cache rows 0 .. pos + t.
  if (auto hk = readAttr<HalideKernelAttrHelper>(op)) {
    if (threaded)
      return op.emitOpError("a Halide attention runs on thread 0");
    if (hd % (2 * packer.lanes))
      return op.emitOpError() << "a Halide attention needs head_dim a multiple of "
                              << 2 * packer.lanes;
    callExternal(module, hk.getValue(),
                 {address(q), address(kc), address(vc), address(y), address(qn), address(cosB),
                  address(sinB), rows, pos});
    return success();
  }
  Value scale = splat(static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd))));
  Value sbase = threaded ? addi(idx(scores.off), muli(tid, scoreStride)) : idx(scores.off);
  forShare(muli(rows, heads), [&](Value i) {
    Value t = arith::DivUIOp::create(b, loc, i, idx(heads));
    Value hq = arith::RemUIOp::create(b, loc, i, idx(heads));
    Value p = addi(pos, t), end = addi(p, idx(1));
    {
      Value g = arith::DivUIOp::create(b, loc, hq, idx(heads / kvh));
      Value gOff = muli(g, hd), qOff = addi(muli(t, heads * hd), muli(hq, hd));
      SmallVector<Value> qr = normRope(q, qOff, qn, p);
      for (Value &x : qr)
        x = mul(x, scale);
      Value negInf = scalar(-std::numeric_limits<float>::infinity());
      Value mx = dloop(idx(0), end, 1, {negInf}, [&](Value j, ValueRange a) -> SmallVector<Value> {
        Value row = addi(muli(j, kvw), gOff);
        Value acc = splat(0.0f);
        for (int64_t c = 0; c < nc; ++c)
          acc = add(acc, mul(qr[c], ld(kc, row, c * lanes)));
        Value s = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc);
        memref::StoreOp::create(b, loc, s, aMem, ValueRange{addi(j, sbase)});
        return {arith::MaximumFOp::create(b, loc, a[0], s)};
      })[0];
      // e_j = exp(s_j - max) a vector of keys at a time, in place (the
      // scratch has room for a vector past the last key; lanes past it
      // become 0), and their sum.
      Value sum = expScores({aMem, 0}, sbase, end, mx);
      SmallVector<Value> init(nc, splat(0.0f));
      SmallVector<Value> res = dloop(idx(0), end, 1, init, [&](Value j, ValueRange a) {
        Value eb = bcast(memref::LoadOp::create(b, loc, aMem, ValueRange{addi(j, sbase)}));
        Value row = addi(muli(j, kvw), gOff);
        SmallVector<Value> next;
        for (int64_t c = 0; c < nc; ++c)
          next.push_back(add(a[c], mul(eb, ld(vc, row, c * lanes))));
        return next;
      });
      Value inv = bcast(arith::DivFOp::create(b, loc, scalar(1.0f), sum));
      for (int64_t c = 0; c < nc; ++c)
        st(mul(res[c], inv), y, qOff, c * lanes);
    }
  });
  return success();
}
