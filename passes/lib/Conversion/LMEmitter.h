//===- LMEmitter.h - the language-model kernel builder ----------*- C++ -*-===//
//
// LMEmitter writes one planned language-model function as the forward
// kernel (see LowerLM.cpp for its signature and threading); its methods live
// in one file per op family:
//   LMElementwise.cpp  embedding, RMSNorm, residual add, SwiGLU, columns
//   LMProducts.cpp     liquid.linear (F32, F16, Q8 tiles; Halide calls)
//   LMIntBlocks.cpp    liquid.linear from integer blocks (4/5/6-bit, int8 x int8)
//   LMShortConv.cpp    liquid.short_conv_mix
//   LMAttention.cpp    liquid.attention (RoPE tables, KV cache append)
//   LMAttentionQueries.cpp  its queries: blocked causal GQA online softmax
//   LMMoE.cpp          liquid.moe_router, liquid.moe_experts
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_PASSES_CONVERSION_LMEMITTER_H
#define LIQUID_PASSES_CONVERSION_LMEMITTER_H

#include "../KernelBuilder.h"

#include <cmath>
#include <limits>

namespace mlir::liquid::lm {

using ::liquid::PackElement;
using ::liquid::PackFormat;
using ::liquid::PackLayout;

/// How a product's weight and an MoE op's experts (gate/up, down) are packed.
PackFormat linearLayout(LinearOp l);
std::pair<PackFormat, PackFormat> expertLayouts(MoEExpertsOp m);

inline int64_t cols(Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(1); }

class LMEmitter : public VecBuilder {
public:
  LMEmitter(OpBuilder &b, Location loc, const PackedWeights &packer, func::FuncOp kernel,
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
  /// The rows this thread works on: all of them, or with `shareRows` (ops
  /// every thread runs) its share.
  std::pair<Value, Value> rowRange() {
    return shareRows ? threadShare(rows) : std::pair<Value, Value>(idx(0), rows);
  }
  void forRows(function_ref<void(Value t)> body) {
    auto [lo, hi] = rowRange();
    dloop(lo, hi, 1, {}, [&](Value t, ValueRange) -> SmallVector<Value> {
      body(t);
      return {};
    });
  }
  /// Row-wise ops (every row computed on its own) run on every thread.
  bool shareRows = false;
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
    auto offs = readAttr<OffsetAttrHelper>(v.getDefiningOp());
    int64_t o = offs[cast<OpResult>(v).getResultNumber()];
    return o < 0 ? Buf{logits, 0} : Buf{aMem, o};
  }
  Buf weight(Value v, PackFormat l) { return {wMem, packer.lookup(v, l)}; }
  int64_t stateOffset(FlatSymbolRefAttr s) {
    return cast<IntegerAttr>(states.get(s.getValue())).getInt();
  }
  int64_t scratch(Operation *op) { return readAttr<ScratchAttrHelper>(op).getInt(); }
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
  /// Row r of the input starts at float index xRow(r) of `x`. Blocks of six
  /// (32 vector registers) or four rows share every weight load (a [k, width] block stays in cache across
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
  /// Integer-block weights (LMIntBlocks.cpp): the tile at byte `byteBase`
  /// of the blob; `q` >= 0: int8 x int8 products from the rows quantized at
  /// arena float `q` (quantizeRows), else float inputs.
  void tileProductIntBlocks(PackElement e, Buf x, function_ref<Value(Value)> xRow, Value nRows,
                            int64_t k, Value byteBase, int64_t width, int64_t q,
                            function_ref<void(Value, int64_t, ArrayRef<Value>)> store);
  /// Quantizes rows [first, first + nRows) of `x` (k inputs) to int8 per
  /// block of 32 at arena float `q` (int8RowFloats(k) a row), each thread
  /// its share of the rows.
  void quantizeRows(Buf x, int64_t k, Value nRows, Value first, int64_t q);
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
  std::pair<Value, Value> threadShare(int64_t count) { return threadShare(idx(count)); }
  /// The same for a count known at run time only.
  std::pair<Value, Value> threadShare(Value count) {
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
  /// threaded: every thread calls it (the cache append split by rows, a
  /// barrier, the queries split by (row, head)); else thread 0 runs it all.
  LogicalResult emitAttention(AttentionOp op, bool threaded);
  /// The queries of an attention (LMAttentionQueries.cpp): blocks of
  /// `rowsPerBlock` rows x the `group` query heads of a KV head; `base` is
  /// the thread's scratch (attnThreadFloats floats), kc/vc the cache, q/y the
  /// queries and outputs [rows, heads * hd].
  struct AttnBlock {
    int64_t rowsPerBlock, group, hd, nc, kvw;
    Value base;
    Buf kc, vc, y;
  };
  /// forShare(count, body): body(i) for this thread's share of [0, count).
  using ShareFn = function_ref<void(Value, function_ref<void(Value)>)>;
  /// query(offset, position): the normalized, rotated, scaled query at
  /// `offset` of q (hd / lanes vectors).
  using QueryFn = function_ref<SmallVector<Value>(Value, Value)>;
  void attendBlocks(const AttnBlock &a, ShareFn forShare, QueryFn query);

  const PackedWeights &packer;
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
  /// The target's u8 x s8 dot-product intrinsic ("" : portable code).
  std::string int8Dot;
  /// The target has no half-precision conversions: integer code instead.
  bool softHalf = false;
  /// Half-precision values (f16, vector or scalar) as float32: fpext, or
  /// integer code where softHalf (exact either way, subnormals, infinities
  /// and NaNs included).
  Value extHalf(Value h);
  /// Float32 x rounded to the nearest half-precision value (ties to even),
  /// as float32: what fptrunc then fpext give.
  Value roundHalf(Value x);
private:
  Value wHalf; ///< the weights seen as half-precision elements
  Value wByte; ///< the weights seen as int8 elements
};


} // namespace mlir::liquid::lm

#endif
