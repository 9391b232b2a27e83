//===- LMMoE.cpp - liquid.moe_router, liquid.moe_experts --------------------===//
//
// Routing on thread 0; experts grouped by a counting sort, their products
// split across the threads.
//
//===----------------------------------------------------------------------===//
#include "LMEmitter.h"

using namespace mlir;
using namespace mlir::liquid;
using namespace mlir::liquid::lm;

LogicalResult LMEmitter::emitMoERouter(MoERouterOp op) {
  int64_t e = cast<RankedTensorType>(op.getRouter().getType()).getDimSize(0);
  int64_t h = cols(op.getInput()), k = op.getTopK(), ep = ::liquid::roundUp(e, lanes);
  Buf x = act(op.getInput()), idsOut = act(op.getExperts()), wOut = act(op.getWeights());
  Buf router = weight(op.getRouter(), PackLayout::Transposed);
  Buf bias = weight(op.getExpertBias(), PackLayout::Vector);
  Buf probs{aMem, scratch(op)}, sel{aMem, scratch(op) + slotFloats(alignTo(e, kMaxLanes))};
  bool softmax = op.getScore() == RouterScore::Softmax;
  double scaling = op.getScaling().convertToDouble();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto ldS = [&](Buf p, Value i) {
    return memref::LoadOp::create(b, loc, aMem, ValueRange{addi(i, idx(p.off))}).getResult();
  };
  auto stS = [&](Value v, Buf p, Value i) {
    memref::StoreOp::create(b, loc, v, aMem, ValueRange{addi(i, idx(p.off))});
  };
  Value negInf = scalar(-std::numeric_limits<float>::infinity());
  forRows([&](Value t) {
    Value xIdx = muli(t, h);
    // scores p (the router logits first, for softmax)
    matvecRow(x, xIdx, h, idx(router.off), e, [&](int64_t o, Value v) {
      st(softmax ? v : sigmoid(v), probs, Value(), o);
    });
    if (softmax) {
      Value mx = loop(0, e, 1, {negInf}, [&](Value i, ValueRange a) -> SmallVector<Value> {
        return {arith::MaximumFOp::create(b, loc, a[0], ldS(probs, i))};
      })[0];
      Value sum = loop(0, e, 1, {scalar(0.0f)}, [&](Value i, ValueRange a) -> SmallVector<Value> {
        Value ex = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, ldS(probs, i), mx));
        stS(ex, probs, i);
        return {arith::AddFOp::create(b, loc, a[0], ex)};
      })[0];
      Value inv = arith::DivFOp::create(b, loc, scalar(1.0f), sum);
      loop(0, e, 1, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
        stS(arith::MulFOp::create(b, loc, ldS(probs, i), inv), probs, i);
        return {};
      });
    }
    // selection scores p + bias
    chunks(ep, Value(), [&](Value d, int64_t o) {
      st(add(ld(probs, d, o), ld(bias, d, o)), sel, d, o);
    });
    // top-k by selection score (ties: the lowest expert id); weights from p
    Value sum = scalar(0.0f);
    SmallVector<Value> ws, chosen;
    for (int64_t j = 0; j < k; ++j) {
      SmallVector<Value> best =
          loop(0, e, 1, {negInf, idx(0)}, [&](Value i, ValueRange a) -> SmallVector<Value> {
            Value v = ldS(sel, i);
            Value better = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v, a[0]);
            return {arith::SelectOp::create(b, loc, better, v, a[0]),
                    arith::SelectOp::create(b, loc, better, i, a[1])};
          });
      stS(negInf, sel, best[1]);
      ws.push_back(ldS(probs, best[1]));
      chosen.push_back(best[1]);
      sum = arith::AddFOp::create(b, loc, sum, ws.back());
    }
    Value row = muli(t, k);
    for (int64_t j = 0; j < k; ++j) {
      Value w = ws[j];
      if (op.getNormalize())
        w = arith::DivFOp::create(b, loc, w, sum);
      Value o = addi(row, idx(j));
      stS(arith::MulFOp::create(b, loc, w, scalar(scaling)), wOut, o);
      Value id = arith::IndexCastOp::create(b, loc, i32, chosen[j]);
      stS(arith::BitcastOp::create(b, loc, f32, id), idsOut, o);
    }
  });
  return success();
}

LogicalResult LMEmitter::emitMoEExperts(MoEExpertsOp op) {
  auto gut = cast<RankedTensorType>(op.getGateUp().getType());
  int64_t e = gut.getDimSize(0), inner = gut.getDimSize(1) / 2, h = cols(op.getInput());
  int64_t k = cols(op.getExperts()), ip = ::liquid::roundUp(inner, lanes);
  int64_t guStride = ::liquid::packedFloats({e, 2 * inner, h}, PackLayout::TransposedBatchedGLU,
                                            lanes) / e; // (float32 and f16: in elements)
  int64_t downStride = ::liquid::packedFloats({h, inner}, PackLayout::Transposed, lanes);
  Buf x = act(op.getInput()), y = act(op.getResult());
  Buf idsIn = act(op.getExperts()), wIn = act(op.getWeights());
  auto [guLayout, downLayout] = expertLayouts(op);
  bool half = guLayout.element == PackElement::F16;
  bool q8 = guLayout.element == PackElement::Q8;
  if (q8) {
    PackFormat q8Tiles{PackLayout::Transposed, PackElement::Q8};
    guStride = ::liquid::packedFloats({2 * ip, h}, q8Tiles, lanes);
    downStride = ::liquid::packedFloats({h, inner}, q8Tiles, lanes);
  }
  int64_t gu = packer.lookup(op.getGateUp(), guLayout);
  int64_t down = packer.lookup(op.getDown(), downLayout);
  // scratch (MoEExpertsOp::getScratchSlots): per expert the start of its rows in the
  // dispatch list and a fill cursor, the list (row, weight), and the SwiGLU
  // activations of one expert's rows
  SmallVector<Buf, 5> slots;
  int64_t s = scratch(op);
  for (int64_t n : op.getScratchSlots(maxRows)) {
    slots.push_back({aMem, s});
    s += slotFloats(n);
  }
  Buf start = slots[0], cursor = slots[1], listRow = slots[2], listW = slots[3], hid = slots[4];
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  auto ldF = [&](Buf p, Value i) {
    return memref::LoadOp::create(b, loc, aMem, ValueRange{addi(i, idx(p.off))}).getResult();
  };
  auto stF = [&](Value v, Buf p, Value i) {
    memref::StoreOp::create(b, loc, v, aMem, ValueRange{addi(i, idx(p.off))});
  };
  auto ldI = [&](Buf p, Value i) -> Value {
    Value bits = arith::BitcastOp::create(b, loc, i32, ldF(p, i));
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), bits);
  };
  auto stI = [&](Value v, Buf p, Value i) {
    Value bits = arith::IndexCastOp::create(b, loc, i32, v);
    stF(arith::BitcastOp::create(b, loc, f32, bits), p, i);
  };
  Value pairs = muli(rows, k);
  // 1. Dispatch (thread 0): counting sort of the (row, slot) pairs by expert;
  //    the result starts at zero.
  onThread0([&] {
    loop(0, e + 1, 1, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
      stI(idx(0), start, i);
      return {};
    });
    dloop(idx(0), pairs, 1, {}, [&](Value p, ValueRange) -> SmallVector<Value> {
      Value ex1 = addi(ldI(idsIn, p), idx(1));
      stI(addi(ldI(start, ex1), idx(1)), start, ex1);
      return {};
    });
    loop(0, e, 1, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
      Value i1 = addi(i, idx(1));
      stI(addi(ldI(start, i1), ldI(start, i)), start, i1);
      stI(ldI(start, i), cursor, i);
      return {};
    });
    dloop(idx(0), pairs, 1, {}, [&](Value p, ValueRange) -> SmallVector<Value> {
      Value ex = ldI(idsIn, p), c = ldI(cursor, ex);
      stI(arith::DivUIOp::create(b, loc, p, idx(k)), listRow, c);
      stF(ldF(wIn, p), listW, c);
      stI(addi(c, idx(1)), cursor, ex);
      return {};
    });
    LanesScope narrow(*this, fitLanes(lanes, {h}));
    dloop(idx(0), muli(rows, h), lanes, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
      st(splat(0.0f), y, i, 0);
      return {};
    });
  });
  barrier();
  // 2. Each routed expert over its rows together: hid = silu(g) * u from one
  //    product with the interleaved gate/up weights (row i of the dispatch
  //    list -> hid row i); 3. y[row] += weight * down hid, expert after
  //    expert. Threads split the column tiles of each product, so the
  //    accumulation into y never races and two barriers serve all experts.
  // Element indices below count from the packed weight's start as if it were
  // float32 (guBase, dnBase); half-precision weights sit at twice the float
  // offset in the f16 view of the blob.
  auto vecType16 = VectorType::get({lanes}, b.getF16Type());
  auto ldWAt = [&](int64_t start) {
    return [&, start](Value base, int64_t off) -> Value {
      if (!half)
        return ld({wMem, 0}, base, off);
      Value i = addi(base, idx(off + start));
      Value hv = vector::LoadOp::create(b, loc, vecType16, wHalf, ValueRange{i});
      return extHalf(hv);
    };
  };
  auto ldGU = ldWAt(gu), ldDown = ldWAt(down);
  auto forRoutedExperts = [&](function_ref<void(Value ex, Value s0, Value n)> body) {
    loop(0, e, 1, {}, [&](Value ex, ValueRange) -> SmallVector<Value> {
      Value s0 = ldI(start, ex);
      Value n = arith::SubIOp::create(b, loc, ldI(start, addi(ex, idx(1))), s0);
      Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, n, idx(0));
      auto ifOp = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      body(ex, s0, n);
      return {};
    });
  };
  forRoutedExperts([&](Value ex, Value s0, Value n) {
    Value guBase = addi(idx(gu), muli(ex, guStride));
    forThreadTiles(2 * ip, [&](Value t0, int64_t width) {
      auto xRow = [&](Value r) { return muli(ldI(listRow, addi(s0, r)), h); };
      // vectors (2i, 2i + 1) of the tile: gate and up of hidden vector t0 / 2 + i
      auto store = [&](Value r, int64_t v0, ArrayRef<Value> acc) {
        Value hrow = addi(muli(addi(s0, r), ip), arith::DivUIOp::create(b, loc, t0, idx(2)));
        for (size_t i = 0; i + 1 < acc.size(); i += 2)
          st(mul(mul(acc[i], sigmoid(acc[i])), acc[i + 1]), hid, hrow, (v0 + i) / 2 * lanes);
      };
      if (q8)
        tileProductQ8(x, xRow, n, h, addi(guBase, muli(t0, ::liquid::q8::tileFloats(h, 1))), width,
                      store);
      else
        tileProduct(x, xRow, n, h, addi(guBase, muli(t0, h)), width, ldGU, store);
    });
  });
  barrier();
  forRoutedExperts([&](Value ex, Value s0, Value n) {
    Value dnBase = addi(idx(down), muli(ex, downStride));
    forThreadTiles(h, [&](Value t0, int64_t width) {
      auto xRow = [&](Value r) { return muli(addi(s0, r), ip); };
      auto store = [&](Value r, int64_t v0, ArrayRef<Value> acc) {
        Value wr = bcast(ldF(listW, addi(s0, r)));
        Value yrow = addi(muli(ldI(listRow, addi(s0, r)), h), t0);
        for (auto [j, a] : llvm::enumerate(acc)) {
          int64_t o = (v0 + j) * lanes, valid = width - o;
          stPart(add(ldPart(y, yrow, o, valid), mul(wr, a)), y, yrow, o, valid);
        }
      };
      if (q8)
        tileProductQ8(hid, xRow, n, inner, addi(dnBase, muli(t0, ::liquid::q8::tileFloats(inner, 1))),
                      width, store);
      else
        tileProduct(hid, xRow, n, inner, addi(dnBase, muli(t0, inner)), width, ldDown, store);
    });
  });
  barrier();
  return success();
}
