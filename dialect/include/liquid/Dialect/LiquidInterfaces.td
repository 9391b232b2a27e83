//===- LiquidInterfaces.td - liquid op interfaces ----------*- tablegen -*-===//
#ifndef LIQUID_INTERFACES_TD
#define LIQUID_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Liquid_ScratchOpInterface : OpInterface<"ScratchOpInterface"> {
  let cppNamespace = "::mlir::liquid";
  let description = [{
    An op whose kernel needs scratch memory in the arena, live only while the
    op runs (liquid-plan-memory gives it a slot: `liquid.scratch`,
    `liquid.scratch_floats`). The sizes follow the arena's conventions
    (liquid/Dialect/Arena.h): slots padded by a vector of the widest width
    and aligned to 64 bytes.
  }];
  let methods = [
    InterfaceMethod<[{
      Floats of scratch for calls of up to `maxRows` rows (a cell's step: 1).
    }], "int64_t", "getScratchFloats", (ins "int64_t":$maxRows)>,
  ];
}

def Liquid_WeightReaderOpInterface : OpInterface<"WeightReaderOpInterface"> {
  let cppNamespace = "::mlir::liquid";
  let description = [{
    An op whose kernel reads weights from the packed blob: which operands,
    and in which layout and element type (liquid-pack-weights packs each
    (weight, layout, element) once and records the slots as `liquid.packed`
    on the op, in this order). Operands that must be weights are listed
    always; ops that take either an activation or a weight list the operand
    only when it is a weight.
  }];
  let methods = [
    InterfaceMethod<[{
      Appends the weight operands the op's kernel reads and how.
    }], "void", "getWeightUses", (ins "::llvm::SmallVectorImpl<::mlir::liquid::WeightUse> &":$uses)>,
  ];
}

#endif // LIQUID_INTERFACES_TD
