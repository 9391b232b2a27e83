//===- FuseCells.cpp - liquid-fuse-cfc and liquid-fuse-ltc ----------------===//
//
// Cell fusion: CfC heads become one matrix product plus one element-wise
// epilogue; LSTM gates likewise; the LTC solver's loop-invariant parameter
// transforms move to compile time (weight expressions).
//
//===----------------------------------------------------------------------===//
#include "liquid/Passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::liquid {
#define GEN_PASS_DEF_FUSECFC
#define GEN_PASS_DEF_FUSELTC
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;
using namespace mlir::liquid;

static RankedTensorType f32Tensor(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, Float32Type::get(ctx));
}

/// Concatenates weights along `dim`; a single weight is returned as is.
static Value concatWeights(OpBuilder &b, Location loc, ValueRange ws, int64_t dim) {
  if (ws.size() == 1)
    return ws.front();
  auto first = cast<RankedTensorType>(ws.front().getType());
  SmallVector<int64_t> shape(first.getShape());
  shape[dim] = 0;
  for (Value w : ws)
    shape[dim] += cast<RankedTensorType>(w.getType()).getDimSize(dim);
  return WeightConcatOp::create(b, loc, f32Tensor(b.getContext(), shape), ws, dim);
}

namespace {

struct FuseCfCPass : mlir::liquid::impl::FuseCfCBase<FuseCfCPass> {
  void runOnOperation() override {
    SmallVector<CfCCellOp> cells;
    SmallVector<LSTMCellOp> lstms;
    getOperation().walk([&](CfCCellOp op) { cells.push_back(op); });
    getOperation().walk([&](LSTMCellOp op) { lstms.push_back(op); });
    for (CfCCellOp op : cells)
      fuseCfC(op);
    for (LSTMCellOp op : lstms)
      fuseLSTM(op);
  }

  void fuseCfC(CfCCellOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    SmallVector<Value> mats, biases;
    for (unsigned i = 0; i < op.getNumHeads(); ++i) {
      Value w = op.getHeadWeight(i);
      // ncps applies the sparsity mask to ff1 and ff2 only.
      if (op.getMask() && i < 2)
        w = WeightMulOp::create(b, loc, w.getType(), w, op.getMask());
      mats.push_back(w);
      biases.push_back(op.getHeadBias(i));
    }
    Value w = concatWeights(b, loc, mats, 0);
    Value bias = concatWeights(b, loc, biases, 0);
    int64_t n = cast<RankedTensorType>(w.getType()).getDimSize(0);
    Value z = DenseOp::create(b, loc, f32Tensor(b.getContext(), {n}), op.getFeatures(), w, bias,
                              Activation::None);
    SmallVector<Value> extra;
    if (op.getWTau())
      extra = {op.getWTau(), op.getAmplitude()};
    Value h = CfCEpilogueOp::create(b, loc, op.getType(), op.getMode(), z, op.getTs(), extra);
    op.replaceAllUsesWith(h);
    op.erase();
  }

  void fuseLSTM(LSTMCellOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto hType = cast<RankedTensorType>(op.getH().getType());
    int64_t in = cast<RankedTensorType>(op.getInput().getType()).getDimSize(0);
    int64_t h = hType.getDimSize(0);
    Value xh = ConcatOp::create(b, loc, f32Tensor(b.getContext(), {in + h}),
                                ValueRange{op.getInput(), op.getH()});
    Value w = concatWeights(b, loc, {op.getInputWeight(), op.getRecurrentWeight()}, 1);
    Value z = DenseOp::create(b, loc, f32Tensor(b.getContext(), {4 * h}), xh, w,
                              op.getInputBias(), Activation::None);
    auto epi = LSTMEpilogueOp::create(b, loc, z, op.getC());
    op.replaceAllUsesWith(epi.getResults());
    op.erase();
  }
};

struct FuseLTCPass : mlir::liquid::impl::FuseLTCBase<FuseLTCPass> {
  void runOnOperation() override {
    SmallVector<LTCCellOp> cells;
    getOperation().walk([&](LTCCellOp op) { cells.push_back(op); });
    for (LTCCellOp op : cells)
      fuse(op);
  }

  void fuse(LTCCellOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    bool positive = op.getPositive();
    auto pos = [&](Value v) -> Value {
      return positive ? WeightMapOp::create(b, loc, v.getType(), WeightFn::Softplus, v).getResult() : v;
    };
    auto mul = [&](Value a, Value c) -> Value {
      return WeightMulOp::create(b, loc, a.getType(), a, c);
    };
    Value gleak = pos(op.getGleak()), cm = pos(op.getCm());
    Value wEff = mul(pos(op.getW()), op.getSparsityMask());
    Value sEff = mul(pos(op.getSensoryW()), op.getSensorySparsityMask());
    SmallVector<Value> params = {cm,
                                 gleak,
                                 mul(gleak, op.getVleak()),
                                 op.getSigma(),
                                 op.getMu(),
                                 wEff,
                                 mul(wEff, op.getErev()),
                                 op.getSensorySigma(),
                                 op.getSensoryMu(),
                                 sEff,
                                 mul(sEff, op.getSensoryErev())};
    Value v = LTCSolveOp::create(b, loc, op.getType(), op.getInput(), op.getState(), op.getTs(),
                                 params, op.getOdeUnfolds(), op.getEpsilon());
    op.replaceAllUsesWith(v);
    op.erase();
  }
};

} // namespace
