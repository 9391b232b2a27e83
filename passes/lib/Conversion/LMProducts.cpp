//===- LMProducts.cpp - liquid.linear ---------------------------------------===//
//
// Products split their column tiles across the threads; F32, F16 and Q8
// tiles, rows of 4 for prefill, and calls of Halide kernels.
//
//===----------------------------------------------------------------------===//
#include "LMEmitter.h"

using namespace mlir;
using namespace mlir::liquid;
using namespace mlir::liquid::lm;

LogicalResult LMEmitter::emitLinear(LinearOp op) {
  int64_t k = cols(op.getInput()), n = cols(op.getResult());
  if (auto hk = readAttr<HalideKernelAttrHelper>(op))
    return emitHalideCall(op, hk.getValue());
  PackFormat layout = linearLayout(op);
  Buf x = act(op.getInput()), y = act(op.getResult());
  Buf w = weight(op.getWeight(), layout);
  // A vector of weights at float index base + off of the tiled layout.
  auto vecType16 = VectorType::get({lanes}, b.getF16Type());
  auto ldW = [&](Value base, int64_t off) -> Value {
    if (layout.element != PackElement::F16)
      return ld({w.mem, 0}, base, off);
    // element index = 2 * (blob offset) + (index within the f16 layout)
    Value i = addi(base, idx(off - w.off + 2 * w.off));
    Value hv = vector::LoadOp::create(b, loc, vecType16, wHalf, ValueRange{i});
    return extHalf(hv);
  };
  std::pair<Value, Value> share = productRows(op);
  Value nRows = share.first, first = share.second;
  auto xRow = [&](Value r) { return muli(addi(r, first), k); };
  int64_t q = -1; // int8_inputs: where the quantized rows are
  if (op.getInt8Inputs()) {
    q = scratch(op);
    quantizeRows(x, k, nRows, first, q);
    barrier(); // every thread reads every row
  }
  forThreadTiles(n, [&](Value t0, int64_t width) {
    auto store = [&](Value r, int64_t v0, ArrayRef<Value> acc) {
      Value yrow = addi(muli(addi(r, first), n), t0);
      for (auto [j, a] : llvm::enumerate(acc))
        stPart(a, y, yrow, (v0 + j) * lanes, width - (v0 + j) * lanes);
    };
    if (::liquid::iblk::isIntBlocks(layout.element)) { // columns before t0: colBytes each
      int64_t colBytes = ::liquid::iblk::tileBytes(::liquid::iblk::format(layout.element), k, 1);
      tileProductIntBlocks(layout.element, x, xRow, nRows, k,
                           addi(muli(t0, colBytes), idx(4 * w.off)), width, q, store);
    } else if (layout.element == PackElement::Q8) // tiles before t0: q8::tileFloats(k, 1) a column
      tileProductQ8(x, xRow, nRows, k, addi(muli(t0, ::liquid::q8::tileFloats(k, 1)), idx(w.off)),
                    width, store);
    else // (for half-precision weights, ldW rebases the float offset w.off)
      tileProduct(x, xRow, nRows, k, addi(muli(t0, k), idx(w.off)), width, ldW, store);
  });
  return success();
}

void LMEmitter::tileProduct(Buf x, function_ref<Value(Value)> xRow, Value nRows, int64_t k,
                            Value blockBase, int64_t width,
                            function_ref<Value(Value, int64_t)> ldW,
                            function_ref<void(Value, int64_t, ArrayRef<Value>)> store) {
  int64_t pw = ::liquid::roundUp(width, lanes), tn = pw / lanes; // packed width
  // Blocks of kRows rows x kSub vectors of accumulators (kSub even: the
  // store contract), then of 4 rows for what is left: with 32 vector
  // registers 6 x 4 (24 accumulators; 10 loads and 4 weight conversions per
  // 24 FMAs), then 4 x 4; else 4 x 2.
  auto blocks = [&](Value from, Value to, int64_t kRows, int64_t kSub) {
    for (int64_t j0 = 0; j0 < tn; j0 += kSub) {
      int64_t sn = std::min(kSub, tn - j0);
      dloop(from, to, kRows, {}, [&](Value r0, ValueRange) -> SmallVector<Value> {
        SmallVector<Value> xrow;
        for (int64_t r = 0; r < kRows; ++r)
          xrow.push_back(xRow(addi(r0, idx(r))));
        SmallVector<Value> init(kRows * sn, splat(0.0f));
        SmallVector<Value> acc = loop(0, k, 1, init, [&](Value kv, ValueRange a) {
          Value row = addi(blockBase, muli(kv, pw));
          SmallVector<Value> ws;
          for (int64_t j = 0; j < sn; ++j)
            ws.push_back(ldW(row, (j0 + j) * lanes));
          SmallVector<Value> next(a.begin(), a.end());
          for (int64_t r = 0; r < kRows; ++r) {
            Value xb = bcast(ldScalar(x, addi(xrow[r], kv), 0));
            for (int64_t j = 0; j < sn; ++j)
              next[r * sn + j] = add(mul(ws[j], xb), next[r * sn + j]);
          }
          return next;
        });
        for (int64_t r = 0; r < kRows; ++r)
          store(addi(r0, idx(r)), j0, ArrayRef<Value>(acc).slice(r * sn, sn));
        return {};
      });
    }
  };
  auto roundDown = [&](Value n, int64_t m) {
    return muli(arith::DivUIOp::create(b, loc, n, idx(m)), m);
  };
  Value full;
  if (lanes >= 16) {
    Value full6 = roundDown(nRows, 6);
    full = addi(full6, roundDown(arith::SubIOp::create(b, loc, nRows, full6), 4));
    blocks(idx(0), full6, 6, 4);
    blocks(full6, full, 4, 4);
  } else {
    full = roundDown(nRows, 4);
    blocks(idx(0), full, 4, 2);
  }
  dloop(full, nRows, 1, {}, [&](Value r, ValueRange) -> SmallVector<Value> {
    SmallVector<Value> acc = tileMatvec(x, xRow(r), k, blockBase, width, ldW);
    store(r, 0, acc);
    return {};
  });
}


void LMEmitter::tileProductQ8(Buf x, function_ref<Value(Value)> xRow, Value nRows, int64_t k,
                              Value tileBase, int64_t width,
                              function_ref<void(Value, int64_t, ArrayRef<Value>)> store) {
  int64_t pw = ::liquid::roundUp(width, lanes), tn = pw / lanes, kb = k / 32; // packed width
  auto v8i8 = VectorType::get({lanes}, b.getIntegerType(8));
  // rows [r0, r0 + nr) x tile vectors [j0, j0 + sn)
  auto block = [&](Value r0, int64_t nr, int64_t j0, int64_t sn) {
    SmallVector<Value> xrow;
    for (int64_t r = 0; r < nr; ++r)
      xrow.push_back(xRow(addi(r0, idx(r))));
    SmallVector<Value> init(nr * sn, splat(0.0f));
    SmallVector<Value> acc = loop(0, kb, 1, init, [&](Value bv, ValueRange a) {
      Value base = addi(tileBase, muli(bv, ::liquid::q8::blockFloats(pw))); // floats
      Value bytes = muli(addi(base, idx(pw)), 4);
      Value k0 = muli(bv, 32);
      SmallVector<Value> zero(nr * sn, splat(0.0f));
      SmallVector<Value> part = loop(0, 32, 1, zero, [&](Value kk, ValueRange p) {
        Value row = addi(bytes, muli(kk, pw));
        SmallVector<Value> ws;
        for (int64_t j = 0; j < sn; ++j) {
          Value q = vector::LoadOp::create(b, loc, v8i8, wByte,
                                           ValueRange{addi(row, idx((j0 + j) * lanes))});
          ws.push_back(arith::SIToFPOp::create(b, loc, v8, q));
        }
        SmallVector<Value> next(p.begin(), p.end());
        Value kx = addi(k0, kk);
        for (int64_t r = 0; r < nr; ++r) {
          Value xb = bcast(ldScalar(x, addi(xrow[r], kx), 0));
          for (int64_t j = 0; j < sn; ++j)
            next[r * sn + j] = add(mul(ws[j], xb), next[r * sn + j]);
        }
        return next;
      });
      SmallVector<Value> next(a.begin(), a.end());
      for (int64_t j = 0; j < sn; ++j) {
        Value scale = ld({wMem, 0}, base, (j0 + j) * lanes);
        for (int64_t r = 0; r < nr; ++r)
          next[r * sn + j] = add(mul(part[r * sn + j], scale), next[r * sn + j]);
      }
      return next;
    });
    for (int64_t r = 0; r < nr; ++r)
      store(addi(r0, idx(r)), j0, ArrayRef<Value>(acc).slice(r * sn, sn));
  };
  constexpr int64_t kRows = 4;
  const int64_t kSub = lanes >= 16 ? 2 : 2;
  Value full = muli(arith::DivUIOp::create(b, loc, nRows, idx(kRows)), kRows);
  for (int64_t j0 = 0; j0 < tn; j0 += kSub)
    dloop(idx(0), full, kRows, {}, [&](Value r0, ValueRange) -> SmallVector<Value> {
      block(r0, kRows, j0, std::min(kSub, tn - j0));
      return {};
    });
  dloop(full, nRows, 1, {}, [&](Value r, ValueRange) -> SmallVector<Value> {
    for (int64_t j0 = 0; j0 < tn; j0 += 4)
      block(r, 1, j0, std::min<int64_t>(4, tn - j0));
    return {};
  });
}

LogicalResult LMEmitter::emitHalideCall(LinearOp op, StringRef name) {
  int64_t n = cols(op.getResult()), tile = ::liquid::denseTile(lanes);
  if (n % tile)
    return op.emitOpError() << "a Halide kernel needs whole column tiles of " << tile
                            << " outputs, got " << n;
  int64_t k = cols(op.getInput());
  Buf x = act(op.getInput()), y = act(op.getResult());
  Buf w = weight(op.getWeight(), linearLayout(op));
  auto [lo, hi] = threadShare(n / tile);
  auto [nRows, first] = productRows(op);
  callExternal(module, name,
               {addi(address(x), muli(first, 4 * k)), address(w),
                addi(address(y), muli(first, 4 * n)), nRows, idx(n), muli(lo, tile),
                muli(hi, tile)});
  return success();
}

SmallVector<Value> LMEmitter::tileMatvec(Buf x, Value xIdx, int64_t k, Value blockBase,
                                         int64_t width, function_ref<Value(Value, int64_t)> load) {
  int64_t pw = ::liquid::roundUp(width, lanes), tn = pw / lanes; // packed width
  SmallVector<Value> init(tn, splat(0.0f));
  return loop(0, k, 1, init, [&](Value kv, ValueRange a) {
    Value xb = bcast(ldScalar(x, addi(xIdx, kv), 0));
    Value row = addi(blockBase, muli(kv, pw));
    SmallVector<Value> next;
    for (int64_t j = 0; j < tn; ++j)
      next.push_back(
          add(mul(load ? load(row, j * lanes) : ld({wMem, 0}, row, j * lanes), xb), a[j]));
    return next;
  });
}

void LMEmitter::forThreadTiles(int64_t n, function_ref<void(Value, int64_t)> emitTile) {
  int64_t tile = ::liquid::denseTile(lanes);
  int64_t fullTiles = n / tile, rest = n % tile;
  if (fullTiles > 0) {
    auto [lo, hi] = threadShare(fullTiles);
    dloop(muli(lo, tile), muli(hi, tile), tile, {}, [&](Value t0, ValueRange) -> SmallVector<Value> {
      emitTile(t0, tile);
      return {};
    });
  }
  if (rest) {
    Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, addi(tid, idx(1)), nth);
    auto ifOp = scf::IfOp::create(b, loc, last, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    emitTile(idx(fullTiles * tile), rest);
  }
}

void LMEmitter::matvecRow(Buf x, Value xIdx, int64_t k, Value wBase, int64_t n,
                          function_ref<void(int64_t, Value)> store) {
  int64_t np = ::liquid::roundUp(n, lanes), tile = ::liquid::denseTile(lanes);
  for (int64_t t0 = 0; t0 < np; t0 += tile) {
    int64_t width = std::min(tile, np - t0);
    SmallVector<Value> acc = tileMatvec(x, xIdx, k, addi(wBase, idx(t0 * k)), width);
    for (auto [j, v] : llvm::enumerate(acc))
      store(t0 + j * lanes, v);
  }
}


/// How a product's weight is packed: as its `weight_type` says.
PackFormat mlir::liquid::lm::linearLayout(LinearOp l) {
  SmallVector<WeightUse, 1> uses;
  l.getWeightUses(uses);
  return packFormat(uses[0]);
}

std::pair<PackFormat, PackFormat> mlir::liquid::lm::expertLayouts(MoEExpertsOp m) {
  SmallVector<WeightUse, 2> uses;
  m.getWeightUses(uses);
  return {packFormat(uses[0]), packFormat(uses[1])};
}
