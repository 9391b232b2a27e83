// RUN: liquid-opt %s | liquid-opt | FileCheck %s

// The memory plan's typed attributes print and parse back.
// CHECK: liquid.scan {{.*}}{liquid.arena = #liquid.step_arena<size = 192, input = 48, output = 0, states = [0, 64]>}
func.func @step(%xs: tensor<?x4xf32>, %ts: tensor<?xf32>, %h0: tensor<4xf32>, %c0: tensor<4xf32>) -> tensor<?x4xf32> {
  %ys, %hT, %cT = liquid.scan %xs, %ts init(%h0, %c0) {liquid.arena = #liquid.step_arena<size = 192, input = 48, output = 0, states = [0, 64]>} : tensor<?x4xf32>, tensor<?xf32>, (tensor<4xf32>, tensor<4xf32>) -> tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>, %t: f32, %h: tensor<4xf32>, %c: tensor<4xf32>):
    liquid.yield %x, %x, %x : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  }
  return %ys : tensor<?x4xf32>
}

// CHECK: func.func @forward({{.*}} attributes {liquid.arena = #liquid.forward_arena<size = 1024, caches = {conv0 = 0 : i64}>
func.func @forward(%ids: tensor<?xi32>, %pos: index) attributes {liquid.arena = #liquid.forward_arena<size = 1024, caches = {conv0 = 0 : i64}>} {
  return
}

// The packed weights' typed attributes print and parse back.
// CHECK: module attributes {liquid.weights = #liquid.weight_blob<size = 48, lanes = 8, hash = "0x0123456789abcdef", slots = [#liquid.slot<tensor = "w [blocks 0x1]", layout = blocks_transposed, element = f32, offset = 0, floats = 24, blocks = ["10", "11"]>, #liquid.slot<tensor = "q", layout = transposed, element = q8, offset = 32, floats = 16>]>}
module attributes {liquid.weights = #liquid.weight_blob<size = 48, lanes = 8, hash = "0x0123456789abcdef", slots = [#liquid.slot<tensor = "w [blocks 0x1]", layout = blocks_transposed, element = f32, offset = 0, floats = 24, blocks = ["10", "11"]>, #liquid.slot<tensor = "q", layout = transposed, element = q8, offset = 32, floats = 16>]>} {
}

// The kernels' contracts with the runtime.
// CHECK: func.func private @s_kernel_step() attributes {liquid.kernel = #liquid.step_kernel<arena_size = 144, input = 48, input_size = 8, output = 0, output_size = 32, states = [0], state_sizes = [32]>}
// CHECK: func.func private @f_kernel_forward() attributes {liquid.kernel = #liquid.forward_kernel<arena_size = 11520, max_rows = 8, max_context = 128, vocab = 96, flops_per_token = 100, head_flops = 10, unread_expert_bytes = 0, conv_caches = [0, 2048], kv_caches = [2048, 64]>}
func.func private @s_kernel_step() attributes {liquid.kernel = #liquid.step_kernel<arena_size = 144, input = 48, input_size = 8, output = 0, output_size = 32, states = [0], state_sizes = [32]>}
func.func private @f_kernel_forward() attributes {liquid.kernel = #liquid.forward_kernel<arena_size = 11520, max_rows = 8, max_context = 128, vocab = 96, flops_per_token = 100, head_flops = 10, unread_expert_bytes = 0, conv_caches = [0, 2048], kv_caches = [2048, 64]>}
