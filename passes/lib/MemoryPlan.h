//===- MemoryPlan.h - conventions shared by planning and lowering -*- C++ -*-===//
#ifndef LIQUID_PASSES_MEMORYPLAN_H
#define LIQUID_PASSES_MEMORYPLAN_H

#include "liquid/Dialect/Liquid.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::liquid {

/// Kernels work on vectors of 8 (AVX2, NEON) or 16 (AVX-512) floats; slots are
/// planned for the widest.
constexpr int64_t kMaxLanes = 16;
/// Slot alignment in floats (64 bytes).
constexpr int64_t kSlotAlign = 16;

inline int64_t alignTo(int64_t n, int64_t a) { return (n + a - 1) / a * a; }
/// Floats reserved for a vector of `n` elements: kernels may read and write
/// up to one vector past the end of any segment they touch.
inline int64_t slotFloats(int64_t n) { return alignTo(n + kMaxLanes, kSlotAlign); }

/// Scratch floats an op's kernel needs (live only during the op).
inline int64_t scratchFloats(Operation *op) {
  if (auto s = dyn_cast<LTCSolveOp>(op)) {
    int64_t n = cast<RankedTensorType>(s.getState().getType()).getDimSize(0);
    return 3 * slotFloats(n); // next state, sensory numerator, sensory denominator
  }
  return 0;
}

/// The scratch slots of liquid.moe_experts, in order: the start of each
/// expert's rows in the dispatch list [E + 1], a fill cursor per expert [E],
/// the list's rows and weights [maxRows * k] each, and the SwiGLU activations
/// of every list entry [maxRows * k, roundup(I, kMaxLanes)].
inline SmallVector<int64_t, 5> moeExpertsScratch(MoEExpertsOp m, int64_t maxRows) {
  auto gu = cast<RankedTensorType>(m.getGateUp().getType());
  int64_t e = gu.getDimSize(0), i = gu.getDimSize(1) / 2;
  int64_t k = cast<RankedTensorType>(m.getExperts().getType()).getDimSize(1);
  return {e + 1, e, maxRows * k, maxRows * k, maxRows * k * alignTo(i, kMaxLanes)};
}

/// Scratch of the language-model kernels for up to `maxRows` tokens a call.
inline int64_t lmScratchFloats(Operation *op, int64_t maxRows) {
  if (auto c = dyn_cast<ShortConvMixOp>(op)) {
    auto k = cast<RankedTensorType>(c.getKernel().getType());
    // the window [L - 1 + rows, hidden]: conv cache then B * x
    return alignTo((k.getDimSize(1) - 1 + maxRows) * k.getDimSize(0), kSlotAlign);
  }
  if (auto r = dyn_cast<MoERouterOp>(op)) {
    // the scores p and the selection scores p + bias, padded to a vector
    int64_t e = cast<RankedTensorType>(r.getRouter().getType()).getDimSize(0);
    return 2 * slotFloats(alignTo(e, kMaxLanes));
  }
  if (auto m = dyn_cast<MoEExpertsOp>(op)) {
    int64_t total = 0;
    for (int64_t n : moeExpertsScratch(m, maxRows))
      total += slotFloats(n);
    return total;
  }
  if (auto a = dyn_cast<AttentionOp>(op)) {
    // attention scores of one query (up to the cache length), its normed and
    // rotated copy; the cache length is bounded by the state buffer.
    auto module = op->getParentOfType<ModuleOp>();
    auto sb = module ? module.lookupSymbol<StateBufferOp>(a.getStateAttr().getAttr()) : nullptr;
    int64_t ctx = sb ? cast<RankedTensorType>(sb.getType()).getDimSize(1) : 0;
    return alignTo(ctx + kMaxLanes, kSlotAlign) + alignTo(a.getHeadDim(), kSlotAlign);
  }
  return 0;
}

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
