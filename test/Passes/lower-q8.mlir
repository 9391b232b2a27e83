// RUN: liquid-opt %s --liquid-to-vector | FileCheck %s

// A product with int8 weights (`stored q8`): packed as
// TransposedQ8 (per column tile and block of 32 inputs: the tile's scales,
// then [32, width] int8), 24 outputs x 64 inputs with 8-float vectors:
// 24 x 2 blocks x 9 = 432 floats. The kernel loads int8 vectors through the
// byte view of the weights, converts them to float, accumulates a block, and
// scales it once.
// CHECK: #liquid.slot<tensor = "w", layout = transposed, element = q8, offset = {{[0-9]+}}, floats = 432>
// CHECK: func.func @q8_kernel_forward(
// CHECK-SAME: %[[BYTES:[a-z0-9]+]]: memref<{{[0-9]+}}xi8>, %{{[a-z0-9]+}}: index)
// CHECK: %[[Q:.*]] = vector.load %[[BYTES]][%{{.*}}] : memref<{{[0-9]+}}xi8>, vector<8xi8>
// CHECK: arith.sitofp %[[Q]] : vector<8xi8> to vector<8xf32>
func.func @q8(%ids: tensor<?xi32>, %pos: index) -> tensor<?x24xf32> attributes {liquid.max_rows = 4 : i64, liquid.max_context = 8 : i64} {
  %emb = liquid.weight "emb" : tensor<16x64xf32>
  %w = liquid.weight "w" : tensor<24x64xf32>
  %x = liquid.embedding %ids, %emb : tensor<?xi32>, tensor<16x64xf32> -> tensor<?x64xf32>
  %y = liquid.linear %x, %w stored q8 : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  return %y : tensor<?x24xf32>
}
