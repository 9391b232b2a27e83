//===- Liquid.h - the liquid dialect ----------------------------*- C++ -*-===//
#ifndef LIQUID_DIALECT_LIQUID_H
#define LIQUID_DIALECT_LIQUID_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "liquid/Dialect/Arena.h"
#include "liquid/Dialect/LiquidOpsDialect.h.inc"
#include "liquid/Dialect/LiquidEnums.h.inc"

namespace mlir::liquid {
/// One weight operand an op reads from the packed blob, and how
/// (WeightReaderOpInterface).
struct WeightUse {
  unsigned operand;
  WeightLayout layout;
  WeightStorage element = WeightStorage::F32;
};
/// Weights stored as integer blocks along the inputs (q8 and the 4/5/6-bit
/// kinds): the types a product with int8_inputs reads.
inline bool isBlockStorage(WeightStorage w) {
  return w != WeightStorage::F32 && w != WeightStorage::F16 && w != WeightStorage::Q8C;
}
/// The multiple of inputs a block storage needs: 256 for the K types (their
/// super-blocks), else 32.
inline int64_t storageInputs(WeightStorage w) {
  return w == WeightStorage::Q4K || w == WeightStorage::Q5K || w == WeightStorage::Q6K ? 256 : 32;
}

/// The largest tensor dimension a liquid op accepts (2^31 - 1): sizes the
/// verifiers and passes multiply (heads x head_dim, 4 x units, rows x
/// columns) then fit in int64_t with room to spare.
constexpr int64_t kMaxDimSize = (int64_t{1} << 31) - 1;
/// Checks every ranked tensor operand and result of `op`: each static
/// dimension at most kMaxDimSize (BoundedShapes).
LogicalResult verifyBoundedShapes(Operation *op);

/// Every liquid op: tensor sizes within kMaxDimSize, checked before the op's
/// own verifier does arithmetic on them.
template <typename ConcreteType>
class BoundedShapes : public OpTrait::TraitBase<ConcreteType, BoundedShapes> {
public:
  static LogicalResult verifyTrait(Operation *op) { return verifyBoundedShapes(op); }
};
} // namespace mlir::liquid

#include "liquid/Dialect/LiquidInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "liquid/Dialect/LiquidAttrs.h.inc"

#define GET_OP_CLASSES
#include "liquid/Dialect/LiquidOps.h.inc"

namespace mlir::liquid {
/// True if `v` is computed at compile time from checkpoint tensors only
/// (a `liquid.weight` or a `liquid.weight_*` expression).
bool isWeight(Value v);
/// The discardable attributes the passes record (LiquidDialect.td defines
/// each one and its type): `readAttr<OffsetAttrHelper>(op)`,
/// `writeAttr<OffsetAttrHelper>(op, value)`, `OffsetAttrHelper::getNameStr()`.
using MaxRowsAttrHelper = LiquidDialect::MaxRowsAttrHelper;
using MaxContextAttrHelper = LiquidDialect::MaxContextAttrHelper;
using OffsetAttrHelper = LiquidDialect::OffsetAttrHelper;
using ScratchAttrHelper = LiquidDialect::ScratchAttrHelper;
using ScratchFloatsAttrHelper = LiquidDialect::ScratchFloatsAttrHelper;
using ArenaAttrHelper = LiquidDialect::ArenaAttrHelper;
using HalideKernelAttrHelper = LiquidDialect::HalideKernelAttrHelper;
using HalideKernelsAttrHelper = LiquidDialect::HalideKernelsAttrHelper;
using KernelAttrHelper = LiquidDialect::KernelAttrHelper;
using WeightsAttrHelper = LiquidDialect::WeightsAttrHelper;
using PackedAttrHelper = LiquidDialect::PackedAttrHelper;
using WeightDataAttrHelper = LiquidDialect::WeightDataAttrHelper;
template <typename Helper> auto readAttr(Operation *op) {
  return Helper(op->getContext()).getAttr(op);
}
template <typename Helper, typename A> void writeAttr(Operation *op, A value) {
  Helper(op->getContext()).setAttr(op, value);
}
template <typename Helper> bool hasAttr(Operation *op) {
  return Helper(op->getContext()).isAttrPresent(op);
}
} // namespace mlir::liquid

#endif // LIQUID_DIALECT_LIQUID_H
