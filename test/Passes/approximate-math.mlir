// RUN: liquid-opt %s --liquid-approximate-math | FileCheck %s

// exp, tanh and erf on vectors become polynomials: no libm call remains.
// CHECK-LABEL: func.func @f
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK: arith.mulf
// CHECK: return
func.func @f(%x: vector<8xf32>) -> vector<8xf32> {
  %a = math.exp %x : vector<8xf32>
  %b = math.tanh %a : vector<8xf32>
  %c = math.erf %b : vector<8xf32>
  return %c : vector<8xf32>
}
