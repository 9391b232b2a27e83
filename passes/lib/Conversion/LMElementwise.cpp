//===- LMElementwise.cpp - serial LM ops ------------------------------------===//
//
// The ops besides the products: embedding gathers, RMSNorm, residual adds,
// SwiGLU and column ranges work row by row, and every thread takes a share
// of the rows; the short convolution and the router run on thread 0.
//
//===----------------------------------------------------------------------===//
#include "LMEmitter.h"

using namespace mlir;
using namespace mlir::liquid;
using namespace mlir::liquid::lm;

LogicalResult LMEmitter::emit(Operation &op) {
  if (op.getNumResults() && isWeight(op.getResult(0)))
    return success();
  if (auto m = dyn_cast<MoEExpertsOp>(op))
    return emitMoEExperts(m); // threaded inside
  if (auto a = dyn_cast<AttentionOp>(op); a && !hasAttr<HalideKernelAttrHelper>(a)) {
    LanesScope narrow(*this, fitLanes(lanes, {cols(a.getQ()), int64_t(a.getHeadDim() / 2)}));
    return emitAttention(a, /*threaded=*/true); // rows, then (row, head) pairs split
  }
  if (isa<EmbeddingOp, RMSNormOp, arith::AddFOp, SwiGLUOp, SwiGLUHalvesOp, ColumnsOp>(op)) {
    shareRows = true; // rows are independent: every thread takes a share
    LogicalResult r = emitSerial(op);
    shareRows = false;
    return r;
  }
  if (!isa<LinearOp>(op)) {
    // The rest is cheap next to the products: thread 0 runs it while the
    // others wait at the barrier.
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
    auto [lo, hi] = rowRange();
    int64_t n = cols(a.getResult());
    dloop(muli(lo, n), muli(hi, n), lanes, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
      st(add(ld(x, i, 0), ld(y, i, 0)), z, i, 0);
      return {};
    });
    return success();
  }
  if (auto s = dyn_cast<SwiGLUOp>(op)) {
    Buf g = act(s.getGate()), u = act(s.getUp()), z = act(s.getResult());
    auto [lo, hi] = rowRange();
    int64_t n = cols(s.getResult());
    dloop(muli(lo, n), muli(hi, n), lanes, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
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
    return emitAttention(a, /*threaded=*/false);
  return op.emitOpError("cannot be lowered in a language-model function");
}

//===----------------------------------------------------------------------===//
// Half precision without the target's conversions (softHalf)
//===----------------------------------------------------------------------===//

namespace {
/// Integer and float constants and bitcasts shaped like `like` (a vector or
/// a scalar of 32-bit elements).
struct Bits {
  OpBuilder &b;
  Location loc;
  Type i32, f32;
  Bits(OpBuilder &b, Location loc, Type like) : b(b), loc(loc) {
    auto v = dyn_cast<VectorType>(like);
    i32 = v ? Type(VectorType::get(v.getShape(), b.getI32Type())) : Type(b.getI32Type());
    f32 = v ? Type(VectorType::get(v.getShape(), b.getF32Type())) : Type(b.getF32Type());
  }
  Value ci(int64_t c) {
    auto attr = b.getI32IntegerAttr(static_cast<int32_t>(c));
    if (auto v = dyn_cast<VectorType>(i32))
      return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v, attr.getValue()));
    return arith::ConstantOp::create(b, loc, attr);
  }
  Value cf(float c) {
    auto attr = b.getF32FloatAttr(c);
    if (auto v = dyn_cast<VectorType>(f32))
      return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v, attr.getValue()));
    return arith::ConstantOp::create(b, loc, attr);
  }
  Value asInt(Value f) { return arith::BitcastOp::create(b, loc, i32, f); }
  Value asFloat(Value i) { return arith::BitcastOp::create(b, loc, f32, i); }
  Value band(Value x, int64_t m) { return arith::AndIOp::create(b, loc, x, ci(m)); }
  Value bor(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, int64_t c) {
    return arith::CmpIOp::create(b, loc, p, x, ci(c));
  }
  Value sel(Value c, Value x, Value y) { return arith::SelectOp::create(b, loc, c, x, y); }
};
} // namespace

Value LMEmitter::extHalf(Value h) {
  Type ty = h.getType();
  auto vt = dyn_cast<VectorType>(ty);
  Type f32 = vt ? Type(VectorType::get(vt.getShape(), b.getF32Type())) : Type(b.getF32Type());
  if (!softHalf)
    return arith::ExtFOp::create(b, loc, f32, h);
  Bits k(b, loc, f32);
  Type i16 = vt ? Type(VectorType::get(vt.getShape(), b.getI16Type())) : Type(b.getI16Type());
  Value w = arith::ExtUIOp::create(b, loc, k.i32, arith::BitcastOp::create(b, loc, i16, h));
  Value sign = arith::ShLIOp::create(b, loc, k.band(w, 0x8000), k.ci(16));
  Value em = k.band(w, 0x7FFF);
  Value shifted = arith::ShLIOp::create(b, loc, em, k.ci(13));
  // exponent and mantissa moved into a float's places: the value times
  // 2^-112, subnormals too (exact); 2^112 restores it
  Value v = k.asInt(arith::MulFOp::create(b, loc, k.asFloat(shifted), k.cf(0x1p112f)));
  Value special = k.bor(shifted, k.ci(0x7F800000)); // infinities and NaNs
  v = k.sel(k.cmp(arith::CmpIPredicate::uge, em, 0x7C00), special, v);
  return k.asFloat(k.bor(v, sign));
}

Value LMEmitter::roundHalf(Value x) {
  if (!softHalf) {
    auto vt = dyn_cast<VectorType>(x.getType());
    Type f16 = vt ? Type(VectorType::get(vt.getShape(), b.getF16Type())) : Type(b.getF16Type());
    return arith::ExtFOp::create(b, loc, x.getType(),
                                 arith::TruncFOp::create(b, loc, f16, x).getResult());
  }
  Bits k(b, loc, x.getType());
  Value bits = k.asInt(x);
  Value sign = k.band(bits, int64_t(0x80000000u));
  Value a = k.band(bits, 0x7FFFFFFF);
  // normal halves: the mantissa rounded to 10 bits, ties to even
  Value odd = k.band(arith::ShRUIOp::create(b, loc, a, k.ci(13)), 1);
  Value normal = k.band(arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, a, k.ci(0xFFF)), odd),
                        int64_t(0xFFFFE000u));
  // below 2^-14: multiples of 2^-24 (adding 2^23 rounds to an integer, ties to even)
  Value scaled = arith::MulFOp::create(b, loc, k.asFloat(a), k.cf(0x1p24f));
  Value big = k.cf(0x1p23f);
  Value ri = arith::SubFOp::create(b, loc, arith::AddFOp::create(b, loc, scaled, big), big);
  Value sub = k.asInt(arith::MulFOp::create(b, loc, ri, k.cf(0x1p-24f)));
  Value r = k.sel(k.cmp(arith::CmpIPredicate::ult, a, 0x38800000), sub, normal);
  // from 65520 up: infinity; NaNs stay NaNs
  r = k.sel(k.cmp(arith::CmpIPredicate::uge, a, 0x477FF000), k.ci(0x7F800000), r);
  r = k.sel(k.cmp(arith::CmpIPredicate::ugt, a, 0x7F800000), a, r);
  return k.asFloat(k.bor(r, sign));
}
