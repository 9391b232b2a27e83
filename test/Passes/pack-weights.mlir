// RUN: liquid-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-pack-weights)' | FileCheck %s
// RUN: liquid-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-pack-weights{block-sparse=false})' | FileCheck %s --check-prefix=DENSE
// RUN: not liquid-opt %s -split-input-file --pass-pipeline='builtin.module(liquid-pack-weights{vector-width=4})' 2>&1 | FileCheck %s --check-prefix=BADW

// Every weight carries its values, so the blob is packed too. A quarter of
// the dense weight's 8-wide blocks (input 0, outputs 8..15) are zero: packed
// block-sparse, only the kept blocks (column tile -> input -> 8 outputs):
// [1 3 5 0 0 0 0 0] [2 4 6 0 ...] [7 0 ...], then padding to 64 bytes, then
// the bias [0.5 x 16].
// CHECK-LABEL: module attributes
// CHECK-SAME: liquid.weight_data = dense_resource<liquid_weights> : tensor<48xf32>
// CHECK-SAME: liquid.weights = #liquid.weight_blob<size = 48, lanes = 8, hash = "0x{{[0-9a-f]+}}"
// CHECK-SAME: slots = [#liquid.slot<tensor = "w [blocks 0x{{[0-9a-f]+}}]", layout = blocks_transposed, element = f32, offset = 0, floats = 24, blocks = ["10", "11"]>, #liquid.slot<tensor = "b", layout = vector, element = f32, offset = 32, floats = 16>]>
// CHECK: liquid.dense {{.*}}liquid.packed = [#liquid.slot<tensor = "w [blocks
// CHECK: liquid_weights: "0x040000000000803F000040400000A040000000000000000000000000000000000000000000000040000080400000C04000000000000000000000000000000000000000000000E0400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F"
// Without block sparsity: the transposed matrix, input by input, outputs
// padded to the column tile.
// DENSE-LABEL: module attributes
// DENSE-SAME: slots = [#liquid.slot<tensor = "w", layout = transposed, element = f32, offset = 0, floats = 32>, #liquid.slot<tensor = "b", layout = vector, element = f32, offset = 32, floats = 16>]>
// DENSE: liquid_weights: "0x040000000000803F000040400000A0400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000040000080400000C04000000000000000000000000000000000000000000000E040000000000000000000000000000000000000000000000000000000000000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F"
// BADW: error: vector-width must be 8 or 16, got 4
func.func @m(%xs: tensor<?x2xf32>, %ts: tensor<?xf32>, %h0: tensor<16xf32>) -> (tensor<?x16xf32>, tensor<16xf32>) {
  %w = liquid.weight "w" = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0],
                                  [0.0, 7.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]> : tensor<16x2xf32> : tensor<16x2xf32>
  %b = liquid.weight "b" = dense<0.5> : tensor<16xf32> : tensor<16xf32>
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x2xf32>, tensor<?xf32>, (tensor<16xf32>) -> tensor<?x16xf32>, tensor<16xf32> {
  ^bb0(%x: tensor<2xf32>, %t: f32, %h: tensor<16xf32>):
    %d = liquid.dense %x, %w, %b activation tanh : tensor<2xf32>, tensor<16x2xf32>, tensor<16xf32> -> tensor<16xf32>
    liquid.yield %d, %d : tensor<16xf32>, tensor<16xf32>
  }
  return %ys, %hT : tensor<?x16xf32>, tensor<16xf32>
}

// -----

// Without the tensors only the layout is planned (no liquid.weight_data).
// A tied embedding is packed twice, as rows for the gather and transposed
// (int8, `stored q8`) for the head; weight expressions are named by what
// they compute.
// CHECK-LABEL: module attributes
// CHECK-NOT: liquid.weight_data
// CHECK-SAME: slots = [#liquid.slot<tensor = "emb", layout = rows, element = f32, offset = 0, floats = 1024>, #liquid.slot<tensor = "abs(n)", layout = vector, element = f32, offset = 1024, floats = 64>, #liquid.slot<tensor = "emb", layout = transposed, element = q8, offset = 1088, floats = 288>]>
// CHECK: liquid.embedding {{.*}}liquid.packed = [#liquid.slot<tensor = "emb", layout = rows
// CHECK: liquid.rms_norm {{.*}}liquid.packed = [#liquid.slot<tensor = "abs(n)", layout = vector
// CHECK: liquid.linear {{.*}}liquid.packed = [#liquid.slot<tensor = "emb", layout = transposed, element = q8
// CHECK-NOT: dialect_resources
func.func @lm(%ids: tensor<?xi32>, %pos: index) -> tensor<?x16xf32> attributes {liquid.max_rows = 4 : i64, liquid.max_context = 8 : i64} {
  %emb = liquid.weight "emb" : tensor<16x64xf32>
  %n0 = liquid.weight "n" : tensor<64xf32>
  %n = liquid.weight_map abs %n0 : tensor<64xf32>
  %x = liquid.embedding %ids, %emb : tensor<?xi32>, tensor<16x64xf32> -> tensor<?x64xf32>
  %xn = liquid.rms_norm %x, %n {epsilon = 1.0e-5 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %y = liquid.linear %xn, %emb stored q8 : tensor<?x64xf32>, tensor<16x64xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
