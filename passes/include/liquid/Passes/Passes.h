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
class WeightSink;
} // namespace liquid

namespace mlir::liquid {

#define GEN_PASS_DECL
#include "liquid/Passes/Passes.h.inc"

/// liquid-pack-weights over the checkpoint the compiler read (the tensors the
/// `liquid.weight` ops name; it must outlive the pass). With none, the data
/// is packed only if every `liquid.weight` carries its values. With a `sink`
/// the data goes there (liquid/Passes/WeightSink.h) and the module carries
/// only the layout.
std::unique_ptr<Pass> createPackWeights(const PackWeightsOptions &options,
                                        const ::liquid::WeightStore *checkpoint,
                                        ::liquid::WeightSink *sink = nullptr);
/// The packed weight blob a module carries (`liquid.weight_data`), if any.
std::optional<ArrayRef<float>> packedWeightData(ModuleOp module);

#define GEN_PASS_REGISTRATION
#include "liquid/Passes/Passes.h.inc"

} // namespace mlir::liquid

#endif // LIQUID_PASSES_PASSES_H
