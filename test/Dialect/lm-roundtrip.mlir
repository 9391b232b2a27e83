// RUN: liquid-opt %s | liquid-opt | FileCheck %s
// The language-model ops (one LFM2 conv block and one attention block).

// CHECK: liquid.state_buffer conv_cache @conv0 : tensor<2x64xf32>
liquid.state_buffer conv_cache @conv0 : tensor<2x64xf32>
// CHECK: liquid.state_buffer kv_cache @kv1 : tensor<2x128x32xf32>
liquid.state_buffer kv_cache @kv1 : tensor<2x128x32xf32>

// CHECK-LABEL: func.func @blocks
func.func @blocks(%ids: tensor<?xi32>, %pos: index) -> tensor<?x64xf32> {
  %emb = liquid.weight "model.embed_tokens.weight" : tensor<100x64xf32>
  %n = liquid.weight "norm" : tensor<64xf32>
  %inp = liquid.weight "in_proj" : tensor<192x64xf32>
  %k = liquid.weight "conv" : tensor<64x3xf32>
  %out = liquid.weight "out_proj" : tensor<64x64xf32>
  %wq = liquid.weight "q" : tensor<64x64xf32>
  %wkv = liquid.weight "kv" : tensor<32x64xf32>
  %hn = liquid.weight "head_norm" : tensor<16xf32>
  %w13 = liquid.weight "w13" : tensor<96x64xf32>
  %w2 = liquid.weight "w2" : tensor<64x48xf32>
  // CHECK: liquid.embedding %{{.*}}, %{{.*}} : tensor<?xi32>, tensor<100x64xf32> -> tensor<?x64xf32>
  %x = liquid.embedding %ids, %emb : tensor<?xi32>, tensor<100x64xf32> -> tensor<?x64xf32>
  // CHECK: liquid.rms_norm %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %h = liquid.rms_norm %x, %n {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  // CHECK: liquid.linear %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<192x64xf32> -> tensor<?x192xf32>
  %bcx = liquid.linear %h, %inp : tensor<?x64xf32>, tensor<192x64xf32> -> tensor<?x192xf32>
  // CHECK: liquid.short_conv_mix %{{.*}}, %{{.*}} state(@conv0) : tensor<?x192xf32>, tensor<64x3xf32> -> tensor<?x64xf32>
  %y = liquid.short_conv_mix %bcx, %k state(@conv0) : tensor<?x192xf32>, tensor<64x3xf32> -> tensor<?x64xf32>
  %o = liquid.linear %y, %out : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %r = arith.addf %x, %o : tensor<?x64xf32>
  %q = liquid.linear %r, %wq : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %kk = liquid.linear %r, %wkv : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  // CHECK: liquid.attention {{.*}} state(@kv1) {epsilon = 1.000000e-05 : f64, head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64, rope_theta = 1.000000e+06 : f64}
  %a = liquid.attention %q, %kk, %kk, %hn, %hn, %pos state(@kv1) {heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, rope_theta = 1.0e+06 : f64, epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<16xf32>, tensor<16xf32> -> tensor<?x64xf32>
  %gu = liquid.linear %a, %w13 : tensor<?x64xf32>, tensor<96x64xf32> -> tensor<?x96xf32>
  %g = liquid.linear %a, %w13 : tensor<?x64xf32>, tensor<96x64xf32> -> tensor<?x96xf32>
  // CHECK: liquid.swiglu %{{.*}}, %{{.*}} : tensor<?x96xf32>
  %s = liquid.swiglu %gu, %g : tensor<?x96xf32>
  return %a : tensor<?x64xf32>
}

// CHECK-LABEL: func.func @moe
// CHECK: %[[E:.*]], %[[W:.*]] = liquid.moe_router %{{.*}} scores softmax {normalize, scaling = 1.000000e+00 : f64, top_k = 2 : i64} : {{.*}} -> tensor<?x2xi32>, tensor<?x2xf32>
// CHECK: liquid.moe_experts %{{.*}}, %[[E]], %[[W]], %{{.*}}, %{{.*}} : {{.*}} -> tensor<?x16xf32>
func.func @moe(%f: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %r = liquid.weight "router" : tensor<4x16xf32>
  %bias = liquid.weight "bias" : tensor<4xf32>
  %gu = liquid.weight "gate_up" : tensor<4x16x16xf32>
  %d = liquid.weight "down" : tensor<4x16x8xf32>
  %e, %w = liquid.moe_router %f, %r, %bias scores softmax {top_k = 2 : i64, scaling = 1.0 : f64, normalize} : tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
  %y = liquid.moe_experts %f, %e, %w, %gu, %d : tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<4x16x16xf32>, tensor<4x16x8xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
