//===- VectorToLLVM.cpp - liquid-convert-vector-to-llvm --------------------===//
//
// The kernels' vector ops to the LLVM dialect, `index` lowered to
// indexBitwidth bits (upstream's convert-vector-to-llvm fixes it at 64).
//
//===----------------------------------------------------------------------===//
#include "liquid/Passes/Passes.h"

#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::liquid {
#define GEN_PASS_DEF_CONVERTVECTORTOLLVM
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;

namespace {

struct ConvertVectorToLLVMPass
    : mlir::liquid::impl::ConvertVectorToLLVMBase<ConvertVectorToLLVMPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    {
      // Vector-to-vector lowerings first (broadcasts, constant masks).
      RewritePatternSet patterns(ctx);
      vector::populateVectorBroadcastLoweringPatterns(patterns);
      vector::populateVectorBitCastLoweringPatterns(patterns);
      vector::populateVectorShapeCastLoweringPatterns(patterns);
      vector::populateVectorMaskMaterializationPatterns(patterns, /*force32BitVectorIndices=*/true);
      (void)applyPatternsGreedily(getOperation(), std::move(patterns));
    }
    LowerToLLVMOptions options(ctx);
    options.overrideIndexBitwidth(indexBitwidth);
    LLVMTypeConverter converter(ctx, options);
    RewritePatternSet patterns(ctx);
    populateVectorToLLVMConversionPatterns(converter, patterns);
    LLVMConversionTarget target(*ctx);
    target.addLegalDialect<arith::ArithDialect, memref::MemRefDialect>();
    target.addLegalOp<UnrealizedConversionCastOp>();
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
