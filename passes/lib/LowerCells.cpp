//===- LowerCells.cpp - liquid-lower-cells ----------------------------------===//
//
// Lowers the planned body of each liquid.scan into a step kernel:
//   func.func @<prefix>_kernel_step(%weights: memref<Wxf32>, %arena: memref<Axf32>, %ts: f32)
// made of scf loops over 8- or 16-float vector operations on the arena (activations,
// state, scratch at their planned offsets) and the packed weight blob (the
// slots liquid-pack-weights recorded).
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"
#include "liquid/Passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::liquid {
#define GEN_PASS_DEF_LOWERCELLS
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;
using namespace mlir::liquid;
using ::liquid::kLtcTileChunks;
using ::liquid::PackLayout;

namespace {

int64_t vecLen(Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(0); }

/// A block-sparse op's kept blocks (liquid-pack-weights chose them): a dense
/// layer's weight; an LTC's recurrent and sensory synapse matrices.
struct SparsePlan {
  const ::liquid::Occupancy *occ = nullptr, *sensoryOcc = nullptr;
};

//===----------------------------------------------------------------------===//
// Kernel emission
//===----------------------------------------------------------------------===//

/// A place in memory: a memref (weights or arena) and a float offset.
class KernelEmitter : public VecBuilder {
public:
  KernelEmitter(OpBuilder &b, Location loc, const PackedWeights &packer, Value wMem, Value aMem,
                Value ts)
      : VecBuilder(b, loc, packer.lanes), packer(packer), wMem(wMem), aMem(aMem), ts(ts) {}

  DenseMap<Value, int64_t> actOffset;
  DenseMap<Operation *, SparsePlan> sparse;

  LogicalResult emit(Operation &op);
  void emitStateCopies(YieldOp yield, ArrayRef<int64_t> stateOffsets);

private:
  Buf act(Value v) { return {aMem, actOffset.lookup(v)}; }
  Buf buf(Value v, PackFormat l) {
    if (isWeight(v))
      return {wMem, packer.lookup(v, l)};
    return act(v);
  }
  Buf result(Operation &op, unsigned i = 0) {
    return {aMem, readAttr<OffsetAttrHelper>(&op)[i]};
  }
  void copy(Buf dst, Buf src, int64_t n) {
    forChunks(n, [&](Value d, int64_t o) { st(ld(src, d, o), dst, d, o); });
  }

  // --- ops ------------------------------------------------------------------
  LogicalResult emitDense(DenseOp op);
  LogicalResult applyLateActivation(DenseOp op, int64_t np, Buf dst, bool late);
  LogicalResult emitCfCEpilogue(CfCEpilogueOp op);
  LogicalResult emitLSTMEpilogue(LSTMEpilogueOp op);
  LogicalResult emitLTCSolve(LTCSolveOp op);
  /// emitLTCSolve's loops in compact kernels (dense synapse matrices):
  /// `bufs` = cm, gleak, gleak * vleak, and the scratch next, sNum, sDen.
  LogicalResult emitCompactLTCSolve(LTCSolveOp op, ArrayRef<Buf> bufs);
  /// The same over the nonzero blocks of a block-sparse layout; `cursor`
  /// walks the blocks (shared by the four matrices).
  SmallVector<Value> sparseSynapses(Buf pre, const ::liquid::Occupancy &occ, Buf sigma, Buf mu,
                                    Buf wEff, Buf wErev, int64_t c0, int64_t nc, int64_t &cursor);
  /// Accumulates `sum_src f(src) * W[src, :]` style LTC synapse currents for
  /// dst chunks [c0, c0 + nc): num += w_erev * s, den += w_eff * s with
  /// s = sigmoid(sigma * (pre[src] - mu)).
  SmallVector<Value> synapses(Buf pre, int64_t nSrc, int64_t rowStride, Buf sigma, Buf mu,
                              Buf wEff, Buf wErev, int64_t c0, int64_t nc);

  const PackedWeights &packer;
  Value wMem, aMem, ts;
};

LogicalResult KernelEmitter::emit(Operation &op) {
  if (op.getNumResults() && isWeight(op.getResult(0)))
    return success(); // evaluated at compile time
  if (auto d = dyn_cast<DenseOp>(op))
    return emitDense(d);
  if (auto l = dyn_cast<LTCSolveOp>(op))
    return emitLTCSolve(l); // its chunks follow the synapse matrices' layout
  // Element-wise ops: `elementLanes` wide (compact kernels on a narrower
  // vector unit), reading the same padded vectors.
  std::optional<LanesScope> narrow;
  if (elementLanes && elementLanes < lanes)
    narrow.emplace(*this, elementLanes);
  if (auto e = dyn_cast<CfCEpilogueOp>(op))
    return emitCfCEpilogue(e);
  if (auto e = dyn_cast<LSTMEpilogueOp>(op))
    return emitLSTMEpilogue(e);
  if (auto c = dyn_cast<ConcatOp>(op)) {
    Buf dst = result(op);
    for (Value in : c.getInputs()) {
      copy(dst, buf(in, PackLayout::Vector), vecLen(in));
      dst.off += vecLen(in);
    }
    return success();
  }
  if (auto s = dyn_cast<SliceOp>(op)) {
    Buf src = buf(s.getInput(), PackLayout::Vector);
    src.off += s.getOffset();
    copy(result(op), src, vecLen(s.getResult()));
    return success();
  }
  if (auto a = dyn_cast<ActivationOp>(op)) {
    Buf src = buf(a.getInput(), PackLayout::Vector), dst = result(op);
    forChunks(vecLen(a.getInput()), [&](Value d, int64_t o) {
      st(activation(a.getKind(), ld(src, d, o)), dst, d, o);
    });
    return success();
  }
  if (auto s = dyn_cast<ScaleShiftOp>(op)) {
    Buf x = act(s.getInput()), sc = buf(s.getScale(), PackLayout::Vector), dst = result(op);
    std::optional<Buf> sh;
    if (s.getShift())
      sh = buf(s.getShift(), PackLayout::Vector);
    forChunks(vecLen(s.getInput()), [&](Value d, int64_t o) {
      Value y = mul(ld(x, d, o), ld(sc, d, o));
      if (sh)
        y = add(y, ld(*sh, d, o));
      st(y, dst, d, o);
    });
    return success();
  }
  return op.emitOpError("cannot be lowered by liquid-lower-cells; run the fusion passes first");
}

LogicalResult KernelEmitter::emitDense(DenseOp op) {
  if (isWeight(op.getInput()) || !isWeight(op.getWeight()))
    return op.emitOpError("needs an activation input and a weight matrix");
  int64_t k = vecLen(op.getInput()), n = vecLen(op.getResult()), np = ::liquid::roundUp(n, lanes);
  Buf x = act(op.getInput()), bias = buf(op.getBias(), PackLayout::Vector), dst = result(*op);
  bool lateAct = compact && op.getActivation() != Activation::None;
  // q8c weights: int8 with a scale per output after the slot's np scales;
  // the products start from zero and end as y = scale * acc + bias.
  bool q8 = op.getWeightType() == WeightStorage::Q8C;
  Buf scales{wMem, 0};
  auto start = [&](Value dyn, int64_t off) { return q8 ? splat(0.0f) : ld(bias, dyn, off); };
  auto finish = [&](Value acc, Value dyn, int64_t off) {
    return q8 ? add(mul(acc, ld(scales, dyn, off)), ld(bias, dyn, off)) : acc;
  };
  // A weight vector: `col` floats (f32) or bytes (q8c) past float `row` of `p`.
  auto ldW = [&](Buf p, Value row, int64_t col) { return q8 ? ldQ8(p, row, col) : ld(p, row, col); };
  if (auto it = sparse.find(op); it != sparse.end()) {
    // Block-sparse: straight-line code over the nonzero [input, 8-output] blocks.
    const ::liquid::Occupancy &occ = *it->second.occ;
    Buf blocks{wMem, packer.lookupBlocks(op.getWeight(), true)};
    scales = blocks;
    if (q8)
      blocks.off += np;
    int64_t tileChunks = ::liquid::denseTile(lanes) / lanes, chunks = np / lanes, cursor = 0;
    for (int64_t c0 = 0; c0 < chunks; c0 += tileChunks) {
      int64_t tn = std::min(tileChunks, chunks - c0);
      SmallVector<Value> acc;
      for (int64_t j = 0; j < tn; ++j)
        acc.push_back(start(Value(), (c0 + j) * lanes));
      for (int64_t r = 0; r < k; ++r) {
        Value xb;
        for (int64_t j = 0; j < tn; ++j) {
          if (!occ[r][c0 + j])
            continue;
          if (!xb)
            xb = bcast(ldScalar(x, Value(), r));
          acc[j] = add(mul(ldW(blocks, Value(), q8 ? 4 * cursor : cursor), xb), acc[j]);
          cursor += q8 ? lanes / 4 : lanes;
        }
      }
      for (int64_t j = 0; j < tn; ++j) {
        Value y = finish(acc[j], Value(), (c0 + j) * lanes);
        st(lateAct ? y : activation(op.getActivation(), y), dst, Value(), (c0 + j) * lanes);
      }
    }
    return applyLateActivation(op, np, dst, lateAct);
  }
  Buf w = buf(op.getWeight(), packFormat(WeightLayout::Transposed, op.getWeightType()));
  scales = w;
  if (auto hk = readAttr<HalideKernelAttrHelper>(op)) {
    // The product by a Halide kernel (liquid-halide-gen), then bias and
    // activation here.
    if (np % ::liquid::denseTile(lanes))
      return op.emitOpError() << "a Halide kernel needs whole column tiles, got " << n << " outputs";
    callExternal(op->getParentOfType<ModuleOp>(), hk.getValue(),
                 {address(x), address(w), address(dst), idx(1), idx(np), idx(0), idx(np)});
    forChunks(n, [&](Value d, int64_t o) {
      st(activation(op.getActivation(), add(ld(dst, d, o), ld(bias, d, o))), dst, d, o);
    });
    return success();
  }
  // One column tile of the packed weights (kDenseTile outputs, 8 vector
  // accumulators) at a time: the tile's [K, width] block is contiguous.
  for (int64_t t0 = 0; t0 < np; t0 += ::liquid::denseTile(lanes)) {
    int64_t width = std::min(::liquid::denseTile(lanes), np - t0), tn = width / lanes;
    Buf block = q8 ? Buf{w.mem, w.off + np + t0 * k / 4} : Buf{w.mem, w.off + t0 * k};
    int64_t rowFloats = q8 ? width / 4 : width;
    if (compact) {
      // Compact code: one vector of the tile at a time (a loop), its
      // accumulator in registers; the weights read with the tile's stride.
      loop(0, width, lanes, {}, [&](Value jl, ValueRange) -> SmallVector<Value> {
        Value col = q8 ? arith::DivUIOp::create(b, loc, jl, idx(4)).getResult() : jl;
        Value acc = loop(0, k, 1, {start(jl, t0)}, [&](Value kv, ValueRange a) -> SmallVector<Value> {
          Value at = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, kv, idx(rowFloats)), col);
          return {add(mul(ldW(block, at, 0), bcast(ldScalar(x, kv, 0))), a[0])};
        })[0];
        st(finish(acc, jl, t0), dst, jl, t0);
        return {};
      });
      continue;
    }
    SmallVector<Value> init;
    for (int64_t j = 0; j < tn; ++j)
      init.push_back(start(Value(), t0 + j * lanes));
    SmallVector<Value> acc = loop(0, k, 1, init, [&](Value kv, ValueRange a) {
      Value xb = bcast(ldScalar(x, kv, 0));
      Value row = arith::MulIOp::create(b, loc, kv, idx(rowFloats));
      SmallVector<Value> next;
      for (int64_t j = 0; j < tn; ++j)
        next.push_back(add(mul(ldW(block, row, j * lanes), xb), a[j]));
      return next;
    });
    for (int64_t j = 0; j < tn; ++j) {
      Value y = finish(acc[j], Value(), t0 + j * lanes);
      st(lateAct ? y : activation(op.getActivation(), y), dst, Value(), t0 + j * lanes);
    }
  }
  return applyLateActivation(op, np, dst, lateAct);
}

/// Compact code applies a dense layer's activation in a loop after the
/// product, once, instead of on each of the tile's accumulators.
LogicalResult KernelEmitter::applyLateActivation(DenseOp op, int64_t np, Buf dst, bool late) {
  std::optional<LanesScope> narrow;
  if (late && elementLanes && elementLanes < lanes)
    narrow.emplace(*this, elementLanes);
  if (late)
    forChunks(np, [&](Value d, int64_t o) {
      st(activation(op.getActivation(), ld(dst, d, o)), dst, d, o);
    });
  return success();
}

LogicalResult KernelEmitter::emitCfCEpilogue(CfCEpilogueOp op) {
  int64_t h = vecLen(op.getResult());
  Buf z = act(op.getHeads()), dst = result(*op);
  if (auto hk = readAttr<HalideKernelAttrHelper>(op)) {
    // The Halide kernel (liquid-halide-gen): (z, w_tau, A, y, ts).
    Value wTau = idx(0), a = idx(0);
    if (op.getMode() == CfCMode::Pure) {
      wTau = address(buf(op.getExtra()[0], PackLayout::Vector));
      a = address(buf(op.getExtra()[1], PackLayout::Vector));
    }
    callExternal(op->getParentOfType<ModuleOp>(), hk.getValue(),
                 {address(z), wTau, a, address(dst), ts});
    return success();
  }
  Value tsv = bcast(ts);
  CfCMode mode = op.getMode();
  std::optional<Buf> wTau, a;
  if (mode == CfCMode::Pure) {
    wTau = buf(op.getExtra()[0], PackLayout::Vector);
    a = buf(op.getExtra()[1], PackLayout::Vector);
  }
  forChunks(h, [&](Value d, int64_t o) {
    Value y;
    if (mode == CfCMode::Pure) {
      // h' = -A * exp(-ts * (|w_tau| + |ff1|)) * ff1 + A
      Value f = ld(z, d, o), av = ld(*a, d, o);
      Value tau = add(math::AbsFOp::create(b, loc, ld(*wTau, d, o)),
                      math::AbsFOp::create(b, loc, f));
      Value e = math::ExpOp::create(b, loc, mul(sub(splat(0.0f), tsv), tau));
      y = add(mul(mul(sub(splat(0.0f), av), e), f), av);
    } else {
      Value f1 = tanh(ld(z, d, o)), f2 = tanh(ld(z, d, o + h));
      Value t = sigmoid(add(mul(ld(z, d, o + 2 * h), tsv), ld(z, d, o + 3 * h)));
      if (mode == CfCMode::NoGate)
        y = add(f1, mul(t, f2));
      else
        y = add(mul(f1, sub(splat(1.0f), t)), mul(t, f2));
    }
    st(y, dst, d, o);
  });
  return success();
}

LogicalResult KernelEmitter::emitLSTMEpilogue(LSTMEpilogueOp op) {
  int64_t h = vecLen(op.getC());
  Buf z = act(op.getGates()), c = act(op.getC()), hOut = result(*op, 0), cOut = result(*op, 1);
  forChunks(h, [&](Value d, int64_t o) {
    Value i = ld(z, d, o), ig = ld(z, d, o + h), fg = ld(z, d, o + 2 * h),
          og = ld(z, d, o + 3 * h);
    Value cn = add(mul(ld(c, d, o), sigmoid(add(fg, splat(1.0f)))), mul(tanh(i), sigmoid(ig)));
    st(cn, cOut, d, o);
    st(mul(tanh(cn), sigmoid(og)), hOut, d, o);
  });
  return success();
}

SmallVector<Value> KernelEmitter::synapses(Buf pre, int64_t nSrc, int64_t rowStride, Buf sigma,
                                           Buf mu, Buf wEff, Buf wErev, int64_t c0,
                                           int64_t nc) {
  SmallVector<Value> init(2 * nc, splat(0.0f));
  return loop(0, nSrc, 1, init, [&](Value s, ValueRange acc) {
    Value vs = bcast(ldScalar(pre, s, 0));
    Value row = arith::MulIOp::create(b, loc, s, idx(rowStride));
    SmallVector<Value> next(acc.begin(), acc.end());
    for (int64_t j = 0; j < nc; ++j) {
      int64_t o = (c0 + j) * lanes;
      Value sg = sigmoid(mul(ld(sigma, row, o), sub(vs, ld(mu, row, o))));
      next[j] = add(next[j], mul(ld(wErev, row, o), sg));
      next[nc + j] = add(next[nc + j], mul(ld(wEff, row, o), sg));
    }
    return next;
  });
}

SmallVector<Value> KernelEmitter::sparseSynapses(Buf pre, const ::liquid::Occupancy &occ,
                                                 Buf sigma, Buf mu, Buf wEff, Buf wErev,
                                                 int64_t c0, int64_t nc, int64_t &cursor) {
  SmallVector<Value> acc(2 * nc, splat(0.0f));
  for (int64_t s = 0; s < static_cast<int64_t>(occ.size()); ++s) {
    Value vs;
    for (int64_t j = 0; j < nc; ++j) {
      if (!occ[s][c0 + j])
        continue;
      if (!vs)
        vs = bcast(ldScalar(pre, Value(), s));
      Value sg = sigmoid(mul(ld(sigma, Value(), cursor), sub(vs, ld(mu, Value(), cursor))));
      acc[j] = add(acc[j], mul(ld(wErev, Value(), cursor), sg));
      acc[nc + j] = add(acc[nc + j], mul(ld(wEff, Value(), cursor), sg));
      cursor += lanes;
    }
  }
  return acc;
}

LogicalResult KernelEmitter::emitLTCSolve(LTCSolveOp op) {
  int64_t n = vecLen(op.getState()), s = vecLen(op.getInput()), np = ::liquid::roundUp(n, lanes);
  int64_t chunks = np / lanes;
  Buf x = act(op.getInput()), v0 = act(op.getState()), out = result(*op);
  auto vecP = [&](Value p) { return buf(p, PackLayout::Vector); };
  const SparsePlan *plan = nullptr;
  if (auto it = sparse.find(op); it != sparse.end())
    plan = &it->second;
  // Dense: rows padded to 8; block-sparse: the blocks the plan keeps.
  auto rowP = [&](Value p) {
    return plan ? Buf{wMem, packer.lookupBlocks(p, false)} : buf(p, PackLayout::Rows);
  };
  Buf cm = vecP(op.getCm()), gleak = vecP(op.getGleak()), gleakVleak = vecP(op.getGleakVleak());
  auto scratchAttr = readAttr<ScratchAttrHelper>(op);
  if (!scratchAttr)
    return op.emitOpError("has no scratch slot; run liquid-plan-memory first");
  int64_t slot = slotFloats(n);
  Buf next{aMem, scratchAttr.getInt()}, sNum{aMem, next.off + slot}, sDen{aMem, next.off + 2 * slot};
  constexpr int64_t kTile = kLtcTileChunks; // dst chunks per tile: 8 accumulators
  if (compact && elementLanes && !plan)
    return emitCompactLTCSolve(op, {cm, gleak, gleakVleak, next, sNum, sDen});

  // Sensory currents: once per step.
  int64_t sensoryCursor = 0;
  for (int64_t c0 = 0; c0 < chunks; c0 += kTile) {
    int64_t nc = std::min(kTile, chunks - c0);
    SmallVector<Value> acc =
        plan ? sparseSynapses(x, *plan->sensoryOcc, rowP(op.getSensorySigma()), rowP(op.getSensoryMu()),
                             rowP(op.getSensoryWEff()), rowP(op.getSensoryWErev()), c0, nc,
                              sensoryCursor)
             : synapses(x, s, np, rowP(op.getSensorySigma()), rowP(op.getSensoryMu()),
                        rowP(op.getSensoryWEff()), rowP(op.getSensoryWErev()), c0, nc);
    for (int64_t j = 0; j < nc; ++j) {
      st(acc[j], sNum, Value(), (c0 + j) * lanes);
      st(acc[nc + j], sDen, Value(), (c0 + j) * lanes);
    }
  }
  copy(out, v0, n);
  // cm_t = cm / (ts / ode_unfolds), as ncps computes it.
  Value dt = bcast(arith::DivFOp::create(b, loc, ts, scalar(static_cast<float>(op.getOdeUnfolds()))));
  Value eps = splat(static_cast<float>(op.getEpsilon().convertToDouble()));
  loop(0, op.getOdeUnfolds(), 1, {}, [&](Value, ValueRange) -> SmallVector<Value> {
    int64_t cursor = 0;
    for (int64_t c0 = 0; c0 < chunks; c0 += kTile) {
      int64_t nc = std::min(kTile, chunks - c0);
      SmallVector<Value> acc =
          plan ? sparseSynapses(out, *plan->occ, rowP(op.getSigma()), rowP(op.getMu()),
                               rowP(op.getWEff()), rowP(op.getWErev()), c0, nc, cursor)
               : synapses(out, n, np, rowP(op.getSigma()), rowP(op.getMu()), rowP(op.getWEff()),
                          rowP(op.getWErev()), c0, nc);
      for (int64_t j = 0; j < nc; ++j) {
        int64_t o = (c0 + j) * lanes;
        Value cmt = div(ld(cm, Value(), o), dt);
        Value num = add(add(mul(cmt, ld(out, Value(), o)), ld(gleakVleak, Value(), o)),
                        add(acc[j], ld(sNum, Value(), o)));
        Value den = add(add(add(cmt, ld(gleak, Value(), o)), add(acc[nc + j], ld(sDen, Value(), o))),
                        eps);
        st(div(num, den), next, Value(), o);
      }
    }
    copy(out, next, n);
    return {};
  });
  return success();
}

LogicalResult KernelEmitter::emitCompactLTCSolve(LTCSolveOp op, ArrayRef<Buf> bufs) {
  // The same equations with one loop over the destination neurons,
  // elementLanes at a time, inside (sensory) or around (recurrent) the loop
  // over sources: each sigmoid exists once in the code.
  int64_t n = vecLen(op.getState()), s = vecLen(op.getInput()), np = ::liquid::roundUp(n, lanes);
  Buf cm = bufs[0], gleak = bufs[1], gleakVleak = bufs[2], next = bufs[3], sNum = bufs[4],
      sDen = bufs[5];
  Buf x = act(op.getInput()), v0 = act(op.getState()), out = result(*op);
  auto rowP = [&](Value p) { return buf(p, PackLayout::Rows); };
  LanesScope narrow(*this, elementLanes);
  int64_t nl = ::liquid::roundUp(n, lanes); // the destinations, in narrow vectors
  // sum over sources of w_erev * sig and w_eff * sig at destinations [d, d + lanes)
  auto currents = [&](Buf pre, int64_t nSrc, Value d, Value sigma, Value mu, Value wEff,
                      Value wErev) {
    Buf sg = rowP(sigma), m = rowP(mu), we = rowP(wEff), wr = rowP(wErev);
    return loop(0, nSrc, 1, {splat(0.0f), splat(0.0f)}, [&](Value src, ValueRange acc) {
      Value at = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, src, idx(np)), d);
      Value vs = bcast(ldScalar(pre, src, 0));
      Value sig = sigmoid(mul(ld(sg, at, 0), sub(vs, ld(m, at, 0))));
      return SmallVector<Value>{add(acc[0], mul(ld(wr, at, 0), sig)),
                                add(acc[1], mul(ld(we, at, 0), sig))};
    });
  };
  loop(0, nl, lanes, {}, [&](Value d, ValueRange) -> SmallVector<Value> {
    SmallVector<Value> acc = currents(x, s, d, op.getSensorySigma(), op.getSensoryMu(),
                                      op.getSensoryWEff(), op.getSensoryWErev());
    st(acc[0], sNum, d, 0);
    st(acc[1], sDen, d, 0);
    return {};
  });
  copy(out, v0, n);
  Value dt = bcast(arith::DivFOp::create(b, loc, ts, scalar(static_cast<float>(op.getOdeUnfolds()))));
  Value eps = splat(static_cast<float>(op.getEpsilon().convertToDouble()));
  loop(0, op.getOdeUnfolds(), 1, {}, [&](Value, ValueRange) -> SmallVector<Value> {
    loop(0, nl, lanes, {}, [&](Value d, ValueRange) -> SmallVector<Value> {
      SmallVector<Value> acc =
          currents(out, n, d, op.getSigma(), op.getMu(), op.getWEff(), op.getWErev());
      Value cmt = div(ld(cm, d, 0), dt);
      Value num = add(add(mul(cmt, ld(out, d, 0)), ld(gleakVleak, d, 0)), add(acc[0], ld(sNum, d, 0)));
      Value den = add(add(add(cmt, ld(gleak, d, 0)), add(acc[1], ld(sDen, d, 0))), eps);
      st(div(num, den), next, d, 0);
      return {};
    });
    copy(out, next, n);
    return {};
  });
  return success();
}

void KernelEmitter::emitStateCopies(YieldOp yield, ArrayRef<int64_t> stateOffsets) {
  std::optional<LanesScope> narrow;
  if (elementLanes && elementLanes < lanes)
    narrow.emplace(*this, elementLanes);
  for (auto [i, v] : llvm::enumerate(yield.getValues().drop_front())) {
    Buf src = act(v);
    if (src.off != stateOffsets[i])
      copy({aMem, stateOffsets[i]}, src, vecLen(v));
  }
}

//===----------------------------------------------------------------------===//
// The batched kernel
//===----------------------------------------------------------------------===//

/// Rows of a batched step whose dense products share each weight load: 4
/// rows x `groupChunks` vectors of accumulators stay in registers.
constexpr int64_t kRowGroup = 4;

/// Emits `<prefix>_kernel_step_rows(%weights, %arenas, %ts, %rows: i64)`: one
/// step of `rows` independent sequences, row r in its own arena at
/// r * arenaSize with time span ts[r]. A dense product takes the rows in
/// groups of kRowGroup, each weight vector loaded once per group (the same
/// operations in the same order per row as the single-step kernel, so the
/// results are bit-identical); every other op runs row after row on a view
/// of the row's arena, emitted by KernelEmitter.
class RowsKernelEmitter : public VecBuilder {
public:
  RowsKernelEmitter(OpBuilder &b, Location loc, const PackedWeights &packer, Value wMem,
                    Value arenas, Value tsMem, Value rows, int64_t arenaSize,
                    const DenseMap<Value, int64_t> &actOffset,
                    const DenseMap<Operation *, SparsePlan> &sparse)
      : VecBuilder(b, loc, packer.lanes), packer(packer), wMem(wMem), arenas(arenas),
        tsMem(tsMem), rows(rows), arenaSize(arenaSize), actOffset(actOffset), sparse(sparse) {}

  LogicalResult emit(Block &body, ArrayRef<int64_t> stateOffsets) {
    SmallVector<Operation *> perRow;
    for (Operation &op : body) {
      auto d = dyn_cast<DenseOp>(op);
      if (!d || isWeight(d.getResult()) || isWeight(d.getInput()) || sparse.count(&op) ||
          readAttr<HalideKernelAttrHelper>(&op)) {
        perRow.push_back(&op);
        continue;
      }
      if (failed(rowByRow(perRow, stateOffsets)))
        return failure();
      perRow.clear();
      emitDense(d);
    }
    return rowByRow(perRow, stateOffsets);
  }

private:
  Value imul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value iadd(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }

  /// `ops` for each row in turn, on a view of the row's arena.
  LogicalResult rowByRow(ArrayRef<Operation *> ops, ArrayRef<int64_t> stateOffsets) {
    if (ops.empty())
      return success();
    LogicalResult result = success();
    loop(idx(0), rows, 1, {}, [&](Value r, ValueRange) -> SmallVector<Value> {
      OpFoldResult off = imul(r, idx(arenaSize));
      auto viewType = MemRefType::get(
          {arenaSize}, b.getF32Type(),
          StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, {1}));
      Value view = memref::ReinterpretCastOp::create(
          b, loc, viewType, arenas, off, ArrayRef<OpFoldResult>{b.getIndexAttr(arenaSize)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      Value ts = memref::LoadOp::create(b, loc, tsMem, ValueRange{r});
      KernelEmitter em(b, loc, packer, wMem, view, ts);
      em.compact = compact; // compact code, as this emitter's
      em.elementLanes = elementLanes;
      em.actOffset = actOffset;
      em.sparse = sparse;
      for (Operation *op : ops) {
        if (auto y = dyn_cast<YieldOp>(op))
          em.emitStateCopies(y, stateOffsets);
        else if (failed(em.emit(*op)))
          result = failure();
      }
      return {};
    });
    return result;
  }

  void emitDense(DenseOp op) {
    int64_t k = vecLen(op.getInput()), np = ::liquid::roundUp(vecLen(op.getResult()), lanes);
    int64_t xOff = actOffset.lookup(op.getInput()), dstOff = readAttr<OffsetAttrHelper>(op)[0];
    bool q8 = op.getWeightType() == WeightStorage::Q8C; // as KernelEmitter::emitDense
    Buf w{wMem, packer.lookup(op.getWeight(), packFormat(WeightLayout::Transposed, op.getWeightType()))};
    Buf bias{wMem, packer.lookup(op.getBias(), PackLayout::Vector)};
    Value full = imul(arith::DivUIOp::create(b, loc, rows, idx(kRowGroup)), idx(kRowGroup));
    // 16-float vectors: 32 registers, 4 x 4 accumulators; 8-float: 4 x 2.
    int64_t groupChunks = lanes >= 16 ? 4 : 2;
    for (int64_t t0 = 0; t0 < np; t0 += ::liquid::denseTile(lanes)) {
      int64_t width = std::min(::liquid::denseTile(lanes), np - t0), tn = width / lanes;
      Buf block = q8 ? Buf{w.mem, w.off + np + t0 * k / 4} : Buf{w.mem, w.off + t0 * k};
      int64_t rowFloats = q8 ? width / 4 : width;
      for (int64_t j0 = 0; j0 < tn; j0 += groupChunks) {
        int64_t nj = std::min(groupChunks, tn - j0);
        auto group = [&](Value r, int64_t g) {
          SmallVector<Value> base, init;
          for (int64_t i = 0; i < g; ++i) {
            base.push_back(imul(iadd(r, idx(i)), idx(arenaSize)));
            for (int64_t j = 0; j < nj; ++j)
              init.push_back(q8 ? splat(0.0f) : ld(bias, Value(), t0 + (j0 + j) * lanes));
          }
          SmallVector<Value> acc = loop(0, k, 1, init, [&](Value kv, ValueRange a) {
            Value row = imul(kv, idx(rowFloats));
            SmallVector<Value> wv, next;
            for (int64_t j = 0; j < nj; ++j)
              wv.push_back(q8 ? ldQ8(block, row, (j0 + j) * lanes) : ld(block, row, (j0 + j) * lanes));
            for (int64_t i = 0; i < g; ++i) {
              Value xb = bcast(ldScalar({arenas, xOff}, iadd(base[i], kv), 0));
              for (int64_t j = 0; j < nj; ++j)
                next.push_back(add(mul(wv[j], xb), a[i * nj + j]));
            }
            return next;
          });
          for (int64_t i = 0; i < g; ++i)
            for (int64_t j = 0; j < nj; ++j) {
              int64_t o = t0 + (j0 + j) * lanes;
              Value y = acc[i * nj + j];
              if (q8)
                y = add(mul(y, ld(w, Value(), o)), ld(bias, Value(), o));
              st(activation(op.getActivation(), y), {arenas, dstOff}, base[i], o);
            }
        };
        loop(idx(0), full, kRowGroup, {}, [&](Value r, ValueRange) -> SmallVector<Value> {
          group(r, kRowGroup);
          return {};
        });
        loop(full, rows, 1, {}, [&](Value r, ValueRange) -> SmallVector<Value> {
          group(r, 1);
          return {};
        });
      }
    }
  }

  const PackedWeights &packer;
  Value wMem, arenas, tsMem, rows;
  int64_t arenaSize;
  const DenseMap<Value, int64_t> &actOffset;
  const DenseMap<Operation *, SparsePlan> &sparse;
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct LowerCellsPass : mlir::liquid::impl::LowerCellsBase<LowerCellsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (elementLanes < 0 || elementLanes > vectorWidth ||
        (elementLanes && vectorWidth % elementLanes)) {
      module.emitError() << "element-lanes must be 0 or divide vector-width (" << vectorWidth.getValue()
                         << "), got " << elementLanes.getValue();
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> funcs;
    for (auto f : module.getOps<func::FuncOp>())
      if (!hasAttr<MaxRowsAttrHelper>(f) && !f.getBody().getOps<ScanOp>().empty())
        funcs.push_back(f);
    auto lower = [&](func::FuncOp f, OpBuilder &b, PackedWeights &packer) -> LogicalResult {
      SmallVector<ScanOp> scans;
      f.walk([&](ScanOp s) { scans.push_back(s); });
      if (scans.size() != 1)
        return f.emitOpError("must contain exactly one liquid.scan to be lowered");
      return lowerScan(b, scans.front(), f, packer);
    };
    if (failed(lowerKernelFunctions(module, funcs, vectorWidth, lower)))
      signalPassFailure();
  }

  LogicalResult lowerScan(OpBuilder &b, ScanOp scan, func::FuncOp f, PackedWeights &packer) {
    auto arena = dyn_cast_or_null<StepArenaAttr>(readAttr<ArenaAttrHelper>(scan));
    if (!arena)
      return scan.emitOpError("has no memory plan; run liquid-plan-memory first");
    Block &body = scan.getBody().front();
    if (failed(packer.collect(body)))
      return failure();
    DenseMap<Operation *, SparsePlan> sparse;
    for (Operation &op : body) {
      if (auto d = dyn_cast<DenseOp>(op)) {
        if (auto *occ = packer.occupancy(d.getWeight(), /*transposed=*/true))
          sparse[&op] = {occ, nullptr};
      } else if (auto l = dyn_cast<LTCSolveOp>(op)) {
        if (auto *occ = packer.occupancy(l.getWEff(), /*transposed=*/false))
          sparse[&op] = {occ, packer.occupancy(l.getSensoryWEff(), false)};
      }
    }
    int64_t arenaSize = arena.getSize();
    auto stateOffsets = arena.getStates().asArrayRef();
    std::string prefix = kernelPrefix.empty() ? f.getSymName().str() : kernelPrefix.getValue();
    MLIRContext *ctx = &getContext();
    Type f32 = Float32Type::get(ctx);
    // The blob may still grow with later kernels; the memref type only bounds
    // what this kernel reads.
    auto wType = MemRefType::get({std::max<int64_t>(packer.size, kSlotAlign)}, f32);
    auto aType = MemRefType::get({arenaSize}, f32);
    auto fnType = FunctionType::get(ctx, {wType, aType, f32}, {});
    auto kernel = func::FuncOp::create(b, scan.getLoc(), prefix + "_kernel_step", fnType);
    Block *entry = kernel.addEntryBlock();
    OpBuilder kb = OpBuilder::atBlockBegin(entry);
    KernelEmitter em(kb, scan.getLoc(), packer, entry->getArgument(0), entry->getArgument(1),
                     entry->getArgument(2));
    em.sparse = sparse;
    em.compact = compact;
    em.elementLanes = compact ? elementLanes.getValue() : 0;
    em.actOffset[body.getArgument(0)] = arena.getInput();
    for (unsigned i = 0; i < stateOffsets.size(); ++i)
      em.actOffset[body.getArgument(2 + i)] = stateOffsets[i];
    for (Operation &op : body) {
      if (auto offs = readAttr<OffsetAttrHelper>(&op))
        for (auto [i, r] : llvm::enumerate(op.getResults()))
          if (offs[i] >= 0)
            em.actOffset[r] = offs[i];
    }
    // The body's time span argument is the kernel's %ts.
    for (Operation &op : body) {
      if (auto y = dyn_cast<YieldOp>(op)) {
        em.emitStateCopies(y, stateOffsets);
        continue;
      }
      if (failed(em.emit(op)))
        return failure();
    }
    func::ReturnOp::create(kb, scan.getLoc());

    // The batched kernel: rows of arenas, a time span per row.
    auto rowsMem = [&](int64_t n) { return MemRefType::get({n}, f32); };
    auto rowsType = FunctionType::get(
        ctx, {wType, rowsMem(arenaSize * kStepKernelMaxRows), rowsMem(kStepKernelMaxRows),
              IntegerType::get(ctx, 64)},
        {});
    auto rowsKernel =
        func::FuncOp::create(b, scan.getLoc(), prefix + "_kernel_step_rows", rowsType);
    Block *rowsEntry = rowsKernel.addEntryBlock();
    OpBuilder rb = OpBuilder::atBlockBegin(rowsEntry);
    Value rows = arith::IndexCastOp::create(rb, scan.getLoc(), rb.getIndexType(),
                                            rowsEntry->getArgument(3));
    RowsKernelEmitter rowsEm(rb, scan.getLoc(), packer, rowsEntry->getArgument(0),
                             rowsEntry->getArgument(1), rowsEntry->getArgument(2), rows, arenaSize,
                             em.actOffset, sparse);
    rowsEm.compact = compact;
    rowsEm.elementLanes = compact ? elementLanes.getValue() : 0;
    if (failed(rowsEm.emit(body, stateOffsets)))
      return failure();
    func::ReturnOp::create(rb, scan.getLoc());

    auto xs = cast<RankedTensorType>(scan.getInputs().getType());
    auto ys = cast<RankedTensorType>(scan.getOutputs().getType());
    SmallVector<int64_t> stateSizes;
    for (Value init : scan.getInits())
      stateSizes.push_back(vecLen(init));
    writeAttr<KernelAttrHelper>(
        kernel, StepKernelAttr::get(ctx, arenaSize, arena.getInput(), xs.getDimSize(1),
                                    arena.getOutput(), ys.getDimSize(1), arena.getStates(),
                                    DenseI64ArrayAttr::get(ctx, stateSizes)));
    return success();
  }

};

} // namespace

