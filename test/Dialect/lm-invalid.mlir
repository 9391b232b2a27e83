// RUN: liquid-opt %s -split-input-file -verify-diagnostics

// expected-error @+2 {{expected ::mlir::liquid::StateKind to be one of: kv_cache, conv_cache}}
// expected-error @+1 {{failed to parse Liquid_StateKindAttr parameter 'value'}}
liquid.state_buffer ring @s : tensor<2x4xf32>

// -----

// expected-error @+1 {{a kv_cache is [2, max_context, kv_heads x head_dim]}}
liquid.state_buffer kv_cache @kv : tensor<3x16x8xf32>

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

liquid.state_buffer conv_cache @c : tensor<2x8xf32>
func.func @conv_bcx(%bcx: tensor<?x16xf32>) {
  %k = liquid.weight "k" : tensor<8x3xf32>
  // expected-error @+1 {{the in-projection must be [T, 3 x 8]}}
  %y = liquid.short_conv_mix %bcx, %k state(@c) : tensor<?x16xf32>, tensor<8x3xf32> -> tensor<?x8xf32>
  return
}

// -----

liquid.state_buffer conv_cache @c : tensor<3x8xf32>
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

liquid.state_buffer kv_cache @kv : tensor<2x16x8xf32>
func.func @gqa(%q: tensor<?x24xf32>, %k: tensor<?x8xf32>, %n: tensor<4xf32>, %p: index) {
  // expected-error @+1 {{heads (6) must be a multiple of kv_heads (4)}}
  %a = liquid.attention %q, %k, %k, %n, %n, %p state(@kv) {heads = 6 : i64, kv_heads = 4 : i64, head_dim = 4 : i64, rope_theta = 1.0e+06 : f64, epsilon = 1.0e-05 : f64} : tensor<?x24xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x24xf32>
  return
}

// -----

liquid.state_buffer conv_cache @kv : tensor<2x8xf32>
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
  // expected-error @+2 {{expected ::mlir::liquid::RouterScore to be one of: sigmoid, softmax}}
  // expected-error @+1 {{failed to parse Liquid_RouterScoreAttr parameter 'value'}}
  %e, %w = liquid.moe_router %f, %r, %bias scores tanh {top_k = 2 : i64, scaling = 1.0 : f64} : tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
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
  // expected-error @+2 {{expected ::mlir::liquid::WeightStorage to be one of: f32, f16, q8, q4, q4m, q8m, q8x16, q8i, q4k, q5k, q6k}}
  // expected-error @+1 {{failed to parse Liquid_WeightStorageAttr parameter 'value'}}
  %y = liquid.linear %x, %w stored q3 : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  return
}

// -----

func.func @q4_blocks(%x: tensor<?x48xf32>) {
  %w = liquid.weight "w" : tensor<24x48xf32>
  // expected-error @+1 {{q4m weights need inputs in whole blocks of 32, got 48}}
  %y = liquid.linear %x, %w stored q4m : tensor<?x48xf32>, tensor<24x48xf32> -> tensor<?x24xf32>
  return
}

// -----

func.func @k_blocks(%x: tensor<?x96xf32>) {
  %w = liquid.weight "w" : tensor<24x96xf32>
  // expected-error @+1 {{q6k weights need inputs in whole blocks of 256, got 96}}
  %y = liquid.linear %x, %w stored q6k : tensor<?x96xf32>, tensor<24x96xf32> -> tensor<?x24xf32>
  return
}

// -----

func.func @q8c_is_for_cells(%x: tensor<?x64xf32>) {
  %w = liquid.weight "w" : tensor<24x64xf32>
  // expected-error @+1 {{q8c (a scale per output) is for cells' liquid.dense, not a linear}}
  %y = liquid.linear %x, %w stored q8c : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  return
}

// -----

func.func @q8i_is_a_layout(%x: tensor<?x64xf32>) {
  %w = liquid.weight "w" : tensor<24x64xf32>
  // expected-error @+1 {{q8i is how q8 weights are packed for int8_inputs, not a weight type}}
  %y = liquid.linear %x, %w stored q8i : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  return
}

// -----

func.func @int8_inputs_float_weights(%x: tensor<?x64xf32>) {
  %w = liquid.weight "w" : tensor<24x64xf32>
  // expected-error @+1 {{int8_inputs needs integer-block weights (q8, q4, ...), not f16}}
  %y = liquid.linear %x, %w stored f16 int8_inputs : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  return
}

// -----

func.func @moe_q4(%x: tensor<?x64xf32>, %e: tensor<?x2xi32>, %w: tensor<?x2xf32>) {
  %gu = liquid.weight "gate_up" : tensor<4x64x64xf32>
  %d = liquid.weight "down" : tensor<4x64x32xf32>
  // expected-error @+1 {{experts are stored f32, f16 or q8, not q4}}
  %y = liquid.moe_experts %x, %e, %w, %gu, %d stored q4 : tensor<?x64xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<4x64x64xf32>, tensor<4x64x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @q8_blocks(%x: tensor<?x48xf32>) {
  %w = liquid.weight "w" : tensor<24x48xf32>
  // expected-error @+1 {{q8 weights need inputs in whole blocks of 32, got 48}}
  %y = liquid.linear %x, %w stored q8 : tensor<?x48xf32>, tensor<24x48xf32> -> tensor<?x24xf32>
  return
}

// -----

func.func @moe_q8_blocks(%x: tensor<?x48xf32>, %e: tensor<?x2xi32>, %w: tensor<?x2xf32>) {
  %gu = liquid.weight "gate_up" : tensor<4x64x48xf32>
  %d = liquid.weight "down" : tensor<4x48x32xf32>
  // expected-error @+1 {{q8 experts need inputs in whole blocks of 32, got 48 (gate_up) and 32 (down)}}
  %y = liquid.moe_experts %x, %e, %w, %gu, %d stored q8 : tensor<?x48xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<4x64x48xf32>, tensor<4x48x32xf32> -> tensor<?x48xf32>
  return
}

// -----

// The discardable attributes the passes record have fixed types.
// expected-error @+1 {{'liquid.max_rows' must be an integer, got "64"}}
func.func @max_rows() attributes {liquid.max_rows = "64"} {
  return
}

// -----

// expected-error @+1 {{unknown discardable attribute 'liquid.offsets'}}
func.func @unknown_attr() attributes {liquid.offsets = 1 : i64} {
  return
}

// -----

func.func @offset_type(%x: tensor<?x64xf32>) {
  %w = liquid.weight "w" : tensor<24x64xf32>
  // expected-error @+1 {{'liquid.offset' must be an array<i64>, got 3 : i64}}
  %y = liquid.linear %x, %w {liquid.offset = 3 : i64} : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  return
}

// -----

func.func @swiglu_rows(%g: tensor<16xf32>) {
  // expected-error @+1 {{works on rows [T, F], got 'tensor<16xf32>'}}
  %y = liquid.swiglu %g, %g : tensor<16xf32>
  return
}

// -----

// expected-error @+1 {{'liquid.arena' must be a #liquid.step_arena or #liquid.forward_arena, got {size = 4 : i64}}}
func.func @arena_dict() attributes {liquid.arena = {size = 4 : i64}} {
  return
}

// -----

liquid.state_buffer kv_cache @kv : tensor<2x16x8xf32>
func.func @attention_huge_heads(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>, %n: tensor<4xf32>, %p: index) {
  // expected-error @+1 {{heads (4611686018427387904) or head_dim (4) out of range}}
  %a = liquid.attention %q, %k, %k, %n, %n, %p state(@kv) {heads = 4611686018427387904 : i64, kv_heads = 2 : i64, head_dim = 4 : i64, rope_theta = 1.0e+06 : f64, epsilon = 1.0e-05 : f64} : tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x16xf32>
  return
}
