//===- Pipelines.cpp - named pass pipelines ---------------------------------===//
#include "liquid/Passes/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::liquid::buildLiquidOptimizationPipeline(OpPassManager &pm) {
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  fpm.addPass(createFuseCfC());
  fpm.addPass(createFuseLTC());
  fpm.addPass(createFuseProjections());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::liquid::buildLiquidToVectorPipeline(OpPassManager &pm,
                                               const LowerToVectorOptions &options,
                                               WeightPackingSink sink) {
  pm.nest<func::FuncOp>().addPass(createPlanMemory());
  pm.addPass(createLowerToVectorPass(options, sink));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::liquid::buildLowerToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcOpts;
  funcOpts.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOpts));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::liquid::registerLiquidPipelines() {
  PassPipelineRegistration<>("liquid-optimize",
                             "Fuse cells (liquid-fuse-cfc, liquid-fuse-ltc) and projections (liquid-fuse-projections), canonicalize, CSE",
                             buildLiquidOptimizationPipeline);
  PassPipelineRegistration<>("liquid-to-vector",
                             "Plan memory and lower liquid to scf/vector/memref/math kernels",
                             [](OpPassManager &pm) { buildLiquidToVectorPipeline(pm); });
  PassPipelineRegistration<>("liquid-vector-to-llvm",
                             "Lower the kernels to the LLVM dialect (bare-pointer ABI)",
                             buildLowerToLLVMPipeline);
}
