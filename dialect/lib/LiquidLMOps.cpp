//===- LiquidLMOps.cpp - verifiers of the language-model ops ---------------===//
#include "liquid/Dialect/Liquid.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>

using namespace mlir;
using namespace mlir::liquid;

namespace {

RankedTensorType rt(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Equal, or either dynamic.
bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// The state_buffer `name` refers to, with the expected kind and shape.
LogicalResult verifyState(Operation *op, SymbolTableCollection &tables, FlatSymbolRefAttr name,
                          StateKind kind, ArrayRef<int64_t> shape) {
  auto buf = tables.lookupNearestSymbolFrom<StateBufferOp>(op, name);
  if (!buf)
    return op->emitOpError() << "state " << name << " is not a liquid.state_buffer";
  if (buf.getKind() != kind)
    return op->emitOpError() << "state " << name << " is a " << stringifyStateKind(buf.getKind())
                             << ", expected a " << stringifyStateKind(kind);
  auto t = cast<RankedTensorType>(buf.getType());
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i >= static_cast<size_t>(t.getRank()) || (d >= 0 && t.getDimSize(i) != d)) {
      auto diag = op->emitOpError() << "state " << name << " has type " << t << ", expected [";
      llvm::interleaveComma(shape, diag, [&](int64_t x) {
        if (x < 0)
          diag << "?";
        else
          diag << x;
      });
      return diag << "]";
    }
  }
  return success();
}

} // namespace

LogicalResult StateBufferOp::verify() {
  auto t = cast<RankedTensorType>(getType());
  if (!t.hasStaticShape())
    return emitOpError("state must have a static shape (it is planned at compile time)");
  switch (getKind()) {
  case StateKind::ConvCache:
    if (t.getRank() != 2)
      return emitOpError("a conv_cache is [L - 1, hidden]");
    break;
  case StateKind::KVCache:
    if (t.getRank() != 3 || t.getDimSize(0) != 2)
      return emitOpError("a kv_cache is [2, max_context, kv_heads x head_dim]");
    break;
  }
  return success();
}

LogicalResult EmbeddingOp::verify() {
  auto ids = rt(getIds()), table = rt(getTable()), res = rt(getResult());
  if (!compatible(ids.getDimSize(0), res.getDimSize(0)))
    return emitOpError() << "result has " << res.getDimSize(0) << " rows for " << ids.getDimSize(0)
                         << " ids";
  if (res.getDimSize(1) != table.getDimSize(1))
    return emitOpError() << "rows have " << table.getDimSize(1) << " elements, result has "
                         << res.getDimSize(1);
  return success();
}

LogicalResult RMSNormOp::verify() {
  auto in = rt(getInput());
  if (in.getRank() < 1 || rt(getWeight()).getDimSize(0) != in.getDimSize(in.getRank() - 1))
    return emitOpError() << "weight must have the last dimension of the input ("
                         << in.getDimSize(in.getRank() - 1) << "), got "
                         << rt(getWeight()).getDimSize(0);
  if (getEpsilon().convertToDouble() <= 0.0)
    return emitOpError("epsilon must be positive");
  return success();
}

LogicalResult LinearOp::verify() {
  auto x = rt(getInput()), w = rt(getWeight()), y = rt(getResult());
  if (w.getDimSize(1) != x.getDimSize(1))
    return emitOpError() << "weight is [" << w.getDimSize(0) << ", " << w.getDimSize(1)
                         << "] but the input rows have " << x.getDimSize(1) << " elements";
  if (y.getDimSize(1) != w.getDimSize(0) || !compatible(y.getDimSize(0), x.getDimSize(0)))
    return emitOpError() << "result must be [" << x.getDimSize(0) << ", " << w.getDimSize(0)
                         << "]";
  WeightStorage st = getWeightType();
  if (st == WeightStorage::Q8I)
    return emitOpError("q8i is how q8 weights are packed for int8_inputs, not a weight type");
  if (st == WeightStorage::Q8C)
    return emitOpError("q8c (a scale per output) is for cells' liquid.dense, not a linear");
  if (isBlockStorage(st) && w.getDimSize(1) % storageInputs(st))
    return emitOpError() << stringifyWeightStorage(st) << " weights need inputs in whole blocks of "
                         << storageInputs(st) << ", got " << w.getDimSize(1);
  if (getInt8Inputs() && !isBlockStorage(st))
    return emitOpError() << "int8_inputs needs integer-block weights (q8, q4, ...), not "
                         << stringifyWeightStorage(st);
  return success();
}

int64_t LinearOp::getScratchFloats(int64_t maxRows) {
  if (!getInt8Inputs())
    return 0;
  // per row: the int8 inputs (k bytes), a scale per 32 and an int32 sum per 16
  int64_t k = rt(getInput()).getDimSize(1);
  return slotFloats(maxRows * int8RowFloats(k));
}

LogicalResult ShortConvMixOp::verify() {
  auto bcx = rt(getBcx()), k = rt(getKernel()), y = rt(getResult());
  int64_t h = k.getDimSize(0);
  if (bcx.getDimSize(1) != 3 * h)
    return emitOpError() << "the in-projection must be [T, 3 x " << h << "], got " << bcx;
  if (k.getDimSize(1) < 2)
    return emitOpError("the kernel needs at least 2 taps");
  if (y.getDimSize(1) != h || !compatible(y.getDimSize(0), bcx.getDimSize(0)))
    return emitOpError() << "result must be [T, " << h << "]";
  return success();
}

/// The most attention heads an op accepts (heads x head_dim then fits in int64_t).
constexpr int64_t kMaxHeads = int64_t{1} << 16;

LogicalResult ShortConvMixOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto k = rt(getKernel());
  return verifyState(*this, tables, getStateAttr(), StateKind::ConvCache,
                     {k.getDimSize(1) - 1, k.getDimSize(0)});
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getHeads(), kv = getKvHeads(), hd = getHeadDim();
  if (heads > kMaxHeads || hd > kMaxDimSize)
    return emitOpError() << "heads (" << heads << ") or head_dim (" << hd << ") out of range";
  if (heads < 1 || kv < 1 || heads % kv != 0)
    return emitOpError() << "heads (" << heads << ") must be a multiple of kv_heads (" << kv << ")";
  if (hd < 2 || hd % 2 != 0)
    return emitOpError() << "head_dim must be even for rotary embeddings, got " << hd;
  auto q = rt(getQ()), k = rt(getK()), v = rt(getV()), y = rt(getResult());
  if (q.getDimSize(1) != heads * hd)
    return emitOpError() << "q must be [T, " << heads * hd << "], got " << q;
  if (k.getDimSize(1) != kv * hd || v.getDimSize(1) != kv * hd)
    return emitOpError() << "k and v must be [T, " << kv * hd << "]";
  if (!compatible(q.getDimSize(0), k.getDimSize(0)) || !compatible(q.getDimSize(0), v.getDimSize(0)))
    return emitOpError("q, k and v must have the same number of rows");
  if (rt(getQNorm()).getDimSize(0) != hd || rt(getKNorm()).getDimSize(0) != hd)
    return emitOpError() << "q_norm and k_norm must have head_dim (" << hd << ") elements";
  if (y.getDimSize(1) != heads * hd)
    return emitOpError() << "result must be [T, " << heads * hd << "]";
  return success();
}

LogicalResult AttentionOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyState(*this, tables, getStateAttr(), StateKind::KVCache, {2, -1, static_cast<int64_t>(getKvHeads() * getHeadDim())});
}

LogicalResult ColumnsOp::verify() {
  auto in = rt(getInput()), out = rt(getResult());
  int64_t off = getOffset(), n = out.getDimSize(1);
  if (ShapedType::isDynamic(n) || ShapedType::isDynamic(in.getDimSize(1)))
    return emitOpError("needs static column counts");
  if (off < 0 || off > kMaxDimSize || off + n > in.getDimSize(1))
    return emitOpError() << "columns [" << off << ", " << off + n
                         << ") are out of bounds for rows of " << in.getDimSize(1);
  if (!compatible(in.getDimSize(0), out.getDimSize(0)))
    return emitOpError("result must have the input's rows");
  return success();
}

//===----------------------------------------------------------------------===//
// Scratch (ScratchOpInterface)
//===----------------------------------------------------------------------===//

int64_t ShortConvMixOp::getScratchFloats(int64_t maxRows) {
  // the window [L - 1 + rows, hidden]: conv cache then B * x
  auto k = rt(getKernel());
  return alignTo((k.getDimSize(1) - 1 + maxRows) * k.getDimSize(0), kSlotAlign);
}

int64_t MoERouterOp::getScratchFloats(int64_t) {
  // the scores p and the selection scores p + bias, padded to a vector
  return 2 * slotFloats(alignTo(rt(getRouter()).getDimSize(0), kMaxLanes));
}

SmallVector<int64_t, 5> MoEExpertsOp::getScratchSlots(int64_t maxRows) {
  auto gu = rt(getGateUp());
  int64_t e = gu.getDimSize(0), i = gu.getDimSize(1) / 2, k = rt(getExperts()).getDimSize(1);
  return {e + 1, e, maxRows * k, maxRows * k, maxRows * k * alignTo(i, kMaxLanes)};
}

int64_t MoEExpertsOp::getScratchFloats(int64_t maxRows) {
  int64_t total = 0;
  for (int64_t n : getScratchSlots(maxRows))
    total += slotFloats(n);
  return total;
}

int64_t AttentionOp::getScratchFloats(int64_t) {
  // per thread, its block of queries (attnThreadFloats); then room for one head.
  int64_t group = getHeads() / getKvHeads();
  return kMaxThreads * attnThreadFloats(group, getHeadDim()) +
         alignTo(getHeadDim(), kSlotAlign);
}

LogicalResult SwiGLUOp::verify() {
  if (rt(getResult()).getRank() != 2)
    return emitOpError() << "works on rows [T, F], got " << getResult().getType();
  return success();
}

LogicalResult SwiGLUHalvesOp::verify() {
  auto in = rt(getInput()), out = rt(getResult());
  if (in.getDimSize(1) != 2 * out.getDimSize(1))
    return emitOpError() << "input rows must have twice the result's " << out.getDimSize(1)
                         << " elements, got " << in.getDimSize(1);
  if (!compatible(in.getDimSize(0), out.getDimSize(0)))
    return emitOpError("result must have the input's rows");
  return success();
}

LogicalResult MoERouterOp::verify() {
  auto x = rt(getInput()), r = rt(getRouter()), ids = rt(getExperts()), w = rt(getWeights());
  int64_t h = x.getDimSize(1), e = r.getDimSize(0), k = getTopK();
  if (r.getDimSize(1) != h)
    return emitOpError() << "router must be [experts, " << h << "], got " << r;
  if (rt(getExpertBias()).getDimSize(0) != e)
    return emitOpError() << "expert_bias must have " << e << " elements, one per expert";
  if (k < 1 || k > e)
    return emitOpError() << "top_k must be in [1, " << e << "], got " << k;
  double s = getScaling().convertToDouble();
  if (!std::isfinite(s) || s <= 0)
    return emitOpError() << "scaling must be positive and finite, got " << s;
  for (RankedTensorType t : {ids, w})
    if (t.getDimSize(1) != k || !compatible(t.getDimSize(0), x.getDimSize(0)))
      return emitOpError() << "results must be [T, " << k << "], got " << t;
  return success();
}

LogicalResult MoEExpertsOp::verify() {
  auto x = rt(getInput()), ids = rt(getExperts()), w = rt(getWeights()), gu = rt(getGateUp()),
       dn = rt(getDown()), y = rt(getResult());
  int64_t h = x.getDimSize(1);
  if (gu.getRank() != 3 || gu.getDimSize(1) % 2 || gu.getDimSize(2) != h)
    return emitOpError() << "gate_up must be [E, 2I, " << h << "], got " << gu;
  int64_t e = gu.getDimSize(0), i = gu.getDimSize(1) / 2;
  if (dn.getRank() != 3 || dn.getDimSize(0) != e || dn.getDimSize(1) != h || dn.getDimSize(2) != i)
    return emitOpError() << "down must be [" << e << ", " << h << ", " << i << "], got " << dn;
  if (ids.getShape() != w.getShape() && !(compatible(ids.getDimSize(0), w.getDimSize(0)) &&
                                          ids.getDimSize(1) == w.getDimSize(1)))
    return emitOpError("experts and weights must have the same shape");
  if (ids.getDimSize(1) > e)
    return emitOpError() << "rows choose " << ids.getDimSize(1) << " experts out of " << e;
  if (!compatible(ids.getDimSize(0), x.getDimSize(0)))
    return emitOpError("experts must have the input's rows");
  if (y.getDimSize(1) != h || !compatible(y.getDimSize(0), x.getDimSize(0)))
    return emitOpError() << "result must be [T, " << h << "]";
  WeightStorage st = getWeightType();
  if (st != WeightStorage::F32 && st != WeightStorage::F16 && st != WeightStorage::Q8)
    return emitOpError() << "experts are stored f32, f16 or q8, not "
                         << stringifyWeightStorage(st);
  if (st == WeightStorage::Q8 && (h % 32 || i % 32))
    return emitOpError() << "q8 experts need inputs in whole blocks of 32, got " << h
                         << " (gate_up) and " << i << " (down)";
  return success();
}

//===----------------------------------------------------------------------===//
// Weight readers (WeightReaderOpInterface): a language model's weight
// operands are weights always (the verifiers check it).
//===----------------------------------------------------------------------===//

void EmbeddingOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  uses.push_back({getTableMutable().getOperandNumber(), WeightLayout::Rows});
}
void RMSNormOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  uses.push_back({getWeightMutable().getOperandNumber(), WeightLayout::Vector});
}
void LinearOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  WeightStorage st = getWeightType();
  if (st == WeightStorage::Q8 && getInt8Inputs())
    st = WeightStorage::Q8I;
  uses.push_back({getWeightMutable().getOperandNumber(), WeightLayout::Transposed, st});
}
void ShortConvMixOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  uses.push_back({getKernelMutable().getOperandNumber(), WeightLayout::Transposed});
}
void AttentionOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  uses.push_back({getQNormMutable().getOperandNumber(), WeightLayout::Vector});
  uses.push_back({getKNormMutable().getOperandNumber(), WeightLayout::Vector});
}
void MoERouterOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  uses.push_back({getRouterMutable().getOperandNumber(), WeightLayout::Transposed});
  uses.push_back({getExpertBiasMutable().getOperandNumber(), WeightLayout::Vector});
}
void MoEExpertsOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  uses.push_back({getGateUpMutable().getOperandNumber(), WeightLayout::TransposedBatchedGLU,
                  getWeightType()});
  uses.push_back({getDownMutable().getOperandNumber(), WeightLayout::TransposedBatched,
                  getWeightType()});
}
