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

func.func @moe_k(%f: tensor<?x16xf32>) {
  %r = liquid.weight "router" : tensor<4x16xf32>
  %bias = liquid.weight "bias" : tensor<4xf32>
  %w1 = liquid.weight "w1" : tensor<4x8x16xf32>
  %w2 = liquid.weight "w2" : tensor<4x16x8xf32>
  // expected-error @+1 {{top_k must be in [1, 4], got 5}}
  %y = liquid.moe %f, %r, %bias, %w1, %w1, %w2 {top_k = 5 : i64, scaling = 1.0 : f64} : tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>, tensor<4x8x16xf32>, tensor<4x8x16xf32>, tensor<4x16x8xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @moe_experts(%f: tensor<?x16xf32>) {
  %r = liquid.weight "router" : tensor<4x16xf32>
  %bias = liquid.weight "bias" : tensor<4xf32>
  %w1 = liquid.weight "w1" : tensor<3x8x16xf32>
  %w2 = liquid.weight "w2" : tensor<4x16x8xf32>
  // expected-error @+1 {{w1 and w3 must both be [4, I, 16]}}
  %y = liquid.moe %f, %r, %bias, %w1, %w1, %w2 {top_k = 2 : i64, scaling = 1.0 : f64} : tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>, tensor<3x8x16xf32>, tensor<3x8x16xf32>, tensor<4x16x8xf32> -> tensor<?x16xf32>
  return
}
