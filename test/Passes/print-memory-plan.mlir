// RUN: liquid-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(liquid-plan-memory), liquid-print-memory-plan)' -o /dev/null | FileCheck %s
// RUN: liquid-opt %s -split-input-file --liquid-to-vector='print-memory-plan=true' -o /dev/null | FileCheck %s

// A cell's scan: the recurrent state, the step input, each activation slot
// and the arena total, in bytes.
// CHECK: memory plan (floats of 4 bytes; offsets in bytes)
// CHECK: state      h (recurrent state)                  48          0
// CHECK: input      x (step input)                       16        128
// CHECK: activation liquid.concat                        64        256
// CHECK: activation liquid.dense                         48          0
// CHECK: state 48 B, activations 128 B (before reuse), scratch 0 B
// CHECK: arena total 384 B
func.func @cell(%xs: tensor<?x4xf32>, %ts: tensor<?xf32>, %h0: tensor<12xf32>) -> tensor<?x12xf32> {
  %w = liquid.weight "w" : tensor<12x16xf32>
  %b = liquid.weight "b" : tensor<12xf32>
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x4xf32>, tensor<?xf32>, (tensor<12xf32>) -> tensor<?x12xf32>, tensor<12xf32> {
  ^bb0(%x: tensor<4xf32>, %t: f32, %h: tensor<12xf32>):
    %z = liquid.concat %x, %h : tensor<4xf32>, tensor<12xf32> -> tensor<16xf32>
    %h2 = liquid.dense %z, %w, %b activation tanh : tensor<16xf32>, tensor<12x16xf32>, tensor<12xf32> -> tensor<12xf32>
    liquid.yield %h2, %h2 : tensor<12xf32>, tensor<12xf32>
  }
  return %ys : tensor<?x12xf32>
}

// -----

// A language model: caches by kind and what an all-attention model of the
// same shape would hold.
// CHECK: memory plan (context 16 tokens, up to 4 tokens per call)
// CHECK: KV caches         1 layers        0.01 MiB
// CHECK: conv caches       1 layers        0.00 MiB
// CHECK: an all-attention model of the same shape: KV caches 0.02 MiB (2 layers)
liquid.state_buffer kv_cache @kv : tensor<2x16x64xf32>
liquid.state_buffer conv_cache @conv : tensor<2x64xf32>
func.func @lm(%ids: tensor<?xi32>, %pos: index) -> tensor<?x64xf32> attributes {liquid.max_rows = 4 : i64, liquid.max_context = 16 : i64} {
  %emb = liquid.weight "emb" : tensor<16x64xf32>
  %x = liquid.embedding %ids, %emb : tensor<?xi32>, tensor<16x64xf32> -> tensor<?x64xf32>
  %qn = liquid.weight "qn" : tensor<64xf32>
  %kn = liquid.weight "kn" : tensor<64xf32>
  %a = liquid.attention %x, %x, %x, %qn, %kn, %pos state(@kv) {heads = 1 : i64, kv_heads = 1 : i64, head_dim = 64 : i64, rope_theta = 1.0e+06 : f64, epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  return %a : tensor<?x64xf32>
}
