//===- LiquidDialect.td - the liquid dialect ---------------*- tablegen -*-===//
#ifndef LIQUID_DIALECT_TD
#define LIQUID_DIALECT_TD

include "mlir/IR/OpBase.td"

def Liquid_Dialect : Dialect {
  let name = "liquid";
  let cppNamespace = "::mlir::liquid";
  let summary = "Liquid neural network operators: CfC/LTC cells, dense layers, scans, weights";
  let description = [{
    The `liquid` dialect represents liquid neural networks (closed-form
    continuous-time cells, liquid time-constant cells, NCP-wired variants,
    mixed-memory LSTMs) at the level a user reasons about them: one op per
    cell, dense layers with their activation, a `liquid.scan` that runs a cell
    over time with per-step time spans, and `liquid.weight` ops that name
    checkpoint tensors instead of inlining constants.

    Weight-expression ops (`liquid.weight_*`) describe tensors derived from
    checkpoint tensors at compile time (concatenation, mask folding, positive
    constraints); the weight packer evaluates them when the artifact is built.

    Fused ops (`liquid.cfc_epilogue`, `liquid.lstm_epilogue`,
    `liquid.ltc_solve`) are produced by the fusion passes and lowered by
    `liquid-lower-cells`.

    Passes record what they decide as the discardable attributes below (and
    only those): the memory plan (`offset`, `scratch`, `scratch_floats`,
    `arena`), the backend chosen per kernel (`halide_kernel`), the packed
    weights (`packed`, `weights`, `weight_data`) and the lowered artifact's
    contract with the runtime (`kernel`).
  }];
  let discardableAttrs = (ins
    // language-model functions: rows per forward call, KV cache length
    "::mlir::IntegerAttr":$max_rows,
    "::mlir::IntegerAttr":$max_context,
    // memory plan (liquid-plan-memory), in floats
    "::mlir::DenseI64ArrayAttr":$offset,
    "::mlir::IntegerAttr":$scratch,
    "::mlir::IntegerAttr":$scratch_floats,
    "::mlir::Attribute":$arena, // StepArenaAttr | ForwardArenaAttr
    // backend assignment (liquid-assign-backends): the kernel an op became,
    // and on the module every Halide kernel's request (one dictionary each)
    "::mlir::StringAttr":$halide_kernel,
    "::mlir::ArrayAttr":$halide_kernels,
    // packed weights (liquid-pack-weights): on each op that reads weights,
    // its slots (those of getWeightUses(), then tables it reads that are not
    // operands); on the module, the blob's layout and, with a checkpoint,
    // its data
    "::mlir::ArrayAttr":$packed,
    "::mlir::Attribute":$weights, // WeightBlobAttr
    "::mlir::DenseResourceElementsAttr":$weight_data,
    // the lowered kernel's contract with the runtime (liquid-lower-cells,
    // liquid-lower-lm): StepKernelAttr | ForwardKernelAttr
    "::mlir::Attribute":$kernel
  );
  let hasOperationAttrVerify = 1;
  let useDefaultAttributePrinterParser = 1;
}

// Tensor sizes bounded (Liquid.h: kMaxDimSize), checked before the verifiers.
def Liquid_BoundedShapes : NativeOpTrait<"BoundedShapes"> {
  let cppNamespace = "::mlir::liquid";
}

class Liquid_Op<string mnemonic, list<Trait> traits = []>
    : Op<Liquid_Dialect, mnemonic, !listconcat([Liquid_BoundedShapes], traits)>;

#endif // LIQUID_DIALECT_TD
