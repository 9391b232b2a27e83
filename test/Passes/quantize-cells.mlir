// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-quantize-cells))' | FileCheck %s --check-prefix=MARK
// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-quantize-cells, liquid-plan-memory), liquid-pack-weights)' | FileCheck %s --check-prefix=SPARSE
// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-quantize-cells, liquid-plan-memory), liquid-pack-weights{block-sparse=false})' | FileCheck %s --check-prefix=DENSE
// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-quantize-cells, liquid-plan-memory), liquid-pack-weights{block-sparse=false}, liquid-lower-cells{prefix=m})' | FileCheck %s --check-prefix=LOWER

// Products with a weight matrix are stored q8c; a product of two activations
// (no weight) stays as it is.
// MARK: liquid.dense {{.*}} activation tanh stored q8c :
// MARK: func.func @activations
// MARK-NOT: stored
// MARK: liquid.dense %arg0, %arg1, %arg2 :

// Per output row: scale = max |row| / 127, q = round(x / scale) to nearest
// even. Rows [1 2], [3 4], [5 6], [0 7]: scales 2/127, 4/127, 6/127, 7/127;
// q = [64 127] (63.5 rounds to 64), [95 127], [106 127], [0 127]; zero rows
// have scale 0. The slot holds the 16 scales, then int8 values:
// block-sparse, the kept 8-output blocks (input 0: outputs 0..7; input 1:
// outputs 0..7 and 8..15), 8 bytes each: 16 + 3 * 2 floats.
// SPARSE: #liquid.slot<tensor = "w [blocks 0x{{[0-9a-f]+}}]", layout = blocks_transposed, element = q8c, offset = 0, floats = 22, blocks = ["10", "11"]>
// SPARSE: liquid_weights: "0x040000000402813C0402013D0683413D{{(00000000)+}}87C3613D{{(00000000)+}}405F6A00000000007F7F7F00000000007F00000000000000
// Dense: the 16 scales, then the transposed tile [2 inputs][16 outputs] of
// int8 (16 + 32 / 4 floats).
// DENSE: #liquid.slot<tensor = "w", layout = transposed, element = q8c, offset = 0, floats = 24>
// DENSE: liquid_weights: "0x040000000402813C0402013D0683413D{{(00000000)+}}87C3613D{{(00000000)+}}405F6A000000000000000000000000007F7F7F00000000007F00000000000000
// The kernel loads a vector of 8 int8 weights as 2 floats, reinterprets
// them and converts to float; the accumulators start at zero and end as
// scale * acc + bias.
// LOWER: func.func @m_kernel_step
// LOWER: vector.load {{.*}} : memref<{{[0-9]+}}xf32>, vector<2xf32>
// LOWER-NEXT: vector.bitcast {{.*}} : vector<2xf32> to vector<8xi8>
// LOWER-NEXT: arith.sitofp {{.*}} : vector<8xi8> to vector<8xf32>
// LOWER: func.func @m_kernel_step_rows
// LOWER: vector.bitcast {{.*}} : vector<2xf32> to vector<8xi8>
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

func.func @activations(%x: tensor<2xf32>, %h2: tensor<16x2xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
  %d = liquid.dense %x, %h2, %b : tensor<2xf32>, tensor<16x2xf32>, tensor<16xf32> -> tensor<16xf32>
  return %d : tensor<16xf32>
}
