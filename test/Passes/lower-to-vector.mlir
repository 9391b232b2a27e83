// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-lower-to-vector{prefix=m})' | FileCheck %s

// The scan body becomes @m_kernel_step on the packed weights and the arena:
// the dense layer is a loop over the input with 8-lane broadcast-multiply-add
// on transposed weights (no horizontal reductions), tanh is a polynomial.
// CHECK: module attributes {liquid.weights = {entries = [{floats = 320 : i64, layout = "transposed", offset = 0 : i64, tensor = "w"}, {floats = 32 : i64, layout = "vector", offset = 320 : i64, tensor = "b"}], hash = "0x{{[0-9a-f]+}}", lanes = 8 : i64, size = 352 : i64}}
// CHECK: func.func @m_kernel_step(%[[W:.*]]: memref<352xf32>, %[[A:.*]]: memref<144xf32>, %[[TS:.*]]: f32)
// CHECK-SAME: liquid.kernel = {arena_size = 144 : i64, input = 48 : i64, input_size = 8 : i64, output = 0 : i64, output_size = 32 : i64, state_sizes = array<i64: 32>, states = array<i64: 0>}
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// CHECK: memref.load %[[A]]
// CHECK: vector.broadcast {{.*}} : f32 to vector<8xf32>
// CHECK: vector.load %[[W]]{{.*}} : memref<352xf32>, vector<8xf32>
// CHECK: arith.mulf {{.*}} fastmath<contract> : vector<8xf32>
// CHECK-NOT: math.tanh
// CHECK: vector.store {{.*}}, %[[A]]
// CHECK-NOT: liquid.

// The same with 16-float vectors (AVX-512): padding and tiles follow.
// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-lower-to-vector{prefix=m vector-width=16})' | FileCheck %s --check-prefix=W16
// W16: {floats = 320 : i64, layout = "transposed", offset = 0 : i64, tensor = "w"}
// W16-SAME: lanes = 16 : i64
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
