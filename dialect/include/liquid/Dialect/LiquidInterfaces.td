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

#endif // LIQUID_INTERFACES_TD
