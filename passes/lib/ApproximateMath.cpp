//===- ApproximateMath.cpp - liquid-approximate-math -----------------------===//
//
// exp / tanh / erf in the kernels become MLIR's vectorizable polynomial
// approximations, so no kernel calls into libm.
//
//===----------------------------------------------------------------------===//
#include "liquid/Passes/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::liquid {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;

namespace {
struct ApproximateMathPass : mlir::liquid::impl::ApproximateMathBase<ApproximateMathPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name == "math.exp" || name == "math.tanh" || name == "math.erf" || name == "exp" ||
             name == "tanh" || name == "erf";
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
