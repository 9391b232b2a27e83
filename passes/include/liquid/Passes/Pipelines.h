//===- Pipelines.h - the compiler, as pass pipelines ------------*- C++ -*-===//
//
// The one definition of what liquidc runs: liquidc calls these functions and
// liquid-opt registers them as pipelines (same names, same options), so a lit
// test of a pipeline tests what ships.
//
//   liquid-optimize        fuse-cfc, fuse-ltc, fuse-projections, canonicalize, cse
//   liquid-to-vector       assign-backends, plan-memory, [print-memory-plan],
//                          pack-weights, lower-cells, lower-lm,
//                          approximate-math, canonicalize, cse
//   liquid-vector-to-llvm  scf/vector/math/arith/memref/func -> llvm (bare pointers)
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_PASSES_PIPELINES_H
#define LIQUID_PASSES_PIPELINES_H

#include "liquid/Passes/Passes.h"

#include <string>

namespace mlir::liquid {

/// Everything the pipelines can be asked to do differently.
struct CompilerOptions {
  /// Symbol prefix of the kernels (default: the function name).
  std::string kernelPrefix;
  /// Floats per vector in the kernels: 8 or 16.
  int64_t vectorWidth = 8;
  /// Pack masked weights block-sparse where enough blocks are zero.
  bool blockSparse = true;
  /// A checkpoint tensor with NaN or infinite values is an error, not a
  /// warning (--strict).
  bool strictWeights = false;
  /// Print the memory plan to stdout once it is made.
  bool printMemoryPlan = false;
  /// liquid-assign-backends: llvm or halide, the schedule file, the target's
  /// limits, int8 activations, and where to list the kernels.
  std::string backend = "llvm";
  std::string halideScheduleFile;
  bool gpu = false, int8Only = false, int8Activations = false;
  /// The target's int8 dot-product intrinsic (int8DotIntrinsic; "" none).
  std::string int8Dot;
  /// The target has no half-precision conversions (hasHalfConversions):
  /// the kernels convert with integer code.
  bool softHalf = false;
  std::string kernelsList;
  /// Small kernels over fast ones (microcontrollers; cells), their
  /// element-wise loops `elementLanes` floats wide (0: vectorWidth).
  bool compact = false;
  int64_t elementLanes = 0;
  /// Cells' weight matrices as int8 with a scale per output
  /// (liquid-quantize-cells; liquidc --quantize=q8 for a cell).
  bool quantizeCells = false;
  /// Bits of `index` in the generated code: 32 on microcontrollers, whose
  /// 64-bit loop counters take register pairs and carries; 0 keeps 64.
  unsigned indexBitwidth = 0;
};

/// liquid -> liquid: cell fusion, projection fusion, canonicalization, CSE.
void populateLiquidOptimizationPipeline(OpPassManager &pm);
/// Memory planning, backend assignment, weight packing and lowering of
/// `liquid` to scf/vector/memref/math kernels. `checkpoint` holds the
/// tensors the `liquid.weight` ops name (it must outlive the run): the packed
/// blob becomes the module's `liquid.weight_data`, or goes to `sink`. Without
/// it only the layout is planned (unless every weight carries its values).
void populateLiquidToVectorPipeline(OpPassManager &pm, const CompilerOptions &options,
                                    const ::liquid::WeightStore *checkpoint = nullptr,
                                    ::liquid::WeightSink *sink = nullptr);
/// scf/vector/memref/math/arith -> LLVM dialect (bare-pointer calling
/// convention); `index` becomes an integer of `indexBitwidth` bits (0: 64).
void populateLowerToLLVMPipeline(OpPassManager &pm, unsigned indexBitwidth = 0);
/// All three, in order.
void populateLiquidCompilerPipeline(OpPassManager &pm, const CompilerOptions &options,
                                    const ::liquid::WeightStore *checkpoint = nullptr,
                                    ::liquid::WeightSink *sink = nullptr);
/// Registers the pipelines with the pass registry (for liquid-opt).
void registerLiquidPipelines();

} // namespace mlir::liquid

#endif // LIQUID_PASSES_PIPELINES_H
