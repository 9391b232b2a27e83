// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-plan-memory))' | FileCheck %s --check-prefix=PLAN
// RUN: liquid-opt %s --liquid-to-vector | FileCheck %s --check-prefix=LOWER
// RUN: liquid-opt %s --liquid-to-vector --liquid-vector-to-llvm | FileCheck %s --check-prefix=LLVM

// A mixture-of-experts feed-forward between an embedding and a tied head
// (4 experts, top-2, expert width 24, hidden 32, up to 8 rows a call).
// Plan: the router's chosen experts and weights are [8, 2] activations; its
// scratch holds the scores and selection scores (2 x 32 floats); the experts'
// scratch holds the dispatch list and the SwiGLU rows of every list entry:
// (5 + 16 -> 32) + (4 + 16 -> 32) + 2 x (16 + 16 -> 32) + (16 x 32 + 16 -> 528) = 656.
// PLAN: liquid.arena = #liquid.forward_arena<size = 1200, caches = {}>
// PLAN: liquid.moe_router {{.*}}liquid.offset = array<i64: 256, 272>, liquid.scratch = 288 : i64, liquid.scratch_floats = 64 : i64
// PLAN: liquid.moe_experts {{.*}}liquid.offset = array<i64: 288>, liquid.scratch = 544 : i64, liquid.scratch_floats = 656 : i64

// Lowered: gate and up are one [4, 48, 32] weight, packed with the halves
// interleaved per vector (liquid-opt's default 8-float vectors: 4 experts x
// 32 inputs x 2 x 24 = 6144 floats); the down projections stay one Transposed
// matrix per expert.
// LOWER: #liquid.slot<tensor = "concat1(w1, w3)", layout = transposed_batched_glu, element = f32, offset = {{[0-9]+}}, floats = 6144>
// LOWER-SAME: #liquid.slot<tensor = "w2", layout = transposed_batched, element = f32
// LOWER: func.func @moe_kernel_forward(
// Dispatch on thread 0 and a barrier; the gate/up products of every routed
// expert (an scf.if on its row count) and a barrier; the down products and a
// barrier.
// LOWER: scf.if
// LOWER: call @moe_barrier
// LOWER: scf.for
// LOWER: scf.if
// LOWER: call @moe_barrier
// LOWER: scf.for
// LOWER: scf.if
// LOWER: call @moe_barrier
// LLVM: llvm.func @moe_kernel_forward(
func.func @moe(%ids: tensor<?xi32>, %pos: index) -> tensor<?x64xf32> attributes {liquid.max_rows = 8 : i64, liquid.max_context = 16 : i64} {
  %emb = liquid.weight "emb" : tensor<64x32xf32>
  %r = liquid.weight "router" : tensor<4x32xf32>
  %bias = liquid.weight "bias" : tensor<4xf32>
  %w1 = liquid.weight "w1" : tensor<4x24x32xf32>
  %w3 = liquid.weight "w3" : tensor<4x24x32xf32>
  %gu = liquid.weight_concat %w1, %w3 {dim = 1 : i64} : tensor<4x24x32xf32>, tensor<4x24x32xf32> -> tensor<4x48x32xf32>
  %d = liquid.weight "w2" : tensor<4x32x24xf32>
  %x = liquid.embedding %ids, %emb : tensor<?xi32>, tensor<64x32xf32> -> tensor<?x32xf32>
  %e, %w = liquid.moe_router %x, %r, %bias {top_k = 2 : i64, scaling = 1.0 : f64, normalize} : tensor<?x32xf32>, tensor<4x32xf32>, tensor<4xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
  %y = liquid.moe_experts %x, %e, %w, %gu, %d : tensor<?x32xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<4x48x32xf32>, tensor<4x32x24xf32> -> tensor<?x32xf32>
  %l = liquid.linear %y, %emb : tensor<?x32xf32>, tensor<64x32xf32> -> tensor<?x64xf32>
  return %l : tensor<?x64xf32>
}
