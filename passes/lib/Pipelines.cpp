//===- Pipelines.cpp - the compiler, as pass pipelines ----------------------===//
#include "liquid/Passes/Pipelines.h"
#include "liquid/Frontend/NcpsModel.h" // liquid::Tensor, for the checkpoint

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::liquid;

void mlir::liquid::populateLiquidOptimizationPipeline(OpPassManager &pm) {
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  fpm.addPass(createFuseCfC());
  fpm.addPass(createFuseLTC());
  fpm.addPass(createFuseProjections());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::liquid::populateLiquidToVectorPipeline(OpPassManager &pm, const CompilerOptions &o,
                                                  const ::liquid::WeightStore *checkpoint,
                                                  ::liquid::WeightSink *sink) {
  if (o.quantizeCells)
    pm.nest<func::FuncOp>().addPass(createQuantizeCells());
  AssignBackendsOptions backends;
  backends.backend = o.backend;
  backends.scheduleFile = o.halideScheduleFile;
  backends.kernelPrefix = o.kernelPrefix;
  backends.vectorWidth = o.vectorWidth;
  backends.gpu = o.gpu;
  backends.int8Only = o.int8Only;
  backends.int8Activations = o.int8Activations;
  backends.kernelsList = o.kernelsList;
  pm.addPass(createAssignBackends(backends));
  // after the backends: a product with int8_inputs takes scratch
  pm.nest<func::FuncOp>().addPass(createPlanMemory());
  if (o.printMemoryPlan)
    pm.addPass(createPrintMemoryPlan());
  PackWeightsOptions pack;
  pack.vectorWidth = o.vectorWidth;
  pack.blockSparse = o.blockSparse;
  pack.strictWeights = o.strictWeights;
  pm.addPass(createPackWeights(pack, checkpoint, sink));
  pm.addPass(createLowerCells({o.kernelPrefix, o.vectorWidth, o.compact, o.elementLanes}));
  pm.addPass(createLowerLM({o.kernelPrefix, o.vectorWidth, o.int8Dot, o.softHalf}));
  pm.addPass(createApproximateMath());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::liquid::populateLowerToLLVMPipeline(OpPassManager &pm, unsigned indexBitwidth) {
  pm.addPass(createSCFToControlFlowPass());
  if (indexBitwidth)
    pm.addPass(createConvertVectorToLLVM({indexBitwidth}));
  else
    pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  ArithToLLVMConversionPassOptions arith;
  arith.indexBitwidth = indexBitwidth;
  pm.addPass(createArithToLLVMConversionPass(arith));
  FinalizeMemRefToLLVMConversionPassOptions memref;
  memref.indexBitwidth = indexBitwidth;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memref));
  ConvertFuncToLLVMPassOptions funcOpts;
  funcOpts.useBarePtrCallConv = true;
  funcOpts.indexBitwidth = indexBitwidth;
  pm.addPass(createConvertFuncToLLVMPass(funcOpts));
  ConvertControlFlowToLLVMPassOptions cf;
  cf.indexBitwidth = indexBitwidth;
  pm.addPass(createConvertControlFlowToLLVMPass(cf));
  UBToLLVMConversionPassOptions ub;
  ub.indexBitwidth = indexBitwidth;
  pm.addPass(createUBToLLVMConversionPass(ub));
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::liquid::populateLiquidCompilerPipeline(OpPassManager &pm, const CompilerOptions &o,
                                                  const ::liquid::WeightStore *checkpoint,
                                                  ::liquid::WeightSink *sink) {
  populateLiquidOptimizationPipeline(pm);
  populateLiquidToVectorPipeline(pm, o, checkpoint, sink);
  populateLowerToLLVMPipeline(pm, o.indexBitwidth);
}

namespace {
/// CompilerOptions as pipeline options (liquid-opt --liquid-to-vector='...').
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<std::string> prefix{*this, "prefix", llvm::cl::desc("Symbol prefix of the kernels")};
  Option<int64_t> vectorWidth{*this, "vector-width", llvm::cl::desc("Floats per vector: 8 or 16"),
                              llvm::cl::init(8)};
  Option<bool> blockSparse{*this, "block-sparse",
                           llvm::cl::desc("Pack masked weights block-sparse"), llvm::cl::init(true)};
  Option<bool> printPlan{*this, "print-memory-plan", llvm::cl::desc("Print the memory plan"),
                         llvm::cl::init(false)};
  Option<std::string> backend{*this, "backend", llvm::cl::desc("llvm or halide"),
                              llvm::cl::init("llvm")};
  Option<std::string> schedule{*this, "halide-schedule", llvm::cl::desc("Halide schedule file")};
  Option<bool> gpu{*this, "gpu", llvm::cl::desc("GPU target: products only"), llvm::cl::init(false)};
  Option<bool> int8Only{*this, "int8-only", llvm::cl::desc("int8 products only"),
                        llvm::cl::init(false)};
  Option<bool> int8Acts{*this, "int8-activations", llvm::cl::desc("int8 x int8 products"),
                        llvm::cl::init(false)};
  Option<std::string> kernelsList{*this, "kernels-list", llvm::cl::desc("List the kernels here")};
  Option<std::string> int8Dot{*this, "int8-dot",
                              llvm::cl::desc("The target's int8 dot-product intrinsic")};
  Option<bool> softHalf{*this, "soft-half",
                        llvm::cl::desc("Half-precision conversions in integer code"),
                        llvm::cl::init(false)};
  Option<bool> compact{*this, "compact", llvm::cl::desc("Small code over speed (cells)"),
                       llvm::cl::init(false)};
  Option<int64_t> elementLanes{*this, "element-lanes",
                               llvm::cl::desc("Compact: floats per element-wise vector"),
                               llvm::cl::init(0)};
  Option<unsigned> indexBitwidth{*this, "index-bitwidth",
                                 llvm::cl::desc("Bits of index in the LLVM lowering (0: 64)"),
                                 llvm::cl::init(0)};
  Option<bool> quantizeCells{*this, "quantize-cells",
                             llvm::cl::desc("Cells' weight matrices as int8 (q8c)"),
                             llvm::cl::init(false)};

  CompilerOptions get() const {
    CompilerOptions o;
    o.kernelPrefix = prefix, o.vectorWidth = vectorWidth, o.blockSparse = blockSparse;
    o.printMemoryPlan = printPlan, o.backend = backend, o.halideScheduleFile = schedule;
    o.gpu = gpu, o.int8Only = int8Only, o.int8Activations = int8Acts;
    o.kernelsList = kernelsList, o.int8Dot = int8Dot, o.softHalf = softHalf;
    o.compact = compact, o.quantizeCells = quantizeCells, o.elementLanes = elementLanes;
    o.indexBitwidth = indexBitwidth;
    return o;
  }
};
/// liquid-opt --liquid-vector-to-llvm='index-bitwidth=32'.
struct LLVMPipelineOptions : public PassPipelineOptions<LLVMPipelineOptions> {
  Option<unsigned> indexBitwidth{*this, "index-bitwidth",
                                 llvm::cl::desc("Bits of index (0: 64)"), llvm::cl::init(0)};
};
} // namespace

void mlir::liquid::registerLiquidPipelines() {
  PassPipelineRegistration<>("liquid-optimize",
                             "Fuse cells (liquid-fuse-cfc, liquid-fuse-ltc) and projections "
                             "(liquid-fuse-projections), canonicalize, CSE",
                             populateLiquidOptimizationPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "liquid-to-vector",
      "Plan memory, assign backends, lower liquid to scf/vector/memref/math kernels",
      [](OpPassManager &pm, const PipelineOptions &o) {
        populateLiquidToVectorPipeline(pm, o.get());
      });
  PassPipelineRegistration<LLVMPipelineOptions>(
      "liquid-vector-to-llvm", "Lower the kernels to the LLVM dialect (bare-pointer ABI)",
      [](OpPassManager &pm, const LLVMPipelineOptions &o) {
        populateLowerToLLVMPipeline(pm, o.indexBitwidth);
      });
  PassPipelineRegistration<PipelineOptions>(
      "liquid-compile", "The whole compiler: liquid-optimize, liquid-to-vector, liquid-vector-to-llvm",
      [](OpPassManager &pm, const PipelineOptions &o) {
        populateLiquidCompilerPipeline(pm, o.get());
      });
}
