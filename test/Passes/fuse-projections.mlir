// RUN: liquid-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(liquid-fuse-projections))' | FileCheck %s

// q, k and v read the same input: one product over the concatenated weights,
// then one column range per projection. A product of another input stays.
// CHECK-LABEL: func.func @qkv
// CHECK-DAG: %[[WQ:.*]] = liquid.weight "q"
// CHECK-DAG: %[[WK:.*]] = liquid.weight "k"
// CHECK-DAG: %[[WV:.*]] = liquid.weight "v"
// CHECK: %[[W:.*]] = liquid.weight_concat %[[WQ]], %[[WK]], %[[WV]] {dim = 0 : i64} : tensor<64x64xf32>, tensor<32x64xf32>, tensor<32x64xf32> -> tensor<128x64xf32>
// CHECK: %[[F:.*]] = liquid.linear %arg0, %[[W]] : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
// CHECK: liquid.columns %[[F]][0] : tensor<?x128xf32> -> tensor<?x64xf32>
// CHECK: liquid.columns %[[F]][64] : tensor<?x128xf32> -> tensor<?x32xf32>
// CHECK: liquid.columns %[[F]][96] : tensor<?x128xf32> -> tensor<?x32xf32>
// CHECK: liquid.linear %arg1, %[[WQ]]
func.func @qkv(%h: tensor<?x64xf32>, %g: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>) {
  %wq = liquid.weight "q" : tensor<64x64xf32>
  %wk = liquid.weight "k" : tensor<32x64xf32>
  %wv = liquid.weight "v" : tensor<32x64xf32>
  %q = liquid.linear %h, %wq : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %k = liquid.linear %h, %wk : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %v = liquid.linear %h, %wv : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %o = liquid.linear %g, %wq : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  return %q, %k, %v, %o : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>
}

// -----

// Products with different weight element types are not mixed.
// CHECK-LABEL: func.func @types
// CHECK-NOT: liquid.weight_concat
// CHECK-NOT: liquid.columns
func.func @types(%h: tensor<?x64xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %w1 = liquid.weight "w1" : tensor<32x64xf32>
  %w3 = liquid.weight "w3" : tensor<32x64xf32>
  %a = liquid.linear %h, %w1 stored f16 : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %b = liquid.linear %h, %w3 : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %a, %b : tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// gate and up feed exactly one SwiGLU: it reads the fused product's halves.
// CHECK-LABEL: func.func @ffn
// CHECK: %[[GU:.*]] = liquid.linear %arg0, %{{.*}} : tensor<?x64xf32>, tensor<96x64xf32> -> tensor<?x96xf32>
// CHECK-NOT: liquid.columns
// CHECK: liquid.swiglu_halves %[[GU]] : tensor<?x96xf32> -> tensor<?x48xf32>
func.func @ffn(%h: tensor<?x64xf32>) -> tensor<?x48xf32> {
  %w1 = liquid.weight "w1" : tensor<48x64xf32>
  %w3 = liquid.weight "w3" : tensor<48x64xf32>
  %g = liquid.linear %h, %w1 : tensor<?x64xf32>, tensor<48x64xf32> -> tensor<?x48xf32>
  %u = liquid.linear %h, %w3 : tensor<?x64xf32>, tensor<48x64xf32> -> tensor<?x48xf32>
  %s = liquid.swiglu %g, %u : tensor<?x48xf32>
  return %s : tensor<?x48xf32>
}
