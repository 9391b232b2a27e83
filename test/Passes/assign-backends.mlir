// RUN: liquid-opt %s --liquid-assign-backends='backend=halide prefix=m vector-width=8 kernels-list=%t.txt' | FileCheck %s
// RUN: FileCheck %s --check-prefix=LIST < %t.txt
// RUN: liquid-opt %s --liquid-assign-backends='backend=halide prefix=m vector-width=8 gpu=true' | FileCheck %s --check-prefix=GPU
// RUN: liquid-opt %s --liquid-assign-backends='backend=halide prefix=m vector-width=8 int8-only=true int8-activations=true' | FileCheck %s --check-prefix=NPU
// RUN: liquid-opt %s --liquid-assign-backends='backend=llvm prefix=m' | FileCheck %s --check-prefix=LLVM
// RUN: not liquid-opt %s --liquid-assign-backends='backend=tpu' 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: echo '{"kernels": {"wk": "llvm"}, "default": "adams2019"}' > %t.json
// RUN: liquid-opt %s --liquid-assign-backends='backend=halide prefix=m vector-width=8 schedule-file=%t.json' | FileCheck %s --check-prefix=SCHED
// RUN: echo '{"default": "fast"}' > %t.bad.json
// RUN: not liquid-opt %s --liquid-assign-backends='backend=halide schedule-file=%t.bad.json' 2>&1 | FileCheck %s --check-prefix=BADSCHED

// Kernels are named in program order; a product whose outputs are not whole
// 64-wide tiles (8 vectors of 8) stays on the LLVM lowering, and the module
// lists every Halide request.
// CHECK: module attributes {liquid.halide_kernels = [{{.*}}name = "m_hl0"{{.*}}schedule = "hand"{{.*}}weight = "q8"{{.*}}, {{.*}}name = "m_hl2"{{.*}}op = "attention"
// CHECK: liquid.linear {{.*}}stored q8 {liquid.halide_kernel = "m_hl0"}
// CHECK: liquid.linear %{{.*}}, %{{[a-z0-9]+}} :
// CHECK: liquid.attention {{.*}}liquid.halide_kernel = "m_hl2"
// LIST: m_hl0  q8 [128 x 64]  halide hand  wq
// LIST: m_hl1  f32 [24 x 64]  llvm (outputs not a multiple of the 64-wide tiles)  wk
// LIST: m_hl2  attention [2/1 heads x 64, 16 cache rows]  halide hand  qn

// A GPU runs the products only; an integer-only NPU the int8 products only
// (with int8 activations where Halide takes them).
// GPU: liquid.linear {{.*}}liquid.halide_kernel = "m_hl0"
// GPU-NOT: liquid.halide_kernel = "m_hl2"
// NPU: {{.*}}acts = "q8"{{.*}}name = "m_hl0"
// NPU-NOT: liquid.halide_kernel = "m_hl2"

// backend=llvm leaves the IR alone.
// LLVM-NOT: liquid.halide_kernel

// BAD: backend must be llvm or halide, not 'tpu'

// The schedule file chooses by kernel or weight name.
// SCHED: schedule = "adams2019"
// SCHED: liquid.linear {{.*}}liquid.halide_kernel = "m_hl0"
// SCHED-NOT: liquid.halide_kernel = "m_hl1"
// BADSCHED: "default" must be one of llvm, hand, mullapudi2016, adams2019, li2018

liquid.state_buffer kv_cache @kv : tensor<2x16x64xf32>
func.func @m(%x: tensor<?x64xf32>, %pos: index) -> tensor<?x128xf32> attributes {liquid.max_rows = 4 : i64, liquid.max_context = 16 : i64} {
  %wq = liquid.weight "wq" : tensor<128x64xf32>
  %wk = liquid.weight "wk" : tensor<24x64xf32>
  %qn = liquid.weight "qn" : tensor<64xf32>
  %kn = liquid.weight "kn" : tensor<64xf32>
  %q = liquid.linear %x, %wq stored q8 : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %k = liquid.linear %x, %wk : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  %kk = liquid.columns %q [0] : tensor<?x128xf32> -> tensor<?x64xf32>
  %a = liquid.attention %q, %kk, %kk, %qn, %kn, %pos state(@kv) {heads = 2 : i64, kv_heads = 1 : i64, head_dim = 64 : i64, rope_theta = 1.0e+06 : f64, epsilon = 1.0e-05 : f64} : tensor<?x128xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32> -> tensor<?x128xf32>
  return %a : tensor<?x128xf32>
}
