//===- LowerLM.cpp - language-model functions -> a forward kernel ----------===//
//
// Lowers a planned LFM2 function to
//   func.func @<prefix>_kernel_forward(%weights: memref<Wxf32>, %arena: memref<Axf32>,
//       %ids: memref<Rxi32>, %rows: index, %pos: index, %logits: memref<R*Vxf32>,
//       %tid: index, %threads: index, %sync: memref<1xi8>,
//       %weights_f16: memref<2Wxf16>, %weights_i8: memref<4Wxi8>,
//       %logit_rows: index)
// which runs `rows` (<= R = max_rows) tokens at positions pos.. through the
// model, updating the conv and KV caches in the arena, and writes the logits
// of the last min(logit_rows, rows) of them (at their rows of %logits; the
// head skips the others: a prompt chunk needs only its last row's logits). Every thread of the runtime's pool calls it with its %tid: the
// products split their column tiles across threads, the other ops run on
// thread 0, and all threads meet at <prefix>_barrier(%sync) after each op.
// Activations are row-major [rows, N] at their planned offsets, N any width:
// an op whose rows are not a multiple of the vector width works on the widest
// vectors that divide them, and a product's last partial vector of outputs is
// a masked store. The last two arguments are the weights
// again, seen as halves and as bytes (F16 and int8 products). Products marked
// liquid.halide_kernel call that Halide kernel's C entry point instead.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::liquid;

namespace {

PackLayout linearLayout(LinearOp l);
std::pair<PackLayout, PackLayout> expertLayouts(MoEExpertsOp m);

int64_t cols(Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(1); }

class LMEmitter : public VecBuilder {
public:
  LMEmitter(OpBuilder &b, Location loc, WeightPacker &packer, func::FuncOp kernel,
            DictionaryAttr states, ModuleOp module)
      : VecBuilder(b, loc, packer.lanes), packer(packer), states(states), module(module) {
    Block &e = kernel.getBody().front();
    wMem = e.getArgument(0);
    aMem = e.getArgument(1);
    ids = e.getArgument(2);
    rows = e.getArgument(3);
    pos = e.getArgument(4);
    logits = e.getArgument(5);
    tid = e.getArgument(6);
    nth = e.getArgument(7);
    sync = e.getArgument(8);
    wHalf = e.getArgument(9);
    wByte = e.getArgument(10);
    logitRows = e.getArgument(11);
  }

  /// The barrier every thread calls after each op.
  std::string barrierName;
  void barrier() { func::CallOp::create(b, loc, barrierName, TypeRange{}, ValueRange{sync}); }

  LogicalResult emit(Operation &op);

private:
  LogicalResult emitSerial(Operation &op);
  Value addi(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value muli(Value x, int64_t c) { return arith::MulIOp::create(b, loc, x, idx(c)); }
  Value muli(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }

  /// Loop [lb, ub) with a dynamic upper bound.
  SmallVector<Value> dloop(Value lb, Value ub, int64_t step, ValueRange init,
                           function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(
        b, loc, lb, ub, idx(step), init, [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          scf::YieldOp::create(b, loc, body(iv, args));
        });
    return SmallVector<Value>(forOp.getResults());
  }
  void forRows(function_ref<void(Value t)> body) {
    dloop(idx(0), rows, 1, {}, [&](Value t, ValueRange) -> SmallVector<Value> {
      body(t);
      return {};
    });
  }
  /// Each vector chunk of `n` floats after the dynamic index `base`.
  void chunks(int64_t n, Value base, function_ref<void(Value dyn, int64_t off)> body) {
    int64_t c = n / lanes;
    if (c <= 8) {
      for (int64_t i = 0; i < c; ++i)
        body(base, i * lanes);
      return;
    }
    loop(0, n, lanes, {}, [&](Value iv, ValueRange) -> SmallVector<Value> {
      body(base ? addi(base, iv) : iv, 0);
      return {};
    });
  }
  /// Sum over the chunks of `n` floats of f(chunk) (a vector), reduced to a scalar.
  Value sumChunks(int64_t n, Value base, function_ref<Value(Value dyn, int64_t off)> f) {
    Value acc = splat(0.0f);
    int64_t c = n / lanes;
    if (c <= 8) {
      for (int64_t i = 0; i < c; ++i)
        acc = add(acc, f(base, i * lanes));
    } else {
      acc = loop(0, n, lanes, {acc}, [&](Value iv, ValueRange a) -> SmallVector<Value> {
        return {add(a[0], f(base ? addi(base, iv) : iv, 0))};
      })[0];
    }
    return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc);
  }

  Buf act(Value v) {
    auto offs = cast<DenseI64ArrayAttr>(v.getDefiningOp()->getAttr(kOffsetAttr));
    int64_t o = offs[cast<OpResult>(v).getResultNumber()];
    return o < 0 ? Buf{logits, 0} : Buf{aMem, o};
  }
  Buf weight(Value v, PackLayout l) { return {wMem, packer.lookup(v, l)}; }
  int64_t stateOffset(FlatSymbolRefAttr s) {
    return cast<IntegerAttr>(states.get(s.getValue())).getInt();
  }
  int64_t scratch(Operation *op) { return op->getAttrOfType<IntegerAttr>(kScratchAttr).getInt(); }
  /// Offset of element (k, n) of a [N, K] matrix packed Transposed.
  int64_t transposedAt(int64_t n, int64_t k, int64_t kk, int64_t nn) {
    int64_t np = ::liquid::roundUp(n, packer.lanes), tile = ::liquid::denseTile(packer.lanes);
    int64_t t0 = nn / tile * tile, width = std::min(tile, np - t0);
    return t0 * k + kk * width + (nn - t0);
  }
  Value rsqrtOfMean(Value sumSq, int64_t n, double eps) {
    Value mean = arith::DivFOp::create(b, loc, sumSq, scalar(static_cast<float>(n)));
    Value s = math::SqrtOp::create(b, loc, arith::AddFOp::create(b, loc, mean, scalar(eps)));
    return arith::DivFOp::create(b, loc, scalar(1.0f), s);
  }

  LogicalResult emitLinear(LinearOp op);
  /// A product computed by a Halide kernel (liquid-halide-gen): each thread
  /// calls its C entry point on its share of the column tiles with the
  /// addresses of x, the packed weight and y.
  LogicalResult emitHalideCall(LinearOp op, StringRef name);
  LogicalResult emitMoERouter(MoERouterOp op);
  LogicalResult emitMoEExperts(MoEExpertsOp op);
  /// Rows [0, nRows) times one column tile of `width` outputs of a
  /// Transposed-packed [n, k] matrix whose tile block starts at `blockBase`.
  /// Row r of the input starts at float index xRow(r) of `x`. Blocks of four
  /// rows share every weight load (a [k, width] block stays in cache across
  /// the row blocks); leftover rows take the matrix-vector path.
  /// `store(r, v0, accs)` receives the output vectors v0, v0 + 1, ... of the
  /// tile for row r; v0 and the count are even when the tile is.
  void tileProduct(Buf x, function_ref<Value(Value)> xRow, Value nRows, int64_t k,
                   Value blockBase, int64_t width, function_ref<Value(Value, int64_t)> ldW,
                   function_ref<void(Value, int64_t, ArrayRef<Value>)> store);
  /// The same for a TransposedQ8 tile at float index `tileBase`: per block of
  /// 32 inputs, int8 weights converted to float feed block accumulators,
  /// which are scaled once per block into the results.
  void tileProductQ8(Buf x, function_ref<Value(Value)> xRow, Value nRows, int64_t k,
                     Value tileBase, int64_t width,
                     function_ref<void(Value, int64_t, ArrayRef<Value>)> store);
  /// One row times a Transposed-packed [n, k] matrix at the dynamic float
  /// index `wBase`: `store(offset, vector)` receives each output vector.
  void matvecRow(Buf x, Value xIdx, int64_t k, Value wBase, int64_t n,
                 function_ref<void(int64_t, Value)> store);
  /// One row times one column tile of `width` floats of a Transposed-packed
  /// matrix whose tile block starts at `blockBase`: the tile's output vectors.
  /// `load(row, off)` reads weights (float32 by default).
  SmallVector<Value> tileMatvec(Buf x, Value xIdx, int64_t k, Value blockBase, int64_t width,
                                function_ref<Value(Value, int64_t)> load = nullptr);
  /// This thread's share [lo, hi) of `count` work items (tid * count / threads
  /// up to (tid + 1) * count / threads).
  std::pair<Value, Value> threadShare(int64_t count) {
    return {arith::DivUIOp::create(b, loc, muli(tid, count), nth),
            arith::DivUIOp::create(b, loc, muli(addi(tid, idx(1)), count), nth)};
  }
  /// Splits the column tiles of an n-wide product across the threads: the full
  /// tiles evenly, the partial one to the last thread.
  void forThreadTiles(int64_t n, function_ref<void(Value t0, int64_t width)> emitTile);
  /// Runs `body` on thread 0 only.
  void onThread0(function_ref<void()> body) {
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, idx(0));
    auto ifOp = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  }
  LogicalResult emitShortConv(ShortConvMixOp op);
  LogicalResult emitAttention(AttentionOp op);

  WeightPacker &packer;
  DictionaryAttr states;
  ModuleOp module;
  Value wMem, aMem, ids, rows, pos, logits, tid, nth, sync;
  /// How many of the call's last rows get logits (the head skips the others).
  Value logitRows;
  /// The rows a product computes: all of them, or for the head (the product
  /// that writes the logits) the last `logitRows`; returns {count, first}.
  std::pair<Value, Value> productRows(LinearOp op) {
    if (act(op.getResult()).mem != logits)
      return {rows, idx(0)};
    Value n = arith::MinUIOp::create(b, loc, logitRows, rows);
    return {n, arith::SubIOp::create(b, loc, rows, n)};
  }
public:
  int64_t maxRows = 0; ///< the most rows of one call
private:
  Value wHalf; ///< the weights seen as half-precision elements
  Value wByte; ///< the weights seen as int8 elements
};

LogicalResult LMEmitter::emit(Operation &op) {
  if (op.getNumResults() && isWeight(op.getResult(0)))
    return success();
  if (auto m = dyn_cast<MoEExpertsOp>(op))
    return emitMoEExperts(m); // threaded inside
  if (!isa<LinearOp>(op)) {
    // Everything but the products is cheap next to them: thread 0 runs it
    // while the others wait at the barrier.
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, idx(0));
    auto ifOp = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    return emitSerial(op);
  }
  return emitLinear(cast<LinearOp>(op));
}

LogicalResult LMEmitter::emitSerial(Operation &op) {
  // The widest vectors that divide every row this op reads or writes (the
  // router works on whole padded vectors of its own scratch).
  SmallVector<int64_t> widths;
  if (!isa<MoERouterOp>(op)) {
    for (Value v : llvm::concat<Value>(op.getOperands(), op.getResults()))
      if (auto t = dyn_cast<RankedTensorType>(v.getType()); t && t.getRank() == 2 && !isWeight(v))
        widths.push_back(t.getDimSize(1));
    if (auto c = dyn_cast<ColumnsOp>(op))
      widths.push_back(c.getOffset());
    if (auto a = dyn_cast<AttentionOp>(op))
      widths.push_back(a.getHeadDim() / 2);
  }
  LanesScope narrow(*this, fitLanes(lanes, widths));
  if (auto e = dyn_cast<EmbeddingOp>(op)) {
    int64_t h = cols(e.getResult());
    Buf table = weight(e.getTable(), PackLayout::Rows), dst = act(e.getResult());
    forRows([&](Value t) {
      Value id = memref::LoadOp::create(b, loc, ids, ValueRange{t});
      Value row = muli(arith::IndexCastOp::create(b, loc, b.getIndexType(), id),
                       ::liquid::roundUp(h, packer.lanes)); // Rows layout
      Value out = muli(t, h);
      chunks(h, Value(), [&](Value d, int64_t o) {
        Value src = d ? addi(row, d) : row, dd = d ? addi(out, d) : out;
        st(ld(table, src, o), dst, dd, o);
      });
    });
    return success();
  }
  if (auto n = dyn_cast<RMSNormOp>(op)) {
    int64_t h = cols(n.getInput());
    Buf x = act(n.getInput()), w = weight(n.getWeight(), PackLayout::Vector), y = act(n.getResult());
    double eps = n.getEpsilon().convertToDouble();
    forRows([&](Value t) {
      Value base = muli(t, h);
      Value ss = sumChunks(h, base, [&](Value d, int64_t o) {
        Value v = ld(x, d, o);
        return mul(v, v);
      });
      Value r = bcast(rsqrtOfMean(ss, h, eps));
      chunks(h, Value(), [&](Value d, int64_t o) {
        Value xi = d ? addi(base, d) : base;
        st(mul(mul(ld(x, xi, o), r), ld(w, d, o)), y, xi, o);
      });
    });
    return success();
  }
  if (auto a = dyn_cast<arith::AddFOp>(op)) {
    Buf x = act(a.getLhs()), y = act(a.getRhs()), z = act(a.getResult());
    Value total = muli(rows, cols(a.getResult()));
    dloop(idx(0), total, lanes, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
      st(add(ld(x, i, 0), ld(y, i, 0)), z, i, 0);
      return {};
    });
    return success();
  }
  if (auto s = dyn_cast<SwiGLUOp>(op)) {
    Buf g = act(s.getGate()), u = act(s.getUp()), z = act(s.getResult());
    Value total = muli(rows, cols(s.getResult()));
    dloop(idx(0), total, lanes, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
      Value gv = ld(g, i, 0);
      st(mul(mul(gv, sigmoid(gv)), ld(u, i, 0)), z, i, 0);
      return {};
    });
    return success();
  }
  if (auto s = dyn_cast<SwiGLUHalvesOp>(op)) {
    int64_t f = cols(s.getResult());
    Buf in = act(s.getInput()), out = act(s.getResult());
    forRows([&](Value t) {
      Value src = muli(t, 2 * f), dst = muli(t, f);
      chunks(f, Value(), [&](Value d, int64_t o) {
        Value si = d ? addi(src, d) : src;
        Value g = ld(in, si, o);
        st(mul(mul(g, sigmoid(g)), ld(in, si, o + f)), out, d ? addi(dst, d) : dst, o);
      });
    });
    return success();
  }
  if (auto c = dyn_cast<ColumnsOp>(op)) {
    int64_t m = cols(c.getInput()), n = cols(c.getResult()), off = c.getOffset();
    Buf in = act(c.getInput()), out = act(c.getResult());
    forRows([&](Value t) {
      Value src = addi(muli(t, m), idx(off)), dst = muli(t, n);
      chunks(n, Value(), [&](Value d, int64_t o) {
        st(ld(in, d ? addi(src, d) : src, o), out, d ? addi(dst, d) : dst, o);
      });
    });
    return success();
  }
  if (auto c = dyn_cast<ShortConvMixOp>(op))
    return emitShortConv(c);
  if (auto r = dyn_cast<MoERouterOp>(op))
    return emitMoERouter(r);
  if (auto a = dyn_cast<AttentionOp>(op))
    return emitAttention(a);
  return op.emitOpError("cannot be lowered in a language-model function");
}

LogicalResult LMEmitter::emitLinear(LinearOp op) {
  int64_t k = cols(op.getInput()), n = cols(op.getResult());
  if (auto hk = op->getAttrOfType<StringAttr>(kHalideKernelAttr))
    return emitHalideCall(op, hk.getValue());
  PackLayout layout = linearLayout(op);
  Buf x = act(op.getInput()), y = act(op.getResult());
  Buf w = weight(op.getWeight(), layout);
  // A vector of weights at float index base + off of the tiled layout.
  auto vecType16 = VectorType::get({lanes}, b.getF16Type());
  auto ldW = [&](Value base, int64_t off) -> Value {
    if (layout != PackLayout::TransposedF16)
      return ld({w.mem, 0}, base, off);
    // element index = 2 * (blob offset) + (index within the f16 layout)
    Value i = addi(base, idx(off - w.off + 2 * w.off));
    Value hv = vector::LoadOp::create(b, loc, vecType16, wHalf, ValueRange{i});
    return arith::ExtFOp::create(b, loc, v8, hv);
  };
  auto [nRows, first] = productRows(op);
  auto xRow = [&](Value r) { return muli(addi(r, first), k); };
  forThreadTiles(n, [&](Value t0, int64_t width) {
    auto store = [&](Value r, int64_t v0, ArrayRef<Value> acc) {
      Value yrow = addi(muli(addi(r, first), n), t0);
      for (auto [j, a] : llvm::enumerate(acc))
        stPart(a, y, yrow, (v0 + j) * lanes, width - (v0 + j) * lanes);
    };
    if (layout == PackLayout::TransposedQ8)
      tileProductQ8(x, xRow, nRows, k, addi(muli(t0, (k / 32) * 9), idx(w.off)), width, store);
    else // (for half-precision weights, ldW rebases the float offset w.off)
      tileProduct(x, xRow, nRows, k, addi(muli(t0, k), idx(w.off)), width, ldW, store);
  });
  return success();
}

void LMEmitter::tileProduct(Buf x, function_ref<Value(Value)> xRow, Value nRows, int64_t k,
                            Value blockBase, int64_t width,
                            function_ref<Value(Value, int64_t)> ldW,
                            function_ref<void(Value, int64_t, ArrayRef<Value>)> store) {
  constexpr int64_t kRows = 4;
  const int64_t kSub = lanes >= 16 ? 4 : 2; // kRows x kSub accumulators
  int64_t pw = ::liquid::roundUp(width, lanes), tn = pw / lanes; // packed width
  Value full = muli(arith::DivUIOp::create(b, loc, nRows, idx(kRows)), kRows);
  for (int64_t j0 = 0; j0 < tn; j0 += kSub) {
    int64_t sn = std::min(kSub, tn - j0);
    dloop(idx(0), full, kRows, {}, [&](Value r0, ValueRange) -> SmallVector<Value> {
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
      Value base = addi(tileBase, muli(bv, 9 * pw)); // floats
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
  bool half = guLayout == PackLayout::TransposedBatchedGLUF16;
  bool q8 = guLayout == PackLayout::TransposedBatchedGLUQ8;
  if (q8) {
    guStride = ::liquid::packedFloats({2 * ip, h}, PackLayout::TransposedQ8, lanes);
    downStride = ::liquid::packedFloats({h, inner}, PackLayout::TransposedQ8, lanes);
  }
  int64_t gu = packer.lookup(op.getGateUp(), guLayout);
  int64_t down = packer.lookup(op.getDown(), downLayout);
  // scratch (see moeExpertsScratch): per expert the start of its rows in the
  // dispatch list and a fill cursor, the list (row, weight), and the SwiGLU
  // activations of one expert's rows
  SmallVector<Buf, 5> slots;
  int64_t s = scratch(op);
  for (int64_t n : moeExpertsScratch(op, maxRows)) {
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
      return arith::ExtFOp::create(b, loc, v8, hv);
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
        tileProductQ8(x, xRow, n, h, addi(guBase, muli(t0, (h / 32) * 9)), width, store);
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
        tileProductQ8(hid, xRow, n, inner, addi(dnBase, muli(t0, (inner / 32) * 9)), width, store);
      else
        tileProduct(hid, xRow, n, inner, addi(dnBase, muli(t0, inner)), width, ldDown, store);
    });
  });
  barrier();
  return success();
}

LogicalResult LMEmitter::emitShortConv(ShortConvMixOp op) {
  auto kt = cast<RankedTensorType>(op.getKernel().getType());
  int64_t h = kt.getDimSize(0), taps = kt.getDimSize(1);
  Buf bcx = act(op.getBcx()), y = act(op.getResult());
  Buf kernel = weight(op.getKernel(), PackLayout::Transposed);
  Buf cache{aMem, stateOffset(op.getStateAttr())}, window{aMem, scratch(op)};
  int64_t keep = (taps - 1) * h;
  // window = [cache rows | B * x rows]
  chunks(keep, Value(), [&](Value d, int64_t o) { st(ld(cache, d, o), window, d, o); });
  forRows([&](Value t) {
    Value in = muli(t, 3 * h), out = addi(muli(t, h), idx(keep));
    chunks(h, Value(), [&](Value d, int64_t o) {
      Value i = d ? addi(in, d) : in, w = d ? addi(out, d) : out;
      st(mul(ld(bcx, i, o), ld(bcx, i, o + 2 * h)), window, w, o);
    });
  });
  // y[t] = C[t] * sum_j k[:, j] * window[t + j]
  if (auto hk = op->getAttrOfType<StringAttr>(kHalideKernelAttr)) {
    if (h % ::liquid::denseTile(packer.lanes))
      return op.emitOpError() << "a Halide conv needs whole tiles of channels, got " << h;
    callExternal(module, hk.getValue(),
                 {address(window), address(bcx), address(kernel), address(y), rows, idx(0), idx(0)});
  } else {
    forRows([&](Value t) {
      Value in = muli(t, 3 * h), wrow = muli(t, h), out = muli(t, h);
      for (int64_t c = 0; c < h; c += lanes) {
        Value acc = splat(0.0f);
        for (int64_t j = 0; j < taps; ++j)
          acc = add(acc, mul(ld(kernel, Value(), transposedAt(h, taps, j, c)),
                             ld(window, wrow, j * h + c)));
        st(mul(ld(bcx, in, h + c), acc), y, out, c);
      }
    });
  }
  // cache = the last taps - 1 rows of the window
  Value tail = muli(rows, h);
  chunks(keep, Value(), [&](Value d, int64_t o) {
    Value src = d ? addi(tail, d) : tail;
    st(ld(window, src, o), cache, d, o);
  });
  return success();
}

} // namespace

/// The RoPE tables of an attention op ([max_context, head_dim / 2] cos and
/// sin, computed in double precision) in the blob; offsets of cos and sin.
static std::pair<int64_t, int64_t> ropeTables(AttentionOp op, WeightPacker &packer) {
  int64_t hd = op.getHeadDim(), half = hd / 2;
  auto module = op->getParentOfType<ModuleOp>();
  auto sb = module.lookupSymbol<StateBufferOp>(op.getStateAttr().getAttr());
  int64_t ctx = cast<RankedTensorType>(sb.getType()).getDimSize(1);
  double theta = op.getRopeTheta().convertToDouble();
  std::string key = llvm::formatv("rope(theta={0}, head_dim={1}, ctx={2})", theta, hd, ctx).str();
  ::liquid::Tensor cosT, sinT;
  cosT.shape = sinT.shape = {ctx, half};
  cosT.data.resize(ctx * half);
  sinT.data.resize(ctx * half);
  for (int64_t p = 0; p < ctx; ++p)
    for (int64_t i = 0; i < half; ++i) {
      double a = p * std::pow(theta, -2.0 * i / hd);
      cosT.data[p * half + i] = static_cast<float>(std::cos(a));
      sinT.data[p * half + i] = static_cast<float>(std::sin(a));
    }
  return {packer.addSynthetic("cos " + key, cosT, PackLayout::Rows),
          packer.addSynthetic("sin " + key, sinT, PackLayout::Rows)};
}

namespace {

LogicalResult LMEmitter::emitAttention(AttentionOp op) {
  int64_t heads = op.getHeads(), kvh = op.getKvHeads(), hd = op.getHeadDim(), half = hd / 2;
  // (emitSerial narrowed the vectors to divide head_dim / 2)
  auto sb = module.lookupSymbol<StateBufferOp>(op.getStateAttr().getAttr());
  int64_t ctx = cast<RankedTensorType>(sb.getType()).getDimSize(1), kvw = kvh * hd;
  double eps = op.getEpsilon().convertToDouble();
  auto [cosOff, sinOff] = ropeTables(op, packer);
  Buf cosB{wMem, cosOff}, sinB{wMem, sinOff};
  Buf q = act(op.getQ()), k = act(op.getK()), v = act(op.getV()), y = act(op.getResult());
  Buf qn = weight(op.getQNorm(), PackLayout::Vector), kn = weight(op.getKNorm(), PackLayout::Vector);
  int64_t kOff = stateOffset(op.getStateAttr());
  Buf kc{aMem, kOff}, vc{aMem, kOff + ctx * kvw};
  Buf scores{aMem, scratch(op)};
  int64_t nc = hd / lanes;

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
  forRows([&](Value t) {
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
  // 2. Each query attends to cache rows 0 .. pos + t.
  if (auto hk = op->getAttrOfType<StringAttr>(kHalideKernelAttr)) {
    if (hd % (2 * packer.lanes))
      return op.emitOpError() << "a Halide attention needs head_dim a multiple of "
                              << 2 * packer.lanes;
    callExternal(module, hk.getValue(),
                 {address(q), address(kc), address(vc), address(y), address(qn), address(cosB),
                  address(sinB), rows, pos});
    return success();
  }
  Value scale = splat(static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd))));
  forRows([&](Value t) {
    Value p = addi(pos, t), end = addi(p, idx(1));
    for (int64_t hq = 0; hq < heads; ++hq) {
      int64_t g = hq / (heads / kvh);
      SmallVector<Value> qr = normRope(q, addi(muli(t, heads * hd), idx(hq * hd)), qn, p);
      for (Value &x : qr)
        x = mul(x, scale);
      Value negInf = scalar(-std::numeric_limits<float>::infinity());
      Value mx = dloop(idx(0), end, 1, {negInf}, [&](Value j, ValueRange a) -> SmallVector<Value> {
        Value row = addi(muli(j, kvw), idx(g * hd));
        Value acc = splat(0.0f);
        for (int64_t c = 0; c < nc; ++c)
          acc = add(acc, mul(qr[c], ld(kc, row, c * lanes)));
        Value s = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc);
        memref::StoreOp::create(b, loc, s, aMem, ValueRange{addi(j, idx(scores.off))});
        return {arith::MaximumFOp::create(b, loc, a[0], s)};
      })[0];
      SmallVector<Value> init(nc, splat(0.0f));
      init.push_back(scalar(0.0f));
      SmallVector<Value> res = dloop(idx(0), end, 1, init, [&](Value j, ValueRange a) {
        Value s = memref::LoadOp::create(b, loc, aMem, ValueRange{addi(j, idx(scores.off))});
        Value e = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, s, mx));
        Value eb = bcast(e);
        Value row = addi(muli(j, kvw), idx(g * hd));
        SmallVector<Value> next;
        for (int64_t c = 0; c < nc; ++c)
          next.push_back(add(a[c], mul(eb, ld(vc, row, c * lanes))));
        next.push_back(arith::AddFOp::create(b, loc, a[nc], e));
        return next;
      });
      Value inv = bcast(arith::DivFOp::create(b, loc, scalar(1.0f), res[nc]));
      Value out = addi(muli(t, heads * hd), idx(hq * hd));
      for (int64_t c = 0; c < nc; ++c)
        st(mul(res[c], inv), y, out, c * lanes);
    }
  });
  return success();
}

/// How a product's weight is packed: as its `weight_type` says.
PackLayout linearLayout(LinearOp l) {
  switch (l.getWeightType()) {
  case WeightStorage::Q8:
    return PackLayout::TransposedQ8;
  case WeightStorage::F16:
    return PackLayout::TransposedF16;
  case WeightStorage::F32:
    return PackLayout::Transposed;
  }
  llvm_unreachable("unknown weight storage");
}

/// How an MoE op's experts are packed: as its `weight_type` says.
std::pair<PackLayout, PackLayout> expertLayouts(MoEExpertsOp m) {
  switch (m.getWeightType()) {
  case WeightStorage::F16:
    return {PackLayout::TransposedBatchedGLUF16, PackLayout::TransposedBatchedF16};
  case WeightStorage::Q8:
    return {PackLayout::TransposedBatchedGLUQ8, PackLayout::TransposedBatchedQ8};
  case WeightStorage::F32:
    return {PackLayout::TransposedBatchedGLU, PackLayout::TransposedBatched};
  }
  llvm_unreachable("unknown weight storage");
}

/// The weights an LM op reads and their layouts.
void forEachLMWeight(Operation *op, function_ref<void(Value, PackLayout)> fn) {
  if (auto e = dyn_cast<EmbeddingOp>(op))
    fn(e.getTable(), PackLayout::Rows);
  else if (auto n = dyn_cast<RMSNormOp>(op))
    fn(n.getWeight(), PackLayout::Vector);
  else if (auto l = dyn_cast<LinearOp>(op))
    fn(l.getWeight(), linearLayout(l));
  else if (auto c = dyn_cast<ShortConvMixOp>(op))
    fn(c.getKernel(), PackLayout::Transposed);
  else if (auto a = dyn_cast<AttentionOp>(op)) {
    fn(a.getQNorm(), PackLayout::Vector);
    fn(a.getKNorm(), PackLayout::Vector);
  } else if (auto r = dyn_cast<MoERouterOp>(op)) {
    fn(r.getRouter(), PackLayout::Transposed);
    fn(r.getExpertBias(), PackLayout::Vector);
  } else if (auto m = dyn_cast<MoEExpertsOp>(op)) {
    auto [gu, down] = expertLayouts(m);
    fn(m.getGateUp(), gu);
    fn(m.getDown(), down);
  }
}

} // namespace

LogicalResult mlir::liquid::lowerLMFunction(func::FuncOp f, OpBuilder &mb, WeightPacker &packer,
                                            const std::string &prefix) {
  auto plan = f->getAttrOfType<DictionaryAttr>(kArenaAttr);
  if (!plan)
    return f.emitOpError("has no memory plan; run liquid-plan-memory first");
  Block &body = f.getBody().front();
  for (Operation &op : body) {
    bool bad = false;
    forEachLMWeight(&op, [&](Value v, PackLayout l) {
      if (!isWeight(v) || failed(packer.add(v, l)))
        bad = true;
    });
    if (bad)
      return op.emitOpError("reads a weight that cannot be packed");
    if (auto a = dyn_cast<AttentionOp>(op))
      (void)ropeTables(a, packer);
  }
  MLIRContext *ctx = f.getContext();
  int64_t maxRows = f->getAttrOfType<IntegerAttr>(kMaxRowsAttr).getInt();
  auto resType = cast<RankedTensorType>(f.getFunctionType().getResult(0));
  int64_t vocab = resType.getDimSize(1), arena = cast<IntegerAttr>(plan.get("size")).getInt();
  Type f32 = Float32Type::get(ctx);
  auto wType = MemRefType::get({std::max<int64_t>(packer.size, kSlotAlign)}, f32);
  auto fnType = FunctionType::get(
      ctx,
      {wType, MemRefType::get({arena}, f32), MemRefType::get({maxRows}, IntegerType::get(ctx, 32)),
       IndexType::get(ctx), IndexType::get(ctx), MemRefType::get({maxRows * vocab}, f32),
       IndexType::get(ctx), IndexType::get(ctx), MemRefType::get({1}, IntegerType::get(ctx, 8)),
       MemRefType::get({2 * std::max<int64_t>(packer.size, kSlotAlign)}, Float16Type::get(ctx)),
       MemRefType::get({4 * std::max<int64_t>(packer.size, kSlotAlign)}, IntegerType::get(ctx, 8)),
       IndexType::get(ctx)},
      {});
  // void <prefix>_barrier(void *sync), provided by the runtime.
  std::string barrierName = prefix + "_barrier";
  if (!mb.getBlock()->getParentOp()->hasTrait<OpTrait::SymbolTable>() ||
      !SymbolTable::lookupSymbolIn(mb.getBlock()->getParentOp(), barrierName)) {
    auto decl = func::FuncOp::create(
        mb, f.getLoc(), barrierName,
        FunctionType::get(ctx, {MemRefType::get({1}, IntegerType::get(ctx, 8))}, {}));
    decl.setPrivate();
  }
  auto kernel = func::FuncOp::create(mb, f.getLoc(), prefix + "_kernel_forward", fnType);
  Block *entry = kernel.addEntryBlock();
  OpBuilder kb = OpBuilder::atBlockBegin(entry);
  LMEmitter em(kb, f.getLoc(), packer, kernel, cast<DictionaryAttr>(plan.get("states")),
               f->getParentOfType<ModuleOp>());
  em.barrierName = barrierName;
  em.maxRows = maxRows;
  for (Operation &op : body) {
    if (isa<func::ReturnOp>(op) || (op.getNumResults() && isWeight(op.getResult(0))))
      continue;
    if (failed(em.emit(op)))
      return failure();
    em.barrier();
  }
  func::ReturnOp::create(kb, f.getLoc());
  NamedAttrList info;
  Builder ab(ctx);
  info.append("kind", ab.getStringAttr("lm"));
  info.append("arena_size", ab.getI64IntegerAttr(arena));
  info.append("max_rows", ab.getI64IntegerAttr(maxRows));
  info.append("max_context", f->getAttr(kMaxContextAttr));
  info.append("vocab", ab.getI64IntegerAttr(vocab));
  kernel->setAttr(kKernelAttr, info.getDictionary(ctx));
  return success();
}
