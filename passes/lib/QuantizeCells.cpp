//===- QuantizeCells.cpp - liquid-quantize-cells ----------------------------===//
#include "liquid/Passes/Passes.h"

namespace mlir::liquid {
#define GEN_PASS_DEF_QUANTIZECELLS
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;
using namespace mlir::liquid;

namespace {

struct QuantizeCellsPass : mlir::liquid::impl::QuantizeCellsBase<QuantizeCellsPass> {
  void runOnOperation() override {
    int64_t marked = 0;
    getOperation().walk([&](DenseOp op) {
      if (isWeight(op.getWeight()) && !isWeight(op.getInput())) {
        op.setWeightType(WeightStorage::Q8C);
        ++marked;
      }
    });
    // Asked for int8 and nothing to give it: said, not silent.
    if (!marked && !getOperation().getBody().getOps<ScanOp>().empty())
      getOperation().emitWarning("has no weight matrix to store as int8; it stays f32 (an LTC's "
                                 "synapse parameters are not products)");
  }
};

} // namespace
