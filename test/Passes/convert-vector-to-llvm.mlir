// RUN: liquid-opt %s --liquid-vector-to-llvm='index-bitwidth=32' | FileCheck %s
// RUN: liquid-opt %s --liquid-vector-to-llvm | FileCheck %s --check-prefix=I64

// With a 32-bit index (microcontrollers) the loop counter, the offsets and
// the addresses of the vector loads (plain, masked, the int8 ones through a
// bitcast) are i32, and nothing is left unconverted.
// CHECK-LABEL: llvm.func @k(
// CHECK-NOT: i64
// CHECK-NOT: unrealized_conversion_cast
// CHECK: llvm.getelementptr {{.*}} (!llvm.ptr, i32) -> !llvm.ptr, f32
// CHECK: llvm.load {{.*}} -> vector<8xf32>
// CHECK: llvm.intr.masked.load
// CHECK: llvm.bitcast {{.*}} : vector<1xf32> to vector<4xi8>
// CHECK: llvm.sitofp {{.*}} : vector<4xi8> to vector<4xf32>
// CHECK: llvm.shufflevector
// CHECK: llvm.return
// The default keeps MLIR's 64-bit index.
// I64: llvm.getelementptr {{.*}} (!llvm.ptr, i64) -> !llvm.ptr, f32
func.func @k(%w: memref<64xf32>, %a: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %z = arith.constant dense<0.0> : vector<8xf32>
  %m = arith.constant dense<[true, true, true, false, false, false, false, false]> : vector<8xi1>
  scf.for %i = %c0 to %c32 step %c8 {
    %v = vector.load %w[%i] : memref<64xf32>, vector<8xf32>
    %p = vector.maskedload %a[%i], %m, %z : memref<64xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
    %q = vector.load %w[%i] : memref<64xf32>, vector<1xf32>
    %q8 = vector.bitcast %q : vector<1xf32> to vector<4xi8>
    %qf = arith.sitofp %q8 : vector<4xi8> to vector<4xf32>
    %qq = vector.shuffle %qf, %qf [0, 1, 2, 3, 0, 1, 2, 3] : vector<4xf32>, vector<4xf32>
    %s = arith.addf %v, %p : vector<8xf32>
    %t = arith.mulf %s, %qq : vector<8xf32>
    vector.store %t, %a[%i] : memref<64xf32>, vector<8xf32>
  }
  return
}
