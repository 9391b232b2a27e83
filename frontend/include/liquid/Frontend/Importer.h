//===- Importer.h - ncps model -> liquid dialect ----------------*- C++ -*-===//
#ifndef LIQUID_FRONTEND_IMPORTER_H
#define LIQUID_FRONTEND_IMPORTER_H

#include "liquid/Frontend/NcpsModel.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace liquid {

/// Builds `func.func @<model.name>(%xs, %ts, %states...) -> (%ys, %finals...)`
/// around one `liquid.scan` whose body is the model's step. Every parameter is
/// a `liquid.weight` naming its state_dict key in `model.weights`.
mlir::OwningOpRef<mlir::ModuleOp> importNcpsModel(mlir::MLIRContext &ctx, const NcpsModel &model);

} // namespace liquid

#endif
