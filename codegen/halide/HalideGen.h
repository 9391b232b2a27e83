//===- HalideGen.h - liquid-halide-gen's request and C entry points -*- C++ -*-===//
//
// What one kernel of the request is (KernelSpec), and the writers of the C
// entry points (Shims.cpp) that take bare pointers from the LLVM-generated
// forward kernel and call the Halide pipelines with halide_buffer_t.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_HALIDEGEN_H
#define LIQUID_HALIDEGEN_H

#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

namespace liquid::halidegen {

struct KernelSpec {
  std::string op = "matmul"; ///< matmul | shortconv | cfc_epilogue | attention
  std::string mode;          ///< cfc_epilogue: default | no_gate | pure
  std::string name, weight, schedule;
  std::string acts = "f32"; ///< matmul with q8 weights: f32 | q8 (int8 activations)
  bool halfBits = false;    ///< f16 weights read as uint16 (see halfAsBits)
  int k = 0, tile = 0, lanes = 0, n = 0, rowsEstimate = 64;
  /// attention: query heads, key/value heads, head size, KV cache rows, the
  /// per-head RMSNorm epsilon
  int heads = 0, kvHeads = 0, headDim = 0, context = 0;
  double eps = 1e-5;
};

[[noreturn]] inline void die(const std::string &msg) {
  std::fprintf(stderr, "liquid-halide-gen: error: %s\n", msg.c_str());
  std::exit(1);
}


/// The start of the generated C file: the buffer ABI (HalideRuntime.h, or
/// spelled out for a freestanding target), the profiler's report to stderr,
/// the GPU error helpers (runtime/liquid_halide_prelude.h).
void writePrelude(std::ostream &os, bool freestanding, bool profile, bool gpu);
/// The C entry point of a product: bare pointers in, halide_buffer_t out;
/// runs the rows-of-4 pipeline on the whole blocks, the one-row pipeline on
/// the rest.
void writeShim(std::ostream &os, const KernelSpec &s);
/// ... of a GPU product: one launch for all column tiles, weights kept.
void writeGpuShim(std::ostream &os, const KernelSpec &s);
/// ... of an attention op, a CfC epilogue and a short convolution.
void writeAttentionShim(std::ostream &os, const KernelSpec &s);
void writeEpilogueShim(std::ostream &os, const KernelSpec &s);
void writeConvShim(std::ostream &os, const KernelSpec &s);

} // namespace liquid::halidegen

#endif
