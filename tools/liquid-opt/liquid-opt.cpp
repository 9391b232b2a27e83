//===- liquid-opt.cpp - the liquid optimizer driver -------------------------===//
//
// MlirOptMain with the liquid dialect, its passes and pipelines, and the
// upstream dialects and passes the pipelines use.
//
//===----------------------------------------------------------------------===//
#include "liquid/Passes/Pipelines.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/Extensions/AllExtensions.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::liquid::LiquidDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect, mlir::scf::SCFDialect,
                  mlir::vector::VectorDialect, mlir::tensor::TensorDialect,
                  mlir::cf::ControlFlowDialect, mlir::LLVM::LLVMDialect, mlir::ub::UBDialect>();
  mlir::func::registerAllExtensions(registry);
  mlir::registerTransformsPasses();
  mlir::liquid::registerLiquidPasses();
  mlir::liquid::registerLiquidPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "liquid optimizer driver\n", registry));
}
