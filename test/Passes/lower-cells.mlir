// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-pack-weights, liquid-lower-cells{prefix=m}, liquid-approximate-math)' | FileCheck %s

// The scan body becomes @m_kernel_step on the packed weights and the arena:
// the dense layer is a loop over the input with 8-lane broadcast-multiply-add
// on transposed weights (no horizontal reductions), tanh is a polynomial.
// CHECK: module attributes {liquid.weights = #liquid.weight_blob<size = 352, lanes = 8, hash = "0x{{[0-9a-f]+}}", slots = [#liquid.slot<tensor = "w", layout = transposed, element = f32, offset = 0, floats = 320>, #liquid.slot<tensor = "b", layout = vector, element = f32, offset = 320, floats = 32>]>}
// CHECK: func.func @m_kernel_step(%[[W:.*]]: memref<352xf32>, %[[A:.*]]: memref<144xf32>, %[[TS:.*]]: f32)
// CHECK-SAME: liquid.kernel = #liquid.step_kernel<arena_size = 144, input = 48, input_size = 8, output = 0, output_size = 32, states = [0], state_sizes = [32]>
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// CHECK: memref.load %[[A]]
// CHECK: vector.broadcast {{.*}} : f32 to vector<8xf32>
// CHECK: vector.load %[[W]]{{.*}} : memref<352xf32>, vector<8xf32>
// CHECK: arith.mulf {{.*}} fastmath<contract> : vector<8xf32>
// CHECK-NOT: math.tanh
// CHECK: vector.store {{.*}}, %[[A]]
// CHECK-NOT: liquid.
// The batched kernel: rows of 144-float arenas (at most 4096 rows a call), a
// time span per row. The concat and slice run row after row on a view of the
// row's arena; the dense layer takes 4 rows at a time, each weight vector
// loaded once for the 4 (8 accumulators: 4 rows x 2 vectors), then the
// remaining rows one by one.
// CHECK: func.func @m_kernel_step_rows(%[[RW:.*]]: memref<352xf32>, %[[RA:.*]]: memref<589824xf32>, %[[RT:.*]]: memref<4096xf32>, %[[ROWS:.*]]: i64)
// CHECK: %[[N:.*]] = arith.index_cast %[[ROWS]] : i64 to index
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %[[N]] step
// CHECK: memref.reinterpret_cast %[[RA]] to offset: [%{{.*}}], sizes: [144], strides: [1]
// CHECK: %[[FULL:.*]] = arith.muli %{{.*}}, %[[C4:.*]] : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[FULL]] step %{{.*}} {
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: scf.for %{{.*}} = %[[FULL]] to %[[N]] step %{{.*}} {
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>)
// CHECK-NOT: liquid.

// The same with 16-float vectors (AVX-512): padding and tiles follow.
// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-pack-weights{vector-width=16}, liquid-lower-cells{prefix=m vector-width=16})' | FileCheck %s --check-prefix=W16
// W16: lanes = 16
// W16-SAME: #liquid.slot<tensor = "w", layout = transposed, element = f32, offset = 0, floats = 320>
// W16: vector.load {{.*}} : memref<352xf32>, vector<16xf32>
func.func @m(%xs: tensor<?x8xf32>, %ts: tensor<?xf32>, %h0: tensor<32xf32>) -> (tensor<?x32xf32>, tensor<32xf32>) {
  %w = liquid.weight "w" : tensor<32x10xf32>
  %b = liquid.weight "b" : tensor<32xf32>
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x8xf32>, tensor<?xf32>, (tensor<32xf32>) -> tensor<?x32xf32>, tensor<32xf32> {
  ^bb0(%x: tensor<8xf32>, %t: f32, %h: tensor<32xf32>):
    %s = liquid.slice %h [0] : tensor<32xf32> -> tensor<2xf32>
    %z = liquid.concat %x, %s : tensor<8xf32>, tensor<2xf32> -> tensor<10xf32>
    %d = liquid.dense %z, %w, %b activation tanh : tensor<10xf32>, tensor<32x10xf32>, tensor<32xf32> -> tensor<32xf32>
    liquid.yield %d, %d : tensor<32xf32>, tensor<32xf32>
  }
  return %ys, %hT : tensor<?x32xf32>, tensor<32xf32>
}

// Weights packed for another vector width, or not packed at all: one-line errors.
// RUN: not liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-pack-weights{vector-width=16}, liquid-lower-cells{prefix=m vector-width=8})' 2>&1 | FileCheck %s --check-prefix=LANES
// LANES: error: the weights are packed for 16-float vectors, the kernels use 8
// RUN: not liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-lower-cells{prefix=m})' 2>&1 | FileCheck %s --check-prefix=UNPACKED
// UNPACKED: error: the weights are not packed; run liquid-pack-weights first
// RUN: not liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-pack-weights, liquid-lower-cells{prefix=m compact=1 element-lanes=3})' 2>&1 | FileCheck %s --check-prefix=ELANES
// ELANES: error: element-lanes must be 0 or divide vector-width (8), got 3
