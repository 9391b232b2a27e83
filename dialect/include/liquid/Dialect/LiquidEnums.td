//===- LiquidEnums.td - liquid enum attributes -------------*- tablegen -*-===//
//
// Every enum-like choice an op makes is one of these: the parser rejects
// unknown values, and passes switch on C++ enums instead of comparing strings.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_ENUMS_TD
#define LIQUID_ENUMS_TD

include "liquid/Dialect/LiquidDialect.td"
include "mlir/IR/EnumAttr.td"

class Liquid_I32Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::liquid";
}
class Liquid_EnumAttr<EnumAttrInfo info, string mnemonic>
    : EnumAttr<Liquid_Dialect, info, mnemonic>;

def Liquid_CfCMode : Liquid_I32Enum<"CfCMode", "the CfC variant (ncps `mode`)", [
  I32EnumAttrCase<"Default", 0, "default">,
  I32EnumAttrCase<"NoGate", 1, "no_gate">,
  I32EnumAttrCase<"Pure", 2, "pure">]>;
def Liquid_CfCModeAttr : Liquid_EnumAttr<Liquid_CfCMode, "cfc_mode">;

def Liquid_WeightFn : Liquid_I32Enum<"WeightFn", "an element-wise function of a weight", [
  I32EnumAttrCase<"Softplus", 0, "softplus">,
  I32EnumAttrCase<"Relu", 1, "relu">,
  I32EnumAttrCase<"Abs", 2, "abs">,
  I32EnumAttrCase<"Neg", 3, "neg">]>;
def Liquid_WeightFnAttr : Liquid_EnumAttr<Liquid_WeightFn, "weight_fn">;

def Liquid_Activation : Liquid_I32Enum<"Activation", "an element-wise activation", [
  I32EnumAttrCase<"None", 0, "none">,
  I32EnumAttrCase<"LecunTanh", 1, "lecun_tanh">,
  I32EnumAttrCase<"Tanh", 2, "tanh">,
  I32EnumAttrCase<"Relu", 3, "relu">,
  I32EnumAttrCase<"Gelu", 4, "gelu">,
  I32EnumAttrCase<"Silu", 5, "silu">,
  I32EnumAttrCase<"Sigmoid", 6, "sigmoid">]>;
def Liquid_ActivationAttr : Liquid_EnumAttr<Liquid_Activation, "activation">;

def Liquid_StateKind : Liquid_I32Enum<"StateKind", "what a state buffer holds", [
  I32EnumAttrCase<"KVCache", 0, "kv_cache">,
  I32EnumAttrCase<"ConvCache", 1, "conv_cache">]>;
def Liquid_StateKindAttr : Liquid_EnumAttr<Liquid_StateKind, "state_kind">;

def Liquid_RouterScore : Liquid_I32Enum<"RouterScore", "how a MoE router scores experts", [
  I32EnumAttrCase<"Sigmoid", 0, "sigmoid">,
  I32EnumAttrCase<"Softmax", 1, "softmax">]>;
def Liquid_RouterScoreAttr : Liquid_EnumAttr<Liquid_RouterScore, "router_score">;

def Liquid_WeightStorage : Liquid_I32Enum<"WeightStorage",
    "the element type a product's weights are stored and read in", [
  I32EnumAttrCase<"F32", 0, "f32">,
  I32EnumAttrCase<"F16", 1, "f16">,
  I32EnumAttrCase<"Q8", 2, "q8">,
  // Integer blocks along the inputs (liquid/Passes/PackedFormat.h, iblk):
  // value = scale * (q - zero) [+ min] per block.
  I32EnumAttrCase<"Q4", 3, "q4">,       // 4-bit, zero point 8, scale per 32 (GGUF Q4_0)
  I32EnumAttrCase<"Q4M", 4, "q4m">,     // 4-bit, scale and minimum per 32 (Q4_1, Q4_K)
  I32EnumAttrCase<"Q8M", 5, "q8m">,     // 8-bit unsigned, scale and minimum per 32 (Q5_1, Q5_K)
  I32EnumAttrCase<"Q8X16", 6, "q8x16">, // int8, scale per 16 (Q6_K)
  // q8 weights laid out for int8 x int8 products (a linear with int8_inputs)
  I32EnumAttrCase<"Q8I", 7, "q8i">,
  // the K types as stored: 8-bit sub-scales (and sub-minimums) per block
  // times half scales per super-block of 256 inputs
  I32EnumAttrCase<"Q4K", 8, "q4k">,     // 4-bit, scale and minimum per 32 (Q4_K)
  I32EnumAttrCase<"Q5K", 9, "q5k">,     // 5-bit, scale and minimum per 32 (Q5_K)
  I32EnumAttrCase<"Q6K", 10, "q6k">,    // 6-bit, zero point 32, scale per 16 (Q6_K)
  // int8 with a float scale per output (cells' products, --quantize=q8)
  I32EnumAttrCase<"Q8C", 11, "q8c">]>;
def Liquid_WeightStorageAttr : Liquid_EnumAttr<Liquid_WeightStorage, "weight_storage">;

// How a packed weight is ordered in the blob (liquid/Passes/PackedFormat.h
// describes each one; the first five match its PackLayout values).
def Liquid_WeightLayout : Liquid_I32Enum<"WeightLayout", "how a packed weight is ordered", [
  I32EnumAttrCase<"Vector", 0, "vector">,
  I32EnumAttrCase<"Rows", 1, "rows">,
  I32EnumAttrCase<"Transposed", 2, "transposed">,
  I32EnumAttrCase<"TransposedBatched", 3, "transposed_batched">,
  I32EnumAttrCase<"TransposedBatchedGLU", 4, "transposed_batched_glu">,
  // block-sparse: only the nonzero 8-float blocks, of a product's transposed
  // matrix or of an LTC synapse matrix's rows
  I32EnumAttrCase<"BlocksTransposed", 5, "blocks_transposed">,
  I32EnumAttrCase<"BlocksRows", 6, "blocks_rows">]>;
def Liquid_WeightLayoutAttr : Liquid_EnumAttr<Liquid_WeightLayout, "weight_layout">;

#endif // LIQUID_ENUMS_TD
