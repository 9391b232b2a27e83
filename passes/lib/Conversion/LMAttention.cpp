//===- LMAttention.cpp - liquid.attention -----------------------------------===//
//
// Per-head RMSNorm and RoPE, the KV cache append, causal GQA softmax. On the
// LLVM path every thread takes a share: the cache rows, then (after a
// barrier) the blocks of queries (LMAttentionQueries.cpp), each with its own
// scratch; every block is computed exactly as one thread would.
//
//===----------------------------------------------------------------------===//
#include "LMEmitter.h"

using namespace mlir;
using namespace mlir::liquid;
using namespace mlir::liquid::lm;

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
  int64_t group = heads / kvh, perThread = attnThreadFloats(group, hd);
  Value base = threaded ? addi(idx(scores.off), muli(tid, perThread)) : idx(scores.off);
  // Blocks of blockRows rows when the call has that many, else one row a block.
  int64_t blockRows = attnBlockRows(group);
  auto attend = [&](int64_t r) {
    AttnBlock blk{r, group, hd, nc, kvw, base, kc, vc, y};
    attendBlocks(blk, forShare, [&](Value qOff, Value p) {
      SmallVector<Value> xs = normRope(q, qOff, qn, p);
      for (Value &x : xs)
        x = mul(x, scale);
      return xs;
    });
  };
  if (blockRows == 1) {
    attend(1);
  } else {
    Value many = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, rows, idx(blockRows));
    auto ifOp = scf::IfOp::create(b, loc, many, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    attend(blockRows);
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    attend(1);
  }
  return success();
}
