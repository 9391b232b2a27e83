//===- LiquidLMOps.td - language-model ops (LFM2) ----------*- tablegen -*-===//
//
// Ops for LFM2-family language models. Projections are `liquid.linear` (so
// projections that read the same input can be fused into one product by a
// generic pass); only what carries state or needs a dedicated kernel is an op
// of its own: the short-convolution mixer (conv cache), attention (KV cache,
// per-head norms, RoPE), RMSNorm, the embedding gather and the SwiGLU gate.
// Persistent state is declared once per module with `liquid.state_buffer` and
// named by symbol, so the memory planner can place it statically.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_LM_OPS_TD
#define LIQUID_LM_OPS_TD

def Liquid_TokensTensor : 1DTensorOf<[I32]>;

def Liquid_StateBufferOp : Liquid_Op<"state_buffer", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a persistent buffer carried across calls (conv cache, KV cache)";
  let description = [{
    Declares state that lives across forward calls: `kind` is `conv_cache`
    (`[L - 1, hidden]`: the last `L - 1` rows of `B * x` of one short-conv
    layer) or `kv_cache` (`[2, max_context, kv_heads * head_dim]`: keys then
    values, after the per-head norm and RoPE). Sized at compile time; the
    memory planner gives it a fixed place.

    ```mlir
    liquid.state_buffer conv_cache @conv0 : tensor<2x1024xf32>
    liquid.state_buffer kv_cache @kv2 : tensor<2x4096x512xf32>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, Liquid_StateKindAttr:$kind, TypeAttrOf<Liquid_F32Tensor>:$type);
  let assemblyFormat = "$kind $sym_name attr-dict `:` $type";
  let hasVerifier = 1;
}

def Liquid_EmbeddingOp : Liquid_Op<"embedding", [Pure, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "gathers rows of an embedding table";
  let description = [{
    `result[t] = table[ids[t]]`. Ids outside `[0, vocab)` are a run-time error
    reported by the runtime before the gather.

    ```mlir
    %x = liquid.embedding %ids, %table : tensor<?xi32>, tensor<1024x256xf32> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Liquid_TokensTensor:$ids, Liquid_F32Matrix:$table);
  let results = (outs Liquid_F32Matrix:$result);
  let assemblyFormat = "$ids `,` $table attr-dict `:` type($ids) `,` type($table) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_RMSNormOp : Liquid_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>,
    DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "RMSNorm over the last dimension, times a weight";
  let description = [{
    `y = x / sqrt(mean(x^2) + epsilon) * weight`, each row on its own.

    ```mlir
    %h = liquid.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : tensor<?x256xf32>, tensor<256xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Tensor:$input, Liquid_F32Vector:$weight, F64Attr:$epsilon);
  let results = (outs Liquid_F32Tensor:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `,` type($weight)";
  let hasVerifier = 1;
}

def Liquid_LinearOp : Liquid_Op<"linear", [Pure, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>,
    DeclareOpInterfaceMethods<Liquid_ScratchOpInterface>]> {
  let summary = "rows times a weight: y = x W^T";
  let description = [{
    `x` is `[T, in]`, `W` is `[out, in]` (torch layout), no bias. `weight_type`
    chooses how the artifact stores `W`: `f32` (the default, not printed),
    `f16` half precision, `q8` int8 with one scale per block of 32 inputs
    (GGUF Q8_0; `in` must be a multiple of 32), or the integer blocks of the
    4-, 5- and 6-bit GGUF types kept as stored: `q4` (Q4_0), `q4m` (Q4_1),
    `q8m` (Q5_1), `q8x16` (int8, a scale per 16); `in` a multiple of 32; the
    K types with their super-block scales, `q4k`, `q5k`, `q6k` (Q4_K, Q5_K,
    Q6_K); `in` a multiple of 256.
    Activations and accumulation stay float32, unless `int8_inputs`: then
    each row's inputs are quantized to int8 per block of 32 (scale max|x| /
    127, as llama.cpp's Q8_0 activations) and each block's products are
    summed in int32 (block weight types only; the op then takes scratch for
    the quantized rows).

    ```mlir
    %q = liquid.linear %h, %wq stored q8 : tensor<?x256xf32>, tensor<256x256xf32> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Matrix:$input, Liquid_F32Matrix:$weight,
                       DefaultValuedAttr<Liquid_WeightStorageAttr, "::mlir::liquid::WeightStorage::F32">:$weight_type,
                       UnitAttr:$int8_inputs);
  let results = (outs Liquid_F32Matrix:$result);
  let assemblyFormat = "$input `,` $weight (`stored` $weight_type^)? (`int8_inputs` $int8_inputs^)? attr-dict `:` type($input) `,` type($weight) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_ShortConvMixOp : Liquid_Op<"short_conv_mix", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<Liquid_ScratchOpInterface>, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "LFM2 gated short convolution between its projections";
  let description = [{
    Takes the in-projection `bcx = [B | C | x]` (`[T, 3 x hidden]`) and the
    depthwise kernel (`[hidden, L]`): `y[t] = C[t] * sum_j k[:, j] * (B * x)[t -
    (L - 1) + j]`, causal, continuing from the conv cache `state` (the last
    `L - 1` rows of `B * x` before this call), which it updates. The
    out-projection is a separate `liquid.linear`.

    ```mlir
    %y = liquid.short_conv_mix %bcx, %k state(@conv0) : tensor<?x768xf32>, tensor<256x3xf32> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Matrix:$bcx, Liquid_F32Matrix:$kernel, FlatSymbolRefAttr:$state);
  let results = (outs Liquid_F32Matrix:$result);
  let assemblyFormat = "$bcx `,` $kernel `state` `(` $state `)` attr-dict `:` type($bcx) `,` type($kernel) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_AttentionOp : Liquid_Op<"attention", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<Liquid_ScratchOpInterface>, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "causal grouped-query attention with per-head norms, NeoX RoPE and a KV cache";
  let description = [{
    `q` is `[T, heads x head_dim]`, `k` and `v` are `[T, kv_heads x
    head_dim]` (the outputs of the q/k/v projections). Per head, q and k get
    RMSNorm (`q_norm`, `k_norm`: `[head_dim]`, `epsilon`) and NeoX-style
    rotary embeddings (pairs `(j, j + head_dim/2)`, frequencies
    `rope_theta^(-2j/head_dim)`) at positions `position .. position + T - 1`;
    k and v are appended to the KV cache `state`; each query attends
    causally to every cached position up to its own, with softmax over
    `q k / sqrt(head_dim)`. Query head `h` uses KV head `h / (heads /
    kv_heads)`. The result is `[T, heads x head_dim]`, head-major; the
    out-projection is a separate `liquid.linear`.

    ```mlir
    %a = liquid.attention %q, %k, %v, %qn, %kn, %pos state(@kv2)
        {heads = 4 : i64, kv_heads = 2 : i64, head_dim = 64 : i64, rope_theta = 1.0e+06 : f64, epsilon = 1.0e-05 : f64}
        : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>, tensor<64xf32>, tensor<64xf32> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Matrix:$q, Liquid_F32Matrix:$k, Liquid_F32Matrix:$v,
                       Liquid_F32Vector:$q_norm, Liquid_F32Vector:$k_norm, Index:$position,
                       FlatSymbolRefAttr:$state, I64Attr:$heads, I64Attr:$kv_heads,
                       I64Attr:$head_dim, F64Attr:$rope_theta, F64Attr:$epsilon);
  let results = (outs Liquid_F32Matrix:$result);
  let assemblyFormat = "$q `,` $k `,` $v `,` $q_norm `,` $k_norm `,` $position `state` `(` $state `)` attr-dict `:` type($q) `,` type($k) `,` type($v) `,` type($q_norm) `,` type($k_norm) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_ColumnsOp : Liquid_Op<"columns", [Pure]> {
  let summary = "a range of columns of every row";
  let description = [{
    `result[t] = input[t, offset : offset + N]`. What `liquid-fuse-projections`
    leaves behind a fused product, one per original projection.

    ```mlir
    %k = liquid.columns %qkv [256] : tensor<?x512xf32> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Matrix:$input, I64Attr:$offset);
  let results = (outs Liquid_F32Matrix:$result);
  let assemblyFormat = "$input `[` $offset `]` attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_SwiGLUOp : Liquid_Op<"swiglu", [Pure, AllTypesMatch<["gate", "up", "result"]>]> {
  let summary = "silu(gate) * up";
  let description = [{
    The gate of the SwiGLU feed-forward, between the fused gate/up projection
    and the down projection.

    ```mlir
    %g = liquid.swiglu %gate, %up : tensor<?x768xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Tensor:$gate, Liquid_F32Tensor:$up);
  let results = (outs Liquid_F32Tensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Liquid_SwiGLUHalvesOp : Liquid_Op<"swiglu_halves", [Pure]> {
  let summary = "silu(first half) * second half of every row";
  let description = [{
    `result[t] = silu(x[t, :F]) * x[t, F:]` for `x` of `[T, 2F]`: the SwiGLU
    gate reading the fused gate/up product directly (what
    `liquid-fuse-projections` makes of `liquid.swiglu` over its two column
    ranges), with no copies of the halves.

    ```mlir
    %g = liquid.swiglu_halves %gu : tensor<?x1536xf32> -> tensor<?x768xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Matrix:$input);
  let results = (outs Liquid_F32Matrix:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_I32Matrix : 2DTensorOf<[I32]>;

def Liquid_MoERouterOp : Liquid_Op<"moe_router", [Pure,
    DeclareOpInterfaceMethods<Liquid_ScratchOpInterface>, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "mixture-of-experts router: scores, selection bias, top-k, weights";
  let description = [{
    For each row `x[t]` of `[T, H]`: scores `p = score(router x[t])` over the
    `E` experts (`score` is `sigmoid`, or `softmax` over the `E` logits); the
    `top_k` experts with the highest `p + expert_bias` are chosen (the bias
    only chooses; ties go to the lower expert id); their weights are their `p`,
    divided by the sum of the chosen `p` when `normalize` is set, times
    `scaling`. Results: `experts[t, j]` (ids in `[0, E)`, in selection order)
    and `weights[t, j]`.

    ```mlir
    %ids, %w = liquid.moe_router %f, %router, %bias scores sigmoid {top_k = 2 : i64, scaling = 1.0 : f64, normalize}
        : tensor<?x128xf32>, tensor<8x128xf32>, tensor<8xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Matrix:$input, Liquid_F32Matrix:$router, Liquid_F32Vector:$expert_bias,
                       I64Attr:$top_k, F64Attr:$scaling, UnitAttr:$normalize,
                       DefaultValuedAttr<Liquid_RouterScoreAttr, "::mlir::liquid::RouterScore::Sigmoid">:$score);
  let results = (outs Liquid_I32Matrix:$experts, Liquid_F32Matrix:$weights);
  let assemblyFormat = "$input `,` $router `,` $expert_bias (`scores` $score^)? attr-dict `:` type($input) `,` type($router) `,` type($expert_bias) `->` type($experts) `,` type($weights)";
  let hasVerifier = 1;
}

def Liquid_MoEExpertsOp : Liquid_Op<"moe_experts", [Pure,
    DeclareOpInterfaceMethods<Liquid_ScratchOpInterface>, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "dispatches rows to their routed experts and combines the outputs";
  let description = [{
    `result[t] = sum_j weights[t, j] * down[e] (silu(g) * u)` with
    `e = experts[t, j]` and `[g | u] = gate_up[e] x[t]`: the SwiGLU
    feed-forward of each routed expert, weighted and summed. The experts'
    gate and up projections are one fused `[E, 2I, H]` tensor (gate rows
    first, as transformers' `gate_up_proj`); `down` is `[E, H, I]`.

    The lowering groups the rows of a call by expert, so each routed
    expert's weights are read once per call and an expert that no row chose
    is never read; each expert's gate and up rows are interleaved per vector
    in the packed weights, so one product yields the SwiGLU activation.

    ```mlir
    %y = liquid.moe_experts %f, %ids, %w, %gate_up, %down
        : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<8x192x128xf32>, tensor<8x128x96xf32> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Matrix:$input, Liquid_I32Matrix:$experts, Liquid_F32Matrix:$weights,
                       Liquid_F32Tensor:$gate_up, Liquid_F32Tensor:$down,
                       DefaultValuedAttr<Liquid_WeightStorageAttr, "::mlir::liquid::WeightStorage::F32">:$weight_type);
  let results = (outs Liquid_F32Matrix:$result);
  let extraClassDeclaration = [{
    /// The scratch slots of the lowering, in order: the start of each
    /// expert's rows in the dispatch list [E + 1], a fill cursor per expert
    /// [E], the list's rows and weights [maxRows * k] each, and the SwiGLU
    /// activations of every list entry [maxRows * k, roundup(I, kMaxLanes)].
    ::llvm::SmallVector<int64_t, 5> getScratchSlots(int64_t maxRows);
  }];
  let assemblyFormat = "$input `,` $experts `,` $weights `,` $gate_up `,` $down (`stored` $weight_type^)? attr-dict `:` type($input) `,` type($experts) `,` type($weights) `,` type($gate_up) `,` type($down) `->` type($result)";
  let hasVerifier = 1;
}

#endif // LIQUID_LM_OPS_TD
