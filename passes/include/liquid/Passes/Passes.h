//===- Passes.h - liquid passes and pipelines -------------------*- C++ -*-===//
#ifndef LIQUID_PASSES_PASSES_H
#define LIQUID_PASSES_PASSES_H

#include "liquid/Dialect/Liquid.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <map>
#include <string>
#include <vector>

namespace liquid {
struct Tensor;
using WeightStore = std::map<std::string, Tensor>;
} // namespace liquid

namespace mlir::liquid {

#define GEN_PASS_DECL
#include "liquid/Passes/Passes.h.inc"

/// Where `liquid-lower-to-vector` finds checkpoint tensors and puts the packed
/// weight blob. Without a store (as in liquid-opt) only the layout is planned.
struct WeightPackingSink {
  const ::liquid::WeightStore *store = nullptr;
  std::vector<float> *blob = nullptr;
  std::string *error = nullptr; ///< set when packing fails (missing tensor...)
};
std::unique_ptr<Pass> createLowerToVectorPass(const LowerToVectorOptions &options,
                                              WeightPackingSink sink);

#define GEN_PASS_REGISTRATION
#include "liquid/Passes/Passes.h.inc"

} // namespace mlir::liquid

#endif // LIQUID_PASSES_PASSES_H
