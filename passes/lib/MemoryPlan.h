//===- MemoryPlan.h - conventions shared by planning and lowering -*- C++ -*-===//
#ifndef LIQUID_PASSES_MEMORYPLAN_H
#define LIQUID_PASSES_MEMORYPLAN_H

#include "liquid/Dialect/Liquid.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::liquid {

// The arena's conventions (kMaxLanes, kSlotAlign, alignTo, slotFloats) are
// the dialect's: liquid/Dialect/Arena.h. Ops state their scratch through
// ScratchOpInterface.

// The passes' discardable attributes are read and written through the
// dialect's helpers: readAttr<OffsetAttrHelper>(op), writeAttr<...>, hasAttr<...>
// (liquid/Dialect/Liquid.h).

/// The most rows a batched cell kernel (`<prefix>_kernel_step_rows`) takes in
/// one call: its memref types' bound. The runtime splits larger batches
/// (LQ_KERNEL_MAX_ROWS in runtime/liquid_runtime.h is the same number).
constexpr int64_t kStepKernelMaxRows = 4096;

} // namespace mlir::liquid

#endif
