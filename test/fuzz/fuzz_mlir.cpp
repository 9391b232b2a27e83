//===- fuzz_mlir.cpp - libFuzzer harness: liquid IR parsing and verifying -===//
//
// Input: MLIR text, parsed as liquid-opt does (the liquid dialect and the
// upstream dialects its pipelines use) and verified. A module that parses
// and verifies must print, and what it prints must parse and verify again
// (liquid-opt output is fed back to liquid-opt in the lit tests and by
// users tuning kernels).
//
//===----------------------------------------------------------------------===//
#include "liquid/Dialect/Liquid.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cstdlib>

namespace {

mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    mlir::DialectRegistry registry;
    registry.insert<mlir::liquid::LiquidDialect, mlir::func::FuncDialect,
                    mlir::arith::ArithDialect, mlir::math::MathDialect,
                    mlir::tensor::TensorDialect>();
    auto *c = new mlir::MLIRContext(registry, mlir::MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    c->allowUnregisteredDialects(false);
    return c;
  }();
  return *ctx;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext &ctx = context();
  mlir::ScopedDiagnosticHandler quiet(&ctx, [](mlir::Diagnostic &) { return mlir::success(); });
  // liquid-opt and liquidc read files into NUL-terminated buffers, which
  // MLIR's lexer relies on; libFuzzer's input is not terminated.
  std::string text(reinterpret_cast<const char *>(data), size);
  mlir::OwningOpRef<mlir::ModuleOp> m = mlir::parseSourceString<mlir::ModuleOp>(text, &ctx);
  if (!m) return 0;
  std::string printed;
  {
    llvm::raw_string_ostream os(printed);
    m->print(os);
  }
  mlir::OwningOpRef<mlir::ModuleOp> again = mlir::parseSourceString<mlir::ModuleOp>(printed, &ctx);
  if (!again) {
    std::fprintf(stderr, "liquid-fuzz: printed IR does not parse back:\n%s\n", printed.c_str());
    std::abort();
  }
  return 0;
}
