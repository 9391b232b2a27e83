// RUN: liquid-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(liquid-fuse-cfc))' | FileCheck %s

// The four heads become one product over concatenated weights; a wired
// cell's mask is folded into ff1 and ff2 only.
// CHECK-LABEL: func.func @wired
// CHECK-DAG: %[[W1:.*]] = liquid.weight "ff1.w"
// CHECK-DAG: %[[W2:.*]] = liquid.weight "ff2.w"
// CHECK-DAG: %[[WA:.*]] = liquid.weight "ta.w"
// CHECK-DAG: %[[WB:.*]] = liquid.weight "tb.w"
// CHECK-DAG: %[[M:.*]] = liquid.weight "mask"
// CHECK: %[[M1:.*]] = liquid.weight_mul %[[W1]], %[[M]] : tensor<3x10xf32>
// CHECK: %[[M2:.*]] = liquid.weight_mul %[[W2]], %[[M]] : tensor<3x10xf32>
// CHECK: %[[W:.*]] = liquid.weight_concat %[[M1]], %[[M2]], %[[WA]], %[[WB]] {dim = 0 : i64} : {{.*}} -> tensor<12x10xf32>
// CHECK: %[[B:.*]] = liquid.weight_concat {{.*}} -> tensor<12xf32>
// CHECK: %[[Z:.*]] = liquid.dense %arg0, %[[W]], %[[B]] : tensor<10xf32>, tensor<12x10xf32>, tensor<12xf32> -> tensor<12xf32>
// CHECK: %[[H:.*]] = liquid.cfc_epilogue default %[[Z]], %arg1 : tensor<12xf32> -> tensor<3xf32>
// CHECK-NOT: liquid.cfc_cell
// CHECK: return %[[H]]
func.func @wired(%z: tensor<10xf32>, %t: f32) -> tensor<3xf32> {
  %w1 = liquid.weight "ff1.w" : tensor<3x10xf32>
  %b1 = liquid.weight "ff1.b" : tensor<3xf32>
  %w2 = liquid.weight "ff2.w" : tensor<3x10xf32>
  %b2 = liquid.weight "ff2.b" : tensor<3xf32>
  %wa = liquid.weight "ta.w" : tensor<3x10xf32>
  %ba = liquid.weight "ta.b" : tensor<3xf32>
  %wb = liquid.weight "tb.w" : tensor<3x10xf32>
  %bb = liquid.weight "tb.b" : tensor<3xf32>
  %m = liquid.weight "mask" : tensor<3x10xf32>
  %h = liquid.cfc_cell default %z, %t weights(%w1, %b1, %w2, %b2, %wa, %ba, %wb, %bb, %m) {masked} : tensor<10xf32>, (tensor<3x10xf32>, tensor<3xf32>, tensor<3x10xf32>, tensor<3xf32>, tensor<3x10xf32>, tensor<3xf32>, tensor<3x10xf32>, tensor<3xf32>, tensor<3x10xf32>) -> tensor<3xf32>
  return %h : tensor<3xf32>
}

// -----

// Mode pure has one head; w_tau and A go to the epilogue.
// CHECK-LABEL: func.func @pure
// CHECK-NOT: liquid.weight_concat
// CHECK: %[[Z:.*]] = liquid.dense %arg0, %{{.*}}, %{{.*}} : tensor<6xf32>, tensor<4x6xf32>, tensor<4xf32> -> tensor<4xf32>
// CHECK: liquid.cfc_epilogue pure %[[Z]], %arg1 extra(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32>)
func.func @pure(%z: tensor<6xf32>, %t: f32) -> tensor<4xf32> {
  %w = liquid.weight "w" : tensor<4x6xf32>
  %b = liquid.weight "b" : tensor<4xf32>
  %tau = liquid.weight "w_tau" : tensor<4xf32>
  %a = liquid.weight "A" : tensor<4xf32>
  %h = liquid.cfc_cell pure %z, %t weights(%w, %b, %tau, %a) : tensor<6xf32>, (tensor<4x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %h : tensor<4xf32>
}

// -----

// LSTM: one product over concat(x, h) with [W_in | W_rec], then the epilogue.
// CHECK-LABEL: func.func @lstm
// CHECK: %[[XH:.*]] = liquid.concat %arg0, %arg1 : tensor<2xf32>, tensor<3xf32> -> tensor<5xf32>
// CHECK: %[[W:.*]] = liquid.weight_concat %{{.*}}, %{{.*}} {dim = 1 : i64} : tensor<12x2xf32>, tensor<12x3xf32> -> tensor<12x5xf32>
// CHECK: %[[Z:.*]] = liquid.dense %[[XH]], %[[W]], %{{.*}} : tensor<5xf32>, tensor<12x5xf32>, tensor<12xf32> -> tensor<12xf32>
// CHECK: liquid.lstm_epilogue %[[Z]], %arg2 : tensor<12xf32>, tensor<3xf32>
func.func @lstm(%x: tensor<2xf32>, %h: tensor<3xf32>, %c: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %wi = liquid.weight "wi" : tensor<12x2xf32>
  %bi = liquid.weight "bi" : tensor<12xf32>
  %wr = liquid.weight "wr" : tensor<12x3xf32>
  %h2, %c2 = liquid.lstm_cell %x, %h, %c, %wi, %bi, %wr : tensor<2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<12x2xf32>, tensor<12xf32>, tensor<12x3xf32>
  return %h2, %c2 : tensor<3xf32>, tensor<3xf32>
}
