//===- LiquidAttrs.td - liquid attributes ------------------*- tablegen -*-===//
//
// The memory plan's results as typed attributes (liquid-plan-memory writes
// them as `liquid.arena` on a cell's scan or a language model's function),
// and the packed weights' (liquid-pack-weights: `liquid.packed` on each op
// that reads weights, `liquid.weights` on the module).
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_ATTRS_TD
#define LIQUID_ATTRS_TD

include "liquid/Dialect/LiquidDialect.td"
include "liquid/Dialect/LiquidEnums.td"
include "mlir/IR/AttrTypeBase.td"

class Liquid_Attr<string name, string attrMnemonic> : AttrDef<Liquid_Dialect, name> {
  let mnemonic = attrMnemonic;
}

def Liquid_StepArenaAttr : Liquid_Attr<"StepArena", "step_arena"> {
  let summary = "the arena of a cell's step kernel, in floats";
  let description = [{
    `size` floats in all; the step input at `input`, the step output at
    `output`, the recurrent states at `states` (h, then c for mixed-memory
    cells). Every other slot is recorded on its op (`liquid.offset`,
    `liquid.scratch`).

    ```mlir
    liquid.scan ... {liquid.arena = #liquid.step_arena<size = 192, input = 48, output = 0, states = [0]>}
    ```
  }];
  let parameters = (ins "int64_t":$size, "int64_t":$input, "int64_t":$output,
                        "::mlir::DenseI64ArrayAttr":$states);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Liquid_ForwardArenaAttr : Liquid_Attr<"ForwardArena", "forward_arena"> {
  let summary = "the arena of a language model's forward kernel, in floats";
  let description = [{
    `size` floats in all; each `liquid.state_buffer` (conv and KV caches) at
    the offset `caches` maps its symbol to. Activations and scratch are
    recorded on their ops.

    ```mlir
    func.func @lm(...) attributes {liquid.arena = #liquid.forward_arena<size = 11520, caches = {conv0 = 0 : i64, kv1 = 128 : i64}>}
    ```
  }];
  let parameters = (ins "int64_t":$size, "::mlir::DictionaryAttr":$caches);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Liquid_StepKernelAttr : Liquid_Attr<"StepKernel", "step_kernel"> {
  let summary = "a cell's step kernel's contract with the runtime";
  let description = [{
    `@P_kernel_step(weights, arena, ts)` runs one step in an arena of
    `arena_size` floats: the runtime writes the step input (`input_size`
    floats) at `input`, reads the output (`output_size`) at `output`, and
    keeps the recurrent states (`state_sizes`) at `states`. Recorded by
    liquid-lower-cells on the kernel as `liquid.kernel`; the runtime's
    header (liquid_cell.h) is generated from it.
  }];
  let parameters = (ins "int64_t":$arena_size, "int64_t":$input, "int64_t":$input_size,
                        "int64_t":$output, "int64_t":$output_size,
                        "::mlir::DenseI64ArrayAttr":$states,
                        "::mlir::DenseI64ArrayAttr":$state_sizes);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Liquid_ForwardKernelAttr : Liquid_Attr<"ForwardKernel", "forward_kernel"> {
  let summary = "a language model's forward kernel's contract with the runtime";
  let description = [{
    `@P_kernel_forward(...)` runs up to `max_rows` tokens in an arena of
    `arena_size` floats with caches for `max_context` positions and writes
    `vocab` logits per row. What a token costs, computed from the IR:
    `flops_per_token` (the head's `head_flops` among them: a prompt chunk
    runs the head on its last row only) and the expert weight bytes a token
    does not read (`unread_expert_bytes`). The caches a state snapshot
    saves: `conv_caches` (offset, floats pairs) and `kv_caches` (offset, floats
    per row pairs; keys at the offset, values `max_context` rows later).
    Recorded by liquid-lower-lm on the kernel as `liquid.kernel`.
  }];
  let parameters = (ins "int64_t":$arena_size, "int64_t":$max_rows, "int64_t":$max_context,
                        "int64_t":$vocab, "int64_t":$flops_per_token, "int64_t":$head_flops,
                        "int64_t":$unread_expert_bytes,
                        "::mlir::DenseI64ArrayAttr":$conv_caches,
                        "::mlir::DenseI64ArrayAttr":$kv_caches);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Liquid_WeightSlotAttr : Liquid_Attr<"WeightSlot", "slot"> {
  let summary = "one packed tensor in the weight blob";
  let description = [{
    The tensor `tensor` (a checkpoint name, a weight expression such as
    `concat0(a, b)`, or a table the compiler derives, such as RoPE's) packed
    in `layout` with elements `element`, at `offset` floats of the blob,
    `floats` long. Block-sparse layouts list which 8-float blocks are kept,
    one string of `0`/`1` per block row (`blocks`).

    ```mlir
    #liquid.slot<tensor = "ff1.weight", layout = transposed, element = f32, offset = 0, floats = 5120>
    ```
  }];
  let parameters = (ins "::mlir::StringAttr":$tensor, "WeightLayout":$layout,
                        "WeightStorage":$element, "int64_t":$offset, "int64_t":$floats,
                        OptionalParameter<"::mlir::ArrayAttr">:$blocks);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Liquid_WeightBlobAttr : Liquid_Attr<"WeightBlob", "weight_blob"> {
  let summary = "the layout of the packed weight blob (the .lqw file)";
  let description = [{
    `size` floats in all, padded for vectors of `lanes` floats; `slots` in
    blob order. `hash` identifies the layout: the runtime refuses a weights
    file written for another one. The packed data itself, when the
    checkpoint was at hand, is the module's `liquid.weight_data`
    (a `dense_resource`).
  }];
  let parameters = (ins "int64_t":$size, "int64_t":$lanes, "::mlir::StringAttr":$hash,
                        "::mlir::ArrayAttr":$slots);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // LIQUID_ATTRS_TD
