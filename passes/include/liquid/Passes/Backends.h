//===- Backends.h - the Halide kernel requests in the IR --------*- C++ -*-===//
#ifndef LIQUID_PASSES_BACKENDS_H
#define LIQUID_PASSES_BACKENDS_H

#include "liquid/Passes/HalideKernels.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"

#include <vector>

namespace mlir::liquid {

/// One request as the dictionary `liquid.halide_kernels` holds, and back.
DictionaryAttr halideKernelToAttr(MLIRContext *ctx, const ::liquid::HalideKernel &k);
/// The requests liquid-assign-backends recorded on `module` (none: empty).
std::vector<::liquid::HalideKernel> readHalideKernels(ModuleOp module);

} // namespace mlir::liquid

#endif
