// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-plan-memory))' | FileCheck %s --check-prefix=PLAN
// RUN: liquid-opt %s --liquid-to-vector | FileCheck %s --check-prefix=LOWER
// RUN: liquid-opt %s --liquid-to-vector --liquid-vector-to-llvm | FileCheck %s --check-prefix=LLVM

// A small LFM2-style function (one conv block, one attention block, tied head).
// Plan: the caches first (conv: 2 x 64, KV: 2 x 128 x 32), then [max_rows, N]
// activations reused by liveness; the logits go to the caller (-1); the conv
// mixer's window and the attention scores are scratch.
// The attention's scratch: per thread, a block of 8 rows x 2 heads, 16 queries x
// (2 x 32 + 64 + 3) floats (rotated query, accumulator, key tile, max, sum,
// rescale), then one head: 64 x 2096 + 32.
// PLAN: liquid.arena = #liquid.forward_arena<size = 144288, caches = {conv0 = 0 : i64, kv1 = 128 : i64}>
// PLAN: liquid.embedding {{.*}}liquid.offset = array<i64: 8320>
// PLAN: liquid.short_conv_mix {{.*}}liquid.offset = array<i64: 8832>, liquid.scratch = 10880 : i64, liquid.scratch_floats = 640 : i64
// PLAN: liquid.attention {{.*}}liquid.offset = array<i64: 9600>, liquid.scratch = 10112 : i64
// PLAN: liquid.linear {{.*}}liquid.offset = array<i64: -1>

// Lowered: one forward kernel over (weights, arena, ids, rows, pos, logits);
// the RoPE tables are computed at compile time and packed with the weights;
// the tied embedding is packed twice (rows for the gather, transposed for the head).
// LOWER: #liquid.slot<tensor = "emb", layout = rows
// LOWER-SAME: #liquid.slot<tensor = "cos rope(theta=1000000.00, head_dim=32, ctx=128)", layout = rows
// LOWER-SAME: #liquid.slot<tensor = "emb", layout = transposed
// Every thread calls the kernel with its id; they meet at @lm_barrier after
// each op.
// LOWER: func.func private @lm_barrier(memref<1xi8>)
// LOWER: func.func @lm_kernel_forward(%{{.*}}: memref<39200xf32>, %{{.*}}: memref<144288xf32>, %{{.*}}: memref<8xi32>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<768xf32>, %[[TID:.*]]: index, %[[NTH:.*]]: index, %[[SYNC:.*]]: memref<1xi8>, %{{.*}}: memref<78400xf16>, %{{.*}}: memref<156800xi8>, %[[LROWS:[a-z0-9]+]]: index)
// LOWER-SAME: liquid.kernel = #liquid.forward_kernel<arena_size = 144288, max_rows = 8, max_context = 128, vocab = 96,
// The caches a state snapshot saves: @conv0 (128 floats at 0), @kv1 (32 floats
// a row, keys at 128, values 128 rows later).
// LOWER-SAME: conv_caches = [0, 128], kv_caches = [128, 32]>
// LOWER: call @lm_barrier(%[[SYNC]])
// The head (it writes the logits) runs on the call's last min(logit_rows, rows) rows.
// LOWER: arith.minui %[[LROWS]], %{{.*}} : index
// LOWER-NOT: liquid.state_buffer
// LLVM: llvm.func @lm_kernel_forward(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64)
liquid.state_buffer conv_cache @conv0 : tensor<2x64xf32>
liquid.state_buffer kv_cache @kv1 : tensor<2x128x32xf32>
func.func @lm(%ids: tensor<?xi32>, %pos: index) -> tensor<?x96xf32> attributes {liquid.max_rows = 8 : i64, liquid.max_context = 128 : i64} {
  %emb = liquid.weight "emb" : tensor<96x64xf32>
  %n = liquid.weight "norm" : tensor<64xf32>
  %inp = liquid.weight "in_proj" : tensor<192x64xf32>
  %k = liquid.weight "conv" : tensor<64x3xf32>
  %out = liquid.weight "out_proj" : tensor<64x64xf32>
  %wq = liquid.weight "q" : tensor<64x64xf32>
  %wkv = liquid.weight "kv" : tensor<32x64xf32>
  %hn = liquid.weight "head_norm" : tensor<32xf32>
  %x = liquid.embedding %ids, %emb : tensor<?xi32>, tensor<96x64xf32> -> tensor<?x64xf32>
  %h = liquid.rms_norm %x, %n {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %bcx = liquid.linear %h, %inp : tensor<?x64xf32>, tensor<192x64xf32> -> tensor<?x192xf32>
  %y = liquid.short_conv_mix %bcx, %k state(@conv0) : tensor<?x192xf32>, tensor<64x3xf32> -> tensor<?x64xf32>
  %o = liquid.linear %y, %out : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %r = arith.addf %x, %o : tensor<?x64xf32>
  %q = liquid.linear %r, %wq : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %kk = liquid.linear %r, %wkv : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %a = liquid.attention %q, %kk, %kk, %hn, %hn, %pos state(@kv1) {heads = 2 : i64, kv_heads = 1 : i64, head_dim = 32 : i64, rope_theta = 1.0e+06 : f64, epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<?x64xf32>
  %s = liquid.swiglu %a, %r : tensor<?x64xf32>
  %lg = liquid.linear %s, %emb : tensor<?x64xf32>, tensor<96x64xf32> -> tensor<?x96xf32>
  return %lg : tensor<?x96xf32>
}
