// RUN: liquid-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{unknown state kind 'ring' (expected conv_cache or kv_cache)}}
liquid.state_buffer @s {kind = "ring"} : tensor<2x4xf32>

// -----

// expected-error @+1 {{a kv_cache is [2, max_context, kv_heads x head_dim]}}
liquid.state_buffer @kv {kind = "kv_cache"} : tensor<3x16x8xf32>

// -----

func.func @linear_shape(%x: tensor<?x8xf32>) {
  %w = liquid.weight "w" : tensor<4x6xf32>
  // expected-error @+1 {{weight is [4, 6] but the input rows have 8 elements}}
  %y = liquid.linear %x, %w : tensor<?x8xf32>, tensor<4x6xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @norm_weight(%x: tensor<?x8xf32>) {
  %w = liquid.weight "w" : tensor<6xf32>
  // expected-error @+1 {{weight must have the last dimension of the input (8), got 6}}
  %y = liquid.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<6xf32>
  return
}

// -----

func.func @embedding_width(%ids: tensor<?xi32>) {
  %t = liquid.weight "t" : tensor<10x8xf32>
  // expected-error @+1 {{rows have 8 elements, result has 4}}
  %x = liquid.embedding %ids, %t : tensor<?xi32>, tensor<10x8xf32> -> tensor<?x4xf32>
  return
}

// -----

liquid.state_buffer @c {kind = "conv_cache"} : tensor<2x8xf32>
func.func @conv_bcx(%bcx: tensor<?x16xf32>) {
  %k = liquid.weight "k" : tensor<8x3xf32>
  // expected-error @+1 {{the in-projection must be [T, 3 x 8]}}
  %y = liquid.short_conv_mix %bcx, %k state(@c) : tensor<?x16xf32>, tensor<8x3xf32> -> tensor<?x8xf32>
  return
}

// -----

liquid.state_buffer @c {kind = "conv_cache"} : tensor<3x8xf32>
func.func @conv_state(%bcx: tensor<?x24xf32>) {
  %k = liquid.weight "k" : tensor<8x3xf32>
  // expected-error @+1 {{state @c has type 'tensor<3x8xf32>', expected [2, 8]}}
  %y = liquid.short_conv_mix %bcx, %k state(@c) : tensor<?x24xf32>, tensor<8x3xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @conv_no_state(%bcx: tensor<?x24xf32>) {
  %k = liquid.weight "k" : tensor<8x3xf32>
  // expected-error @+1 {{state @missing is not a liquid.state_buffer}}
  %y = liquid.short_conv_mix %bcx, %k state(@missing) : tensor<?x24xf32>, tensor<8x3xf32> -> tensor<?x8xf32>
  return
}

// -----

liquid.state_buffer @kv {kind = "kv_cache"} : tensor<2x16x8xf32>
func.func @gqa(%q: tensor<?x24xf32>, %k: tensor<?x8xf32>, %n: tensor<4xf32>, %p: index) {
  // expected-error @+1 {{heads (6) must be a multiple of kv_heads (4)}}
  %a = liquid.attention %q, %k, %k, %n, %n, %p state(@kv) {heads = 6 : i64, kv_heads = 4 : i64, head_dim = 4 : i64, rope_theta = 1.0e+06 : f64, epsilon = 1.0e-05 : f64} : tensor<?x24xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x24xf32>
  return
}

// -----

liquid.state_buffer @kv {kind = "conv_cache"} : tensor<2x8xf32>
func.func @attention_state_kind(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>, %n: tensor<4xf32>, %p: index) {
  // expected-error @+1 {{state @kv is a conv_cache, expected a kv_cache}}
  %a = liquid.attention %q, %k, %k, %n, %n, %p state(@kv) {heads = 4 : i64, kv_heads = 2 : i64, head_dim = 4 : i64, rope_theta = 1.0e+06 : f64, epsilon = 1.0e-05 : f64} : tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @columns_bounds(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{columns [8, 24) are out of bounds for rows of 16}}
  %c = liquid.columns %x [8] : tensor<?x16xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @halves(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{input rows must have twice the result's 6 elements, got 16}}
  %c = liquid.swiglu_halves %x : tensor<?x16xf32> -> tensor<?x6xf32>
  return
}

// -----

func.func @router_k(%f: tensor<?x16xf32>) {
  %r = liquid.weight "router" : tensor<4x16xf32>
  %bias = liquid.weight "bias" : tensor<4xf32>
  // expected-error @+1 {{top_k must be in [1, 4], got 5}}
  %e, %w = liquid.moe_router %f, %r, %bias {top_k = 5 : i64, scaling = 1.0 : f64} : tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32> -> tensor<?x5xi32>, tensor<?x5xf32>
  return
}

// -----

func.func @router_width(%f: tensor<?x16xf32>) {
  %r = liquid.weight "router" : tensor<4x12xf32>
  %bias = liquid.weight "bias" : tensor<4xf32>
  // expected-error @+1 {{router must be [experts, 16], got 'tensor<4x12xf32>'}}
  %e, %w = liquid.moe_router %f, %r, %bias {top_k = 2 : i64, scaling = 1.0 : f64} : tensor<?x16xf32>, tensor<4x12xf32>, tensor<4xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
  return
}

// -----

func.func @router_bias(%f: tensor<?x16xf32>) {
  %r = liquid.weight "router" : tensor<4x16xf32>
  %bias = liquid.weight "bias" : tensor<3xf32>
  // expected-error @+1 {{expert_bias must have 4 elements, one per expert}}
  %e, %w = liquid.moe_router %f, %r, %bias {top_k = 2 : i64, scaling = 1.0 : f64} : tensor<?x16xf32>, tensor<4x16xf32>, tensor<3xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
  return
}

// -----

func.func @router_score(%f: tensor<?x16xf32>) {
  %r = liquid.weight "router" : tensor<4x16xf32>
  %bias = liquid.weight "bias" : tensor<4xf32>
  // expected-error @+1 {{unknown score function 'tanh' (expected sigmoid or softmax)}}
  %e, %w = liquid.moe_router %f, %r, %bias {top_k = 2 : i64, scaling = 1.0 : f64, score = "tanh"} : tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
  return
}

// -----

func.func @router_scaling(%f: tensor<?x16xf32>) {
  %r = liquid.weight "router" : tensor<4x16xf32>
  %bias = liquid.weight "bias" : tensor<4xf32>
  // expected-error @+1 {{scaling must be positive and finite, got -1}}
  %e, %w = liquid.moe_router %f, %r, %bias {top_k = 2 : i64, scaling = -1.0 : f64} : tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
  return
}

// -----

func.func @router_results(%f: tensor<?x16xf32>) {
  %r = liquid.weight "router" : tensor<4x16xf32>
  %bias = liquid.weight "bias" : tensor<4xf32>
  // expected-error @+1 {{results must be [T, 2], got 'tensor<?x3xi32>'}}
  %e, %w = liquid.moe_router %f, %r, %bias {top_k = 2 : i64, scaling = 1.0 : f64} : tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32> -> tensor<?x3xi32>, tensor<?x2xf32>
  return
}

// -----

func.func @experts_gate_up(%f: tensor<?x16xf32>, %e: tensor<?x2xi32>, %w: tensor<?x2xf32>) {
  %gu = liquid.weight "gate_up" : tensor<4x15x16xf32>
  %d = liquid.weight "down" : tensor<4x16x8xf32>
  // expected-error @+1 {{gate_up must be [E, 2I, 16], got 'tensor<4x15x16xf32>'}}
  %y = liquid.moe_experts %f, %e, %w, %gu, %d : tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<4x15x16xf32>, tensor<4x16x8xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @experts_down(%f: tensor<?x16xf32>, %e: tensor<?x2xi32>, %w: tensor<?x2xf32>) {
  %gu = liquid.weight "gate_up" : tensor<4x16x16xf32>
  %d = liquid.weight "down" : tensor<3x16x8xf32>
  // expected-error @+1 {{down must be [4, 16, 8], got 'tensor<3x16x8xf32>'}}
  %y = liquid.moe_experts %f, %e, %w, %gu, %d : tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<4x16x16xf32>, tensor<3x16x8xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @experts_k(%f: tensor<?x16xf32>, %e: tensor<?x5xi32>, %w: tensor<?x5xf32>) {
  %gu = liquid.weight "gate_up" : tensor<4x16x16xf32>
  %d = liquid.weight "down" : tensor<4x16x8xf32>
  // expected-error @+1 {{rows choose 5 experts out of 4}}
  %y = liquid.moe_experts %f, %e, %w, %gu, %d : tensor<?x16xf32>, tensor<?x5xi32>, tensor<?x5xf32>, tensor<4x16x16xf32>, tensor<4x16x8xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @experts_same_shape(%f: tensor<?x16xf32>, %e: tensor<?x2xi32>, %w: tensor<?x3xf32>) {
  %gu = liquid.weight "gate_up" : tensor<4x16x16xf32>
  %d = liquid.weight "down" : tensor<4x16x8xf32>
  // expected-error @+1 {{experts and weights must have the same shape}}
  %y = liquid.moe_experts %f, %e, %w, %gu, %d : tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x3xf32>, tensor<4x16x16xf32>, tensor<4x16x8xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @weight_type(%x: tensor<?x64xf32>) {
  %w = liquid.weight "w" : tensor<24x64xf32>
  // expected-error @+1 {{liquid.weight_type must be "f16" or "q8"}}
  %y = liquid.linear %x, %w {liquid.weight_type = "q4"} : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  return
}

// -----

func.func @q8_blocks(%x: tensor<?x48xf32>) {
  %w = liquid.weight "w" : tensor<24x48xf32>
  // expected-error @+1 {{q8 weights need inputs in whole blocks of 32, got 48}}
  %y = liquid.linear %x, %w {liquid.weight_type = "q8"} : tensor<?x48xf32>, tensor<24x48xf32> -> tensor<?x24xf32>
  return
}
