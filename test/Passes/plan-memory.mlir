// RUN: liquid-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(liquid-plan-memory))' | FileCheck %s

// State slot first (0), then the input (48); a slot is reused once its value
// is dead (%d2 takes the input's slot once the concat has read it), and the
// new state is computed directly into
// the state slot because the old state is dead by then. Slots are padded to
// n + 16 floats (one vector of the widest kernels) and aligned to 16 floats
// (64 bytes).
// CHECK-LABEL: func.func @chain
// CHECK: liquid.scan {{.*}}{liquid.arena = #liquid.step_arena<size = 192, input = 48, output = 0, states = [0]>}
// CHECK: liquid.concat {{.*}} {liquid.offset = array<i64: 80>}
// CHECK: liquid.dense {{.*}} activation tanh {liquid.offset = array<i64: 144>}
// CHECK: liquid.dense {{.*}} activation tanh {liquid.offset = array<i64: 48>}
// CHECK: liquid.dense {{.*}} activation tanh {liquid.offset = array<i64: 96>}
// CHECK: liquid.dense {{.*}} {liquid.offset = array<i64: 0>}
func.func @chain(%xs: tensor<?x8xf32>, %ts: tensor<?xf32>, %h0: tensor<32xf32>) -> (tensor<?x32xf32>, tensor<32xf32>) {
  %w0 = liquid.weight "w0" : tensor<32x40xf32>
  %w = liquid.weight "w" : tensor<32x32xf32>
  %b = liquid.weight "b" : tensor<32xf32>
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x8xf32>, tensor<?xf32>, (tensor<32xf32>) -> tensor<?x32xf32>, tensor<32xf32> {
  ^bb0(%x: tensor<8xf32>, %t: f32, %h: tensor<32xf32>):
    %z = liquid.concat %x, %h : tensor<8xf32>, tensor<32xf32> -> tensor<40xf32>
    %d1 = liquid.dense %z, %w0, %b activation tanh : tensor<40xf32>, tensor<32x40xf32>, tensor<32xf32> -> tensor<32xf32>
    %d2 = liquid.dense %d1, %w, %b activation tanh : tensor<32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<32xf32>
    %d3 = liquid.dense %d2, %w, %b activation tanh : tensor<32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<32xf32>
    %d4 = liquid.dense %d3, %w, %b : tensor<32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<32xf32>
    liquid.yield %d4, %d4 : tensor<32xf32>, tensor<32xf32>
  }
  return %ys, %hT : tensor<?x32xf32>, tensor<32xf32>
}

// -----

// The LTC solver gets a scratch slot (3 x 32 floats for 3 neurons); the new
// state cannot be written in place (the solver reads the old one), so it
// gets its own slot and is copied at the end; the output reuses the input slot.
// CHECK-LABEL: func.func @ltc
// CHECK: liquid.arena = #liquid.step_arena<size = 192, input = 32, output = 32, states = [0]>
// CHECK: liquid.ltc_solve {{.*}}liquid.offset = array<i64: 64>, liquid.scratch = 96 : i64
// CHECK: liquid.slice {{.*}}liquid.offset = array<i64: 32>
func.func @ltc(%xs: tensor<?x2xf32>, %ts: tensor<?xf32>, %v0: tensor<3xf32>) -> (tensor<?x1xf32>, tensor<3xf32>) {
  %n = liquid.weight "n" : tensor<3xf32>
  %nn = liquid.weight "nn" : tensor<3x3xf32>
  %sn = liquid.weight "sn" : tensor<2x3xf32>
  %ys, %vT = liquid.scan %xs, %ts init(%v0) : tensor<?x2xf32>, tensor<?xf32>, (tensor<3xf32>) -> tensor<?x1xf32>, tensor<3xf32> {
  ^bb0(%x: tensor<2xf32>, %t: f32, %v: tensor<3xf32>):
    %v2 = liquid.ltc_solve %x, %v, %t params(%n, %n, %n, %nn, %nn, %nn, %nn, %sn, %sn, %sn, %sn) {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64} : tensor<2xf32>, tensor<3xf32>, (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3xf32>
    %y = liquid.slice %v2 [0] : tensor<3xf32> -> tensor<1xf32>
    liquid.yield %y, %v2 : tensor<1xf32>, tensor<3xf32>
  }
  return %ys, %vT : tensor<?x1xf32>, tensor<3xf32>
}
