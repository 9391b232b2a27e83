// RUN: liquid-opt %s -split-input-file -verify-diagnostics

func.func @empty_weight_name() {
  // expected-error @+1 {{needs a non-empty tensor name}}
  %w = liquid.weight "" : tensor<4xf32>
  return
}

// -----

func.func @concat_of_activation(%x: tensor<4xf32>) {
  %w = liquid.weight "w" : tensor<4xf32>
  // expected-error @+1 {{operand #1 must be a weight}}
  %c = liquid.weight_concat %w, %x {dim = 0 : i64} : tensor<4xf32>, tensor<4xf32> -> tensor<8xf32>
  return
}

// -----

func.func @concat_size() {
  %w = liquid.weight "w" : tensor<4xf32>
  // expected-error @+1 {{result has size 9 in dimension 0 but the inputs add up to 8}}
  %c = liquid.weight_concat %w, %w {dim = 0 : i64} : tensor<4xf32>, tensor<4xf32> -> tensor<9xf32>
  return
}

// -----

func.func @concat_huge() {
  // expected-error @+1 {{result #0 has a dimension of 4611686018427387904 (at most 2147483647)}}
  %w = liquid.weight "w" : tensor<4611686018427387904xf32>
  return
}

// -----

func.func @concat_overflow(%x: tensor<2147483647xf32>) {
  // expected-error @+1 {{the inputs add up to more than 2147483647 elements}}
  %c = liquid.concat %x, %x, %x, %x : tensor<2147483647xf32>, tensor<2147483647xf32>, tensor<2147483647xf32>, tensor<2147483647xf32> -> tensor<4xf32>
  return
}

// -----

func.func @map_fn() {
  %w = liquid.weight "w" : tensor<4xf32>
  // expected-error @+2 {{expected ::mlir::liquid::WeightFn to be one of: softplus, relu, abs, neg}}
  // expected-error @+1 {{failed to parse Liquid_WeightFnAttr parameter 'value'}}
  %c = liquid.weight_map sqrt %w : tensor<4xf32>
  return
}

// -----

func.func @dense_shape(%x: tensor<5xf32>) {
  %w = liquid.weight "w" : tensor<4x6xf32>
  %b = liquid.weight "b" : tensor<4xf32>
  // expected-error @+1 {{weight must be [4, 5] (out, in), got [4, 6]}}
  %y = liquid.dense %x, %w, %b : tensor<5xf32>, tensor<4x6xf32>, tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @dense_storage(%x: tensor<6xf32>) {
  %w = liquid.weight "w" : tensor<4x6xf32>
  %b = liquid.weight "b" : tensor<4xf32>
  // expected-error @+1 {{weights are stored as f32 or q8c, not q4}}
  %y = liquid.dense %x, %w, %b stored q4 : tensor<6xf32>, tensor<4x6xf32>, tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @dense_q8c_activation(%x: tensor<6xf32>, %w: tensor<4x6xf32>) {
  %b = liquid.weight "b" : tensor<4xf32>
  // expected-error @+1 {{stored q8c needs a weight matrix (liquid.weight or liquid.weight_*)}}
  %y = liquid.dense %x, %w, %b stored q8c : tensor<6xf32>, tensor<4x6xf32>, tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @dense_activation(%x: tensor<6xf32>) {
  %w = liquid.weight "w" : tensor<4x6xf32>
  %b = liquid.weight "b" : tensor<4xf32>
  // expected-error @+2 {{expected ::mlir::liquid::Activation to be one of: none, lecun_tanh, tanh, relu, gelu, silu, sigmoid}}
  // expected-error @+1 {{failed to parse Liquid_ActivationAttr parameter 'value'}}
  %y = liquid.dense %x, %w, %b activation swish : tensor<6xf32>, tensor<4x6xf32>, tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @cfc_mode(%z: tensor<6xf32>, %t: f32) {
  %w = liquid.weight "w" : tensor<4x6xf32>
  %b = liquid.weight "b" : tensor<4xf32>
  // expected-error @+2 {{expected ::mlir::liquid::CfCMode to be one of: default, no_gate, pure}}
  // expected-error @+1 {{failed to parse Liquid_CfCModeAttr parameter 'value'}}
  %h = liquid.cfc_cell gated %z, %t weights(%w, %b) : tensor<6xf32>, (tensor<4x6xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @cfc_count(%z: tensor<6xf32>, %t: f32) {
  %w = liquid.weight "w" : tensor<4x6xf32>
  %b = liquid.weight "b" : tensor<4xf32>
  // expected-error @+1 {{mode 'default' takes 8 weights, got 2}}
  %h = liquid.cfc_cell default %z, %t weights(%w, %b) : tensor<6xf32>, (tensor<4x6xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @cfc_head_shape(%z: tensor<6xf32>, %t: f32) {
  %w = liquid.weight "w" : tensor<4x6xf32>
  %b = liquid.weight "b" : tensor<4xf32>
  %bad = liquid.weight "bad" : tensor<4x5xf32>
  // expected-error @+1 {{time_a.weight (weight #4) must be [4, 6]}}
  %h = liquid.cfc_cell no_gate %z, %t weights(%w, %b, %w, %b, %bad, %b, %w, %b) : tensor<6xf32>, (tensor<4x6xf32>, tensor<4xf32>, tensor<4x6xf32>, tensor<4xf32>, tensor<4x5xf32>, tensor<4xf32>, tensor<4x6xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @ltc_unfolds(%x: tensor<2xf32>, %v: tensor<3xf32>, %t: f32) {
  %n = liquid.weight "n" : tensor<3xf32>
  %nn = liquid.weight "nn" : tensor<3x3xf32>
  %sn = liquid.weight "sn" : tensor<2x3xf32>
  // expected-error @+1 {{ode_unfolds must be at least 1, got 0}}
  %r = liquid.ltc_cell %x, %v, %t params(%n, %n, %n, %nn, %nn, %nn, %nn, %nn, %sn, %sn, %sn, %sn, %sn) {ode_unfolds = 0 : i64, epsilon = 1.0e-08 : f64} : tensor<2xf32>, tensor<3xf32>, (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @ltc_param_shape(%x: tensor<2xf32>, %v: tensor<3xf32>, %t: f32) {
  %n = liquid.weight "n" : tensor<3xf32>
  %nn = liquid.weight "nn" : tensor<3x3xf32>
  %sn = liquid.weight "sn" : tensor<2x3xf32>
  // expected-error @+1 {{parameter 'sensory_mu' (#9) must be [2, 3]}}
  %r = liquid.ltc_cell %x, %v, %t params(%n, %n, %n, %nn, %nn, %nn, %nn, %nn, %sn, %nn, %sn, %sn, %sn) {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64} : tensor<2xf32>, tensor<3xf32>, (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @lstm_shape(%x: tensor<2xf32>, %h: tensor<3xf32>, %c: tensor<3xf32>) {
  %wi = liquid.weight "wi" : tensor<12x2xf32>
  %bi = liquid.weight "bi" : tensor<12xf32>
  %wr = liquid.weight "wr" : tensor<12x2xf32>
  // expected-error @+1 {{recurrent weight must be [12, 3]}}
  %h2, %c2 = liquid.lstm_cell %x, %h, %c, %wi, %bi, %wr : tensor<2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<12x2xf32>, tensor<12xf32>, tensor<12x2xf32>
  return
}

// -----

func.func @slice_bounds(%x: tensor<4xf32>) {
  // expected-error @+1 {{slice [2, 5) is out of bounds for an input of 4 elements}}
  %s = liquid.slice %x [2] : tensor<4xf32> -> tensor<3xf32>
  return
}

// -----

func.func @concat_len(%x: tensor<4xf32>) {
  // expected-error @+1 {{result has 9 elements but the inputs add up to 8}}
  %s = liquid.concat %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<9xf32>
  return
}

// -----

func.func @epilogue_heads(%z: tensor<12xf32>, %t: f32) {
  // expected-error @+1 {{mode 'default' needs 4 x 4 head values, got 12}}
  %h = liquid.cfc_epilogue default %z, %t : tensor<12xf32> -> tensor<4xf32>
  return
}

// -----

func.func @scan_yield(%xs: tensor<?x8xf32>, %ts: tensor<?xf32>, %h0: tensor<4xf32>) {
  // expected-error @+1 {{body must take 3 arguments (input, time span, states), got 2}}
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x8xf32>, tensor<?xf32>, (tensor<4xf32>) -> tensor<?x4xf32>, tensor<4xf32> {
  ^bb0(%x: tensor<8xf32>, %t: f32):
    liquid.yield %h0, %h0 : tensor<4xf32>, tensor<4xf32>
  }
  return
}

// -----

func.func @scan_output_type(%xs: tensor<?x8xf32>, %ts: tensor<?xf32>, %h0: tensor<4xf32>) {
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x8xf32>, tensor<?xf32>, (tensor<4xf32>) -> tensor<?x2xf32>, tensor<4xf32> {
  ^bb0(%x: tensor<8xf32>, %t: f32, %h: tensor<4xf32>):
    // expected-error @+1 {{step output must be 'tensor<2xf32>', got 'tensor<4xf32>'}}
    liquid.yield %h, %h : tensor<4xf32>, tensor<4xf32>
  }
  return
}

// -----

func.func @yield_count(%xs: tensor<?x8xf32>, %ts: tensor<?xf32>, %h0: tensor<4xf32>) {
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x8xf32>, tensor<?xf32>, (tensor<4xf32>) -> tensor<?x4xf32>, tensor<4xf32> {
  ^bb0(%x: tensor<8xf32>, %t: f32, %h: tensor<4xf32>):
    // expected-error @+1 {{must yield the step output and 1 states, got 1 values}}
    liquid.yield %h : tensor<4xf32>
  }
  return
}

// -----

func.func @yield_state_type(%xs: tensor<?x8xf32>, %ts: tensor<?xf32>, %h0: tensor<4xf32>) {
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x8xf32>, tensor<?xf32>, (tensor<4xf32>) -> tensor<?x8xf32>, tensor<4xf32> {
  ^bb0(%x: tensor<8xf32>, %t: f32, %h: tensor<4xf32>):
    // expected-error @+1 {{state #0 must be 'tensor<4xf32>', got 'tensor<8xf32>'}}
    liquid.yield %x, %x : tensor<8xf32>, tensor<8xf32>
  }
  return
}

// -----

func.func @weight_value_type() {
  // expected-error @+1 {{value has type 'tensor<2xf32>', the result 'tensor<4xf32>'}}
  %w = liquid.weight "w" = dense<1.0> : tensor<2xf32> : tensor<4xf32>
  return
}

// -----

// Packed weights: typed slots; block-sparse layouts list their kept blocks.
// expected-error @+1 {{'liquid.packed' must be an array of #liquid.slot}}
func.func @packed_type() attributes {liquid.packed = [1 : i64]} {
  return
}

// -----

// expected-error @+1 {{'blocks' goes with the block-sparse layouts, and only with them}}
func.func @slot_blocks() attributes {liquid.packed = [#liquid.slot<tensor = "w", layout = blocks_rows, element = f32, offset = 0, floats = 8>]} {
  return
}

// -----

// expected-error @+1 {{'blocks' must be strings of 0 and 1 of one length}}
func.func @slot_bits() attributes {liquid.packed = [#liquid.slot<tensor = "w", layout = blocks_transposed, element = f32, offset = 0, floats = 8, blocks = ["10", "1"]>]} {
  return
}

// -----

// expected-error @+1 {{'liquid.weights' must be a #liquid.weight_blob}}
module attributes {liquid.weights = {size = 8 : i64}} {
}

// -----

// expected-error @+1 {{'liquid.kernel' must be a #liquid.step_kernel or #liquid.forward_kernel}}
func.func private @k() attributes {liquid.kernel = {arena_size = 8 : i64}}
