//===- Liquid.h - the liquid dialect ----------------------------*- C++ -*-===//
#ifndef LIQUID_DIALECT_LIQUID_H
#define LIQUID_DIALECT_LIQUID_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "liquid/Dialect/LiquidOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "liquid/Dialect/LiquidOps.h.inc"

namespace mlir::liquid {
/// True if `v` is computed at compile time from checkpoint tensors only
/// (a `liquid.weight` or a `liquid.weight_*` expression).
bool isWeight(Value v);
/// The activation kinds `liquid.dense` and `liquid.activation` accept.
bool isKnownActivation(llvm::StringRef kind);
} // namespace mlir::liquid

#endif // LIQUID_DIALECT_LIQUID_H
