//===- LiquidDialect.cpp - liquid dialect and op verifiers ----------------===//
#include "liquid/Dialect/Liquid.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::liquid;

#include "liquid/Dialect/LiquidOpsDialect.cpp.inc"
#include "liquid/Dialect/LiquidEnums.cpp.inc"
#include "liquid/Dialect/LiquidInterfaces.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "liquid/Dialect/LiquidAttrs.cpp.inc"

void LiquidDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "liquid/Dialect/LiquidOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "liquid/Dialect/LiquidAttrs.cpp.inc"
      >();
}

/// The discardable attributes must have the types LiquidDialect.td gives them.
LogicalResult LiquidDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  Attribute value = attr.getValue();
  auto expect = [&](bool ok, StringRef type) -> LogicalResult {
    if (ok)
      return success();
    return op->emitError() << "'" << name << "' must be " << type << ", got " << value;
  };
  if (name == MaxRowsAttrHelper::getNameStr() || name == MaxContextAttrHelper::getNameStr() ||
      name == ScratchAttrHelper::getNameStr() || name == ScratchFloatsAttrHelper::getNameStr())
    return expect(isa<IntegerAttr>(value), "an integer");
  if (name == OffsetAttrHelper::getNameStr())
    return expect(isa<DenseI64ArrayAttr>(value), "an array<i64>");
  if (name == ArenaAttrHelper::getNameStr())
    return expect(isa<StepArenaAttr, ForwardArenaAttr>(value),
                  "a #liquid.step_arena or #liquid.forward_arena");
  if (name == KernelAttrHelper::getNameStr())
    return expect(isa<StepKernelAttr, ForwardKernelAttr>(value),
                  "a #liquid.step_kernel or #liquid.forward_kernel");
  if (name == WeightsAttrHelper::getNameStr())
    return expect(isa<WeightBlobAttr>(value), "a #liquid.weight_blob");
  if (name == PackedAttrHelper::getNameStr())
    return expect(isa<ArrayAttr>(value) &&
                      llvm::all_of(cast<ArrayAttr>(value), llvm::IsaPred<WeightSlotAttr>),
                  "an array of #liquid.slot");
  if (name == WeightDataAttrHelper::getNameStr())
    return expect(isa<DenseResourceElementsAttr>(value), "a dense_resource");
  if (name == HalideKernelAttrHelper::getNameStr())
    return expect(isa<StringAttr>(value), "a string");
  if (name == HalideKernelsAttrHelper::getNameStr())
    return expect(isa<ArrayAttr>(value) && llvm::all_of(cast<ArrayAttr>(value),
                                                        llvm::IsaPred<DictionaryAttr>),
                  "an array of dictionaries");
  return op->emitError() << "unknown discardable attribute '" << name << "'";
}

bool mlir::liquid::isWeight(Value v) {
  Operation *def = v.getDefiningOp();
  return def && isa<WeightOp, WeightConcatOp, WeightMulOp, WeightMapOp>(def);
}

LogicalResult mlir::liquid::verifyBoundedShapes(Operation *op) {
  auto check = [&](Type t, StringRef what, unsigned i) -> LogicalResult {
    auto rt = dyn_cast<RankedTensorType>(t);
    if (!rt) return success();
    for (int64_t d : rt.getShape())
      if (!ShapedType::isDynamic(d) && d > kMaxDimSize)
        return op->emitOpError() << what << " #" << i << " has a dimension of " << d
                                 << " (at most " << kMaxDimSize << ")";
    return success();
  };
  for (auto [i, t] : llvm::enumerate(op->getOperandTypes()))
    if (failed(check(t, "operand", i))) return failure();
  for (auto [i, t] : llvm::enumerate(op->getResultTypes()))
    if (failed(check(t, "result", i))) return failure();
  return success();
}

static int64_t dim(Value v, unsigned i) {
  return cast<RankedTensorType>(v.getType()).getDimSize(i);
}
static int64_t len(Value v) { return dim(v, 0); }

static LogicalResult checkStatic(Operation *op, Type t, StringRef what) {
  auto rt = cast<RankedTensorType>(t);
  if (!rt.hasStaticShape())
    return op->emitOpError() << what << " must have a static shape, got " << t;
  return success();
}

static LogicalResult checkWeightOperand(Operation *op, Value v, unsigned idx) {
  if (!isWeight(v))
    return op->emitOpError() << "operand #" << idx
                             << " must be a weight (liquid.weight or liquid.weight_*)";
  return success();
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty tensor name");
  if (auto v = getValueAttr(); v && v.getType() != getType())
    return emitOpError() << "value has type " << v.getType() << ", the result " << getType();
  return checkStatic(*this, getType(), "result");
}

LogicalResult WeightSlotAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                     StringAttr tensor, WeightLayout layout, WeightStorage element,
                                     int64_t offset, int64_t floats, ArrayAttr blocks) {
  if (!tensor || offset < 0 || floats < 0)
    return emitError() << "a slot needs a tensor and a non-negative offset and size";
  bool sparse = layout == WeightLayout::BlocksTransposed || layout == WeightLayout::BlocksRows;
  if (sparse != static_cast<bool>(blocks))
    return emitError() << "'blocks' goes with the block-sparse layouts, and only with them";
  if (blocks) {
    std::optional<size_t> width;
    for (Attribute row : blocks) {
      auto s = dyn_cast<StringAttr>(row);
      if (!s || s.getValue().find_first_not_of("01") != StringRef::npos ||
          (width && *width != s.size()))
        return emitError() << "'blocks' must be strings of 0 and 1 of one length";
      width = s.size();
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Weight readers (WeightReaderOpInterface): ops that take an activation or a
// weight list the operand only when it is a weight.
//===----------------------------------------------------------------------===//

static void useIfWeight(SmallVectorImpl<WeightUse> &uses, Operation *op, Value v,
                        WeightLayout layout, WeightStorage element = WeightStorage::F32) {
  if (!v || !isWeight(v))
    return;
  for (OpOperand &o : op->getOpOperands())
    if (o.get() == v) {
      uses.push_back({o.getOperandNumber(), layout, element});
      return;
    }
}

void DenseOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  useIfWeight(uses, *this, getWeight(), WeightLayout::Transposed, getWeightType());
  useIfWeight(uses, *this, getBias(), WeightLayout::Vector);
}
void ScaleShiftOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  useIfWeight(uses, *this, getScale(), WeightLayout::Vector);
  useIfWeight(uses, *this, getShift(), WeightLayout::Vector);
}
void CfCEpilogueOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  for (Value v : getExtra())
    useIfWeight(uses, *this, v, WeightLayout::Vector);
}
void LTCSolveOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) {
  for (Value v : {getCm(), getGleak(), getGleakVleak()})
    useIfWeight(uses, *this, v, WeightLayout::Vector);
  for (Value v : {getSigma(), getMu(), getWEff(), getWErev(), getSensorySigma(), getSensoryMu(),
                  getSensoryWEff(), getSensoryWErev()})
    useIfWeight(uses, *this, v, WeightLayout::Rows);
}
static void vectorOperands(Operation *op, SmallVectorImpl<WeightUse> &uses) {
  for (OpOperand &o : op->getOpOperands())
    if (isWeight(o.get()))
      uses.push_back({o.getOperandNumber(), WeightLayout::Vector});
}
void ConcatOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) { vectorOperands(*this, uses); }
void SliceOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) { vectorOperands(*this, uses); }
void ActivationOp::getWeightUses(SmallVectorImpl<WeightUse> &uses) { vectorOperands(*this, uses); }

LogicalResult WeightConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  auto rt = cast<RankedTensorType>(getType());
  int64_t d = getDim();
  if (d < 0 || d >= rt.getRank())
    return emitOpError() << "dim " << d << " is out of range for rank " << rt.getRank();
  int64_t total = 0;
  for (auto [i, in] : llvm::enumerate(getInputs())) {
    if (failed(checkWeightOperand(*this, in, i)))
      return failure();
    auto it = cast<RankedTensorType>(in.getType());
    if (it.getRank() != rt.getRank())
      return emitOpError() << "input #" << i << " has rank " << it.getRank()
                           << ", expected " << rt.getRank();
    for (int64_t k = 0; k < rt.getRank(); ++k)
      if (k != d && it.getDimSize(k) != rt.getDimSize(k))
        return emitOpError() << "input #" << i << " has size " << it.getDimSize(k)
                             << " in dimension " << k << ", expected " << rt.getDimSize(k);
    if (ShapedType::isDynamic(it.getDimSize(d)))
      return emitOpError() << "input #" << i << " has a dynamic size in dimension " << d;
    total += it.getDimSize(d); // each at most kMaxDimSize (BoundedShapes)
    if (total > kMaxDimSize)
      return emitOpError() << "the inputs add up to more than " << kMaxDimSize
                           << " in dimension " << d;
  }
  if (total != rt.getDimSize(d))
    return emitOpError() << "result has size " << rt.getDimSize(d) << " in dimension " << d
                         << " but the inputs add up to " << total;
  return success();
}

LogicalResult WeightMulOp::verify() {
  if (failed(checkWeightOperand(*this, getLhs(), 0)) ||
      failed(checkWeightOperand(*this, getRhs(), 1)))
    return failure();
  return success();
}

LogicalResult WeightMapOp::verify() {
  return checkWeightOperand(*this, getInput(), 0);
}

//===----------------------------------------------------------------------===//
// Activations and data movement
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  int64_t total = 0;
  for (auto [i, in] : llvm::enumerate(getInputs())) {
    if (ShapedType::isDynamic(len(in)))
      return emitOpError() << "input #" << i << " has a dynamic size";
    total += len(in); // each at most kMaxDimSize (BoundedShapes)
    if (total > kMaxDimSize)
      return emitOpError() << "the inputs add up to more than " << kMaxDimSize << " elements";
  }
  if (total != len(getResult()))
    return emitOpError() << "result has " << len(getResult())
                         << " elements but the inputs add up to " << total;
  return success();
}

LogicalResult SliceOp::verify() {
  int64_t off = getOffset(), n = len(getResult()), in = len(getInput());
  if (ShapedType::isDynamic(n) || ShapedType::isDynamic(in))
    return emitOpError() << "needs static sizes";
  if (off < 0 || off > kMaxDimSize || off + n > in)
    return emitOpError() << "slice [" << off << ", " << off + n
                         << ") is out of bounds for an input of " << in << " elements";
  return success();
}

LogicalResult ScaleShiftOp::verify() {
  int64_t n = len(getInput());
  if (len(getScale()) != n || (getShift() && len(getShift()) != n) || len(getResult()) != n)
    return emitOpError() << "scale, shift and result must have the input's " << n << " elements";
  return success();
}

LogicalResult DenseOp::verify() {
  int64_t k = len(getInput()), n = len(getResult());
  if (dim(getWeight(), 0) != n || dim(getWeight(), 1) != k)
    return emitOpError() << "weight must be [" << n << ", " << k << "] (out, in), got ["
                         << dim(getWeight(), 0) << ", " << dim(getWeight(), 1) << "]";
  if (len(getBias()) != n)
    return emitOpError() << "bias must have " << n << " elements, got " << len(getBias());
  if (getWeightType() != WeightStorage::F32 && getWeightType() != WeightStorage::Q8C)
    return emitOpError() << "weights are stored as f32 or q8c, not "
                         << stringifyWeightStorage(getWeightType());
  if (getWeightType() == WeightStorage::Q8C && !isWeight(getWeight()))
    return emitOpError("stored q8c needs a weight matrix (liquid.weight or liquid.weight_*)");
  return success();
}

//===----------------------------------------------------------------------===//
// Cells
//===----------------------------------------------------------------------===//

LogicalResult CfCCellOp::verify() {
  StringRef mode = stringifyCfCMode(getMode());
  bool pure = getMode() == CfCMode::Pure;
  int64_t k = len(getFeatures()), h = len(getResult());
  size_t expected = (pure ? 4 : 8) + (getMasked() ? 1 : 0);
  auto ws = getWeights();
  if (ws.size() != expected)
    return emitOpError() << "mode '" << mode << "'" << (getMasked() ? " with a mask" : "")
                         << " takes " << expected << " weights, got " << ws.size();
  auto expectShape = [&](unsigned i, ArrayRef<int64_t> shape, StringRef what) -> LogicalResult {
    auto t = cast<RankedTensorType>(ws[i].getType());
    if (t.getShape() != shape) {
      auto diag = emitOpError() << what << " (weight #" << i << ") must be [";
      llvm::interleaveComma(shape, diag);
      diag << "], got " << t;
      return diag;
    }
    return success();
  };
  unsigned heads = pure ? 1 : 4;
  static const char *names[] = {"ff1", "ff2", "time_a", "time_b"};
  for (unsigned i = 0; i < heads; ++i) {
    if (failed(expectShape(2 * i, {h, k}, (Twine(names[i]) + ".weight").str())) ||
        failed(expectShape(2 * i + 1, {h}, (Twine(names[i]) + ".bias").str())))
      return failure();
  }
  if (pure &&
      (failed(expectShape(2, {h}, "w_tau")) || failed(expectShape(3, {h}, "A"))))
    return failure();
  if (getMasked() && failed(expectShape(expected - 1, {h, k}, "sparsity mask")))
    return failure();
  return success();
}

LogicalResult LSTMCellOp::verify() {
  int64_t in = len(getInput()), h = len(getH());
  if (len(getC()) != h)
    return emitOpError() << "cell state has " << len(getC()) << " elements, expected " << h;
  if (dim(getInputWeight(), 0) != 4 * h || dim(getInputWeight(), 1) != in)
    return emitOpError() << "input weight must be [" << 4 * h << ", " << in << "]";
  if (len(getInputBias()) != 4 * h)
    return emitOpError() << "input bias must have " << 4 * h << " elements";
  if (dim(getRecurrentWeight(), 0) != 4 * h || dim(getRecurrentWeight(), 1) != h)
    return emitOpError() << "recurrent weight must be [" << 4 * h << ", " << h << "]";
  return success();
}

/// Shared by ltc_cell (13 params) and ltc_solve (11 params).
static LogicalResult verifyLTCParams(Operation *op, Value x, Value v, ValueRange ps,
                                     ArrayRef<StringRef> vecNames,
                                     ArrayRef<StringRef> recNames,
                                     ArrayRef<StringRef> sensNames, int64_t unfolds) {
  size_t expected = vecNames.size() + recNames.size() + sensNames.size();
  if (ps.size() != expected)
    return op->emitOpError() << "takes " << expected << " parameters, got " << ps.size();
  if (unfolds < 1)
    return op->emitOpError() << "ode_unfolds must be at least 1, got " << unfolds;
  int64_t n = len(v), s = len(x);
  unsigned i = 0;
  auto check = [&](StringRef name, ArrayRef<int64_t> shape) -> LogicalResult {
    auto t = cast<RankedTensorType>(ps[i].getType());
    if (t.getShape() != shape) {
      auto d = op->emitOpError() << "parameter '" << name << "' (#" << i << ") must be [";
      llvm::interleaveComma(shape, d);
      return d << "], got " << t;
    }
    ++i;
    return success();
  };
  for (StringRef nm : vecNames)
    if (failed(check(nm, {n}))) return failure();
  for (StringRef nm : recNames)
    if (failed(check(nm, {n, n}))) return failure();
  for (StringRef nm : sensNames)
    if (failed(check(nm, {s, n}))) return failure();
  return success();
}

LogicalResult LTCCellOp::verify() {
  if (len(getResult()) != len(getState()))
    return emitOpError("result must have the state's size");
  return verifyLTCParams(*this, getInput(), getState(), getParams(), {"gleak", "vleak", "cm"},
                         {"sigma", "mu", "w", "erev", "sparsity_mask"},
                         {"sensory_sigma", "sensory_mu", "sensory_w", "sensory_erev",
                          "sensory_sparsity_mask"},
                         getOdeUnfolds());
}

int64_t LTCSolveOp::getScratchFloats(int64_t) {
  // next state, sensory numerator, sensory denominator
  return 3 * slotFloats(len(getState()));
}

LogicalResult LTCSolveOp::verify() {
  if (len(getResult()) != len(getState()))
    return emitOpError("result must have the state's size");
  return verifyLTCParams(*this, getInput(), getState(), getParams(),
                         {"cm", "gleak", "gleak_vleak"}, {"sigma", "mu", "w_eff", "w_erev"},
                         {"sensory_sigma", "sensory_mu", "sensory_w_eff", "sensory_w_erev"},
                         getOdeUnfolds());
}

LogicalResult CfCEpilogueOp::verify() {
  StringRef mode = stringifyCfCMode(getMode());
  bool pure = getMode() == CfCMode::Pure;
  int64_t h = len(getResult());
  int64_t heads = pure ? 1 : 4;
  if (len(getHeads()) != heads * h)
    return emitOpError() << "mode '" << mode << "' needs " << heads << " x " << h
                         << " head values, got " << len(getHeads());
  size_t extra = pure ? 2 : 0;
  if (getExtra().size() != extra)
    return emitOpError() << "mode '" << mode << "' takes " << extra << " extra operands (w_tau, A), got "
                         << getExtra().size();
  for (Value e : getExtra())
    if (len(e) != h)
      return emitOpError() << "extra operands must have " << h << " elements";
  return success();
}

LogicalResult LSTMEpilogueOp::verify() {
  if (len(getGates()) != 4 * len(getC()))
    return emitOpError() << "gates must have 4 x " << len(getC()) << " elements, got "
                         << len(getGates());
  return success();
}

//===----------------------------------------------------------------------===//
// Scan
//===----------------------------------------------------------------------===//

LogicalResult ScanOp::verifyRegions() {
  Block &body = getBody().front();
  auto xs = cast<RankedTensorType>(getInputs().getType());
  auto ts = cast<RankedTensorType>(getTimespans().getType());
  if (!ShapedType::isDynamic(xs.getDimSize(0)) && !ShapedType::isDynamic(ts.getDimSize(0)) &&
      xs.getDimSize(0) != ts.getDimSize(0))
    return emitOpError() << "inputs have " << xs.getDimSize(0) << " steps but timespans have "
                         << ts.getDimSize(0);
  if (getInits().size() != getFinals().size())
    return emitOpError() << "has " << getInits().size() << " initial states but "
                         << getFinals().size() << " final states";
  unsigned nargs = 2 + getInits().size();
  if (body.getNumArguments() != nargs)
    return emitOpError() << "body must take " << nargs
                         << " arguments (input, time span, states), got " << body.getNumArguments();
  auto stepIn = RankedTensorType::get({xs.getDimSize(1)}, xs.getElementType());
  if (body.getArgument(0).getType() != stepIn)
    return emitOpError() << "body argument #0 must be " << stepIn << ", got "
                         << body.getArgument(0).getType();
  if (!body.getArgument(1).getType().isF32())
    return emitOpError("body argument #1 (time span) must be f32");
  for (auto [i, init] : llvm::enumerate(getInits())) {
    if (body.getArgument(2 + i).getType() != init.getType())
      return emitOpError() << "body argument #" << 2 + i << " must match initial state #" << i;
    if (getFinals()[i].getType() != init.getType())
      return emitOpError() << "final state #" << i << " must have the type of initial state #" << i;
  }
  for (Type t : body.getArgumentTypes())
    if (auto rt = dyn_cast<RankedTensorType>(t); rt && !rt.hasStaticShape())
      return emitOpError("body arguments must have static shapes");
  return success();
}

/// What a step yields: its output (a row of the scan's outputs), then one
/// value per carried state, of the state's type.
LogicalResult YieldOp::verify() {
  auto scan = cast<ScanOp>((*this)->getParentOp());
  if (getValues().size() != 1 + scan.getInits().size())
    return emitOpError() << "must yield the step output and " << scan.getInits().size()
                         << " states, got " << getValues().size() << " values";
  auto ys = cast<RankedTensorType>(scan.getOutputs().getType());
  auto stepOut = RankedTensorType::get({ys.getDimSize(1)}, ys.getElementType());
  if (getValues()[0].getType() != stepOut)
    return emitOpError() << "step output must be " << stepOut << ", got "
                         << getValues()[0].getType();
  for (auto [i, v] : llvm::enumerate(getValues().drop_front()))
    if (v.getType() != scan.getInits()[i].getType())
      return emitOpError() << "state #" << i << " must be " << scan.getInits()[i].getType()
                           << ", got " << v.getType();
  return success();
}

#define GET_OP_CLASSES
#include "liquid/Dialect/LiquidOps.cpp.inc"
