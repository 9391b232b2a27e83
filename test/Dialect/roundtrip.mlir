// RUN: liquid-opt %s | liquid-opt | FileCheck %s
// Every op prints and parses back to the same IR.

// CHECK-LABEL: func.func @cfc
func.func @cfc(%xs: tensor<?x8xf32>, %ts: tensor<?xf32>, %h0: tensor<4xf32>) -> (tensor<?x4xf32>, tensor<4xf32>) {
  // CHECK: liquid.weight "w" : tensor<4x12xf32>
  %w = liquid.weight "w" : tensor<4x12xf32>
  %b = liquid.weight "b" : tensor<4xf32>
  %m = liquid.weight "mask" : tensor<4x12xf32>
  // CHECK: liquid.weight_mul %{{.*}}, %{{.*}} : tensor<4x12xf32>
  %wm = liquid.weight_mul %w, %m : tensor<4x12xf32>
  // CHECK: liquid.weight_map softplus %{{.*}} : tensor<4x12xf32>
  %sp = liquid.weight_map softplus %wm : tensor<4x12xf32>
  // CHECK: liquid.weight_concat %{{.*}}, %{{.*}} {dim = 0 : i64} : tensor<4x12xf32>, tensor<4x12xf32> -> tensor<8x12xf32>
  %wc = liquid.weight_concat %sp, %w {dim = 0 : i64} : tensor<4x12xf32>, tensor<4x12xf32> -> tensor<8x12xf32>
  %bc = liquid.weight_concat %b, %b {dim = 0 : i64} : tensor<4xf32>, tensor<4xf32> -> tensor<8xf32>
  // CHECK: liquid.scan %{{.*}}, %{{.*}} init(%{{.*}}) : tensor<?x8xf32>, tensor<?xf32>, (tensor<4xf32>) -> tensor<?x4xf32>, tensor<4xf32>
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x8xf32>, tensor<?xf32>, (tensor<4xf32>) -> tensor<?x4xf32>, tensor<4xf32> {
  ^bb0(%x: tensor<8xf32>, %t: f32, %h: tensor<4xf32>):
    // CHECK: liquid.concat
    %z = liquid.concat %x, %h : tensor<8xf32>, tensor<4xf32> -> tensor<12xf32>
    // CHECK: liquid.dense %{{.*}} activation silu :
    %d = liquid.dense %z, %wc, %bc activation silu : tensor<12xf32>, tensor<8x12xf32>, tensor<8xf32> -> tensor<8xf32>
    // CHECK: liquid.dense %{{.*}} stored q8c :
    %dq = liquid.dense %z, %wc, %bc stored q8c : tensor<12xf32>, tensor<8x12xf32>, tensor<8xf32> -> tensor<8xf32>
    // CHECK: liquid.activation gelu
    %a = liquid.activation gelu %d : tensor<8xf32>
    // CHECK: liquid.slice %{{.*}}[2] : tensor<8xf32> -> tensor<4xf32>
    %s = liquid.slice %a [2] : tensor<8xf32> -> tensor<4xf32>
    // CHECK: liquid.scale_shift %{{.*}}, %{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32>
    %ss = liquid.scale_shift %s, %b, %b : tensor<4xf32>, tensor<4xf32>
    // CHECK: liquid.cfc_cell default %{{.*}}, %{{.*}} weights(%{{.*}}) {masked}
    %h2 = liquid.cfc_cell default %z, %t weights(%w, %b, %w, %b, %w, %b, %w, %b, %m) {masked} : tensor<12xf32>, (tensor<4x12xf32>, tensor<4xf32>, tensor<4x12xf32>, tensor<4xf32>, tensor<4x12xf32>, tensor<4xf32>, tensor<4x12xf32>, tensor<4xf32>, tensor<4x12xf32>) -> tensor<4xf32>
    // CHECK: liquid.cfc_epilogue pure %{{.*}}, %{{.*}} extra(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32>) : tensor<4xf32> -> tensor<4xf32>
    %p = liquid.cfc_epilogue pure %ss, %t extra(%b, %b : tensor<4xf32>, tensor<4xf32>) : tensor<4xf32> -> tensor<4xf32>
    // CHECK: liquid.yield
    liquid.yield %p, %h2 : tensor<4xf32>, tensor<4xf32>
  }
  return %ys, %hT : tensor<?x4xf32>, tensor<4xf32>
}

// CHECK-LABEL: func.func @cells
func.func @cells(%x: tensor<2xf32>, %h: tensor<3xf32>, %c: tensor<3xf32>, %t: f32) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %wi = liquid.weight "wi" : tensor<12x2xf32>
  %bi = liquid.weight "bi" : tensor<12xf32>
  %wr = liquid.weight "wr" : tensor<12x3xf32>
  // CHECK: liquid.lstm_cell
  %h2, %c2 = liquid.lstm_cell %x, %h, %c, %wi, %bi, %wr : tensor<2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<12x2xf32>, tensor<12xf32>, tensor<12x3xf32>
  %z = liquid.concat %h, %h, %h, %h : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32> -> tensor<12xf32>
  // CHECK: liquid.lstm_epilogue
  %h3, %c3 = liquid.lstm_epilogue %z, %c : tensor<12xf32>, tensor<3xf32>
  %n = liquid.weight "n" : tensor<3xf32>
  %nn = liquid.weight "nn" : tensor<3x3xf32>
  %sn = liquid.weight "sn" : tensor<2x3xf32>
  // CHECK: liquid.ltc_cell {{.*}} {epsilon = 1.000000e-08 : f64, ode_unfolds = 6 : i64, positive}
  %v = liquid.ltc_cell %x, %h, %t params(%n, %n, %n, %nn, %nn, %nn, %nn, %nn, %sn, %sn, %sn, %sn, %sn) {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64, positive} : tensor<2xf32>, tensor<3xf32>, (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3xf32>
  // CHECK: liquid.ltc_solve {{.*}} {epsilon = 1.000000e-08 : f64, ode_unfolds = 6 : i64}
  %v2 = liquid.ltc_solve %x, %v, %t params(%n, %n, %n, %nn, %nn, %nn, %nn, %sn, %sn, %sn, %sn) {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64} : tensor<2xf32>, tensor<3xf32>, (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3xf32>
  return %h2, %c3, %v2 : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}
