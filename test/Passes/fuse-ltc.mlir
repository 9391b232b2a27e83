// RUN: liquid-opt %s --pass-pipeline='builtin.module(func.func(liquid-fuse-ltc))' -split-input-file | FileCheck %s

// With implicit constraints: softplus on w, sensory_w, cm, gleak; masks and
// reversal potentials folded into the weights; one ltc_solve.
// CHECK-LABEL: func.func @ltc
// CHECK-DAG: %[[GL:.*]] = liquid.weight "gleak"
// CHECK-DAG: %[[VL:.*]] = liquid.weight "vleak"
// CHECK-DAG: %[[CM:.*]] = liquid.weight "cm"
// CHECK-DAG: %[[W:.*]] = liquid.weight "w"
// CHECK-DAG: %[[ER:.*]] = liquid.weight "erev"
// CHECK-DAG: %[[M:.*]] = liquid.weight "mask"
// CHECK-DAG: %[[GLP:.*]] = liquid.weight_map softplus %[[GL]]
// CHECK-DAG: %[[CMP:.*]] = liquid.weight_map softplus %[[CM]]
// CHECK-DAG: %[[WP:.*]] = liquid.weight_map softplus %[[W]]
// CHECK-DAG: %[[WEFF:.*]] = liquid.weight_mul %[[WP]], %[[M]]
// CHECK-DAG: %[[GV:.*]] = liquid.weight_mul %[[GLP]], %[[VL]]
// CHECK-DAG: %[[WER:.*]] = liquid.weight_mul %[[WEFF]], %[[ER]]
// CHECK: liquid.ltc_solve %arg0, %arg1, %arg2 params(%[[CMP]], %[[GLP]], %[[GV]], %{{.*}}, %{{.*}}, %[[WEFF]], %[[WER]], {{.*}}) {epsilon = 1.000000e-08 : f64, ode_unfolds = 6 : i64}
// CHECK-NOT: liquid.ltc_cell
func.func @ltc(%x: tensor<2xf32>, %v: tensor<3xf32>, %t: f32) -> tensor<3xf32> {
  %gl = liquid.weight "gleak" : tensor<3xf32>
  %vl = liquid.weight "vleak" : tensor<3xf32>
  %cm = liquid.weight "cm" : tensor<3xf32>
  %sg = liquid.weight "sigma" : tensor<3x3xf32>
  %mu = liquid.weight "mu" : tensor<3x3xf32>
  %w = liquid.weight "w" : tensor<3x3xf32>
  %er = liquid.weight "erev" : tensor<3x3xf32>
  %m = liquid.weight "mask" : tensor<3x3xf32>
  %ssg = liquid.weight "s_sigma" : tensor<2x3xf32>
  %smu = liquid.weight "s_mu" : tensor<2x3xf32>
  %sw = liquid.weight "s_w" : tensor<2x3xf32>
  %ser = liquid.weight "s_erev" : tensor<2x3xf32>
  %sm = liquid.weight "s_mask" : tensor<2x3xf32>
  %r = liquid.ltc_cell %x, %v, %t params(%gl, %vl, %cm, %sg, %mu, %w, %er, %m, %ssg, %smu, %sw, %ser, %sm) {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64, positive} : tensor<2xf32>, tensor<3xf32>, (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}

// -----

// Without implicit constraints nothing is made positive.
// CHECK-LABEL: func.func @ltc_nopos
// CHECK-NOT: softplus
// CHECK: liquid.ltc_solve
func.func @ltc_nopos(%x: tensor<2xf32>, %v: tensor<3xf32>, %t: f32) -> tensor<3xf32> {
  %n = liquid.weight "n" : tensor<3xf32>
  %nn = liquid.weight "nn" : tensor<3x3xf32>
  %sn = liquid.weight "sn" : tensor<2x3xf32>
  %r = liquid.ltc_cell %x, %v, %t params(%n, %n, %n, %nn, %nn, %nn, %nn, %nn, %sn, %sn, %sn, %sn, %sn) {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64} : tensor<2xf32>, tensor<3xf32>, (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}
