//===- MemoryPlan.h - conventions shared by planning and lowering -*- C++ -*-===//
#ifndef LIQUID_PASSES_MEMORYPLAN_H
#define LIQUID_PASSES_MEMORYPLAN_H

#include "liquid/Dialect/Liquid.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::liquid {

// The arena's conventions (kMaxLanes, kSlotAlign, alignTo, slotFloats) are
// the dialect's: liquid/Dialect/Arena.h. Ops state their scratch through
// ScratchOpInterface.

// The dialect's discardable attributes (LiquidDialect.td), by name.
inline constexpr llvm::StringLiteral kMaxRowsAttr = MaxRowsAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kMaxContextAttr = MaxContextAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kOffsetAttr = OffsetAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kScratchAttr = ScratchAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kScratchFloatsAttr = ScratchFloatsAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kArenaAttr = ArenaAttrHelper::getNameStr();
/// On an op: computed by the named Halide kernel (liquid-assign-backends
/// chose it; liquid-halide-gen provides the symbol).
inline constexpr llvm::StringLiteral kHalideKernelAttr = HalideKernelAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kKernelAttr = KernelAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kWeightsAttr = WeightsAttrHelper::getNameStr();

} // namespace mlir::liquid

#endif
