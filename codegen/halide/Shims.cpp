//===- Shims.cpp - the C entry points of liquid-halide-gen's kernels -------===//
//
// Writes, per kernel, the C function the forward kernel calls: it wraps the
// bare pointers it gets into halide_buffer_t (the packed weight layouts of
// liquid/Passes: Transposed, TransposedF16, TransposedQ8) and calls the
// kernel's pipelines. No Halide here: only the text of C code.
//
//===----------------------------------------------------------------------===//
#include "HalideGen.h"

#include "liquid/Passes/PackedFormat.h"

namespace liquid::halidegen {
namespace {
/// The declarations of a matmul kernel's two pipelines (rows of 4, one row).
void declareMatmulPipelines(std::ostream &os, const KernelSpec &s) {
  for (const char *p : {"_rows4", "_row1"})
    os << "int " << s.name << p << "(struct halide_buffer_t *x, "
       << (s.weight == "q8" ? "struct halide_buffer_t *scales, struct halide_buffer_t *q, "
                            : "struct halide_buffer_t *w, ")
       << "struct halide_buffer_t *y);\n";
}

/// Statements (each line indented by `ind`) that describe `tiles` column
/// tiles of a matmul's packed weight starting at the C expression `base`:
/// wd / wb for F32 and F16 ([K, W] per tile), sd / sb (scales) and qd / qb
/// (int8) for Q8 (PackedFormat.h: per tile, K / 32 blocks of W float scales
/// then [32, W] int8, q8::blockBytes(W) each; `base` may use the B,
/// blockBytes and tileBytes this
/// declares first). The entry point declares those arrays and buffers and
/// the int32_t constants K and W; the buffers' other fields stay as they are.
void describeWeights(std::ostream &os, const KernelSpec &s, const std::string &ind,
                     const std::string &tiles, const std::string &base) {
  if (s.weight != "q8") {
    os << ind << "wd[0] = (halide_dimension_t){0, W, 1, 0}; wd[1] = (halide_dimension_t){0, K, W, 0};\n"
       << ind << "wd[2] = (halide_dimension_t){0, " << tiles << ", K * W, 0};\n"
       << ind << "wb.type.code = " << (s.halfBits ? "halide_type_uint" : "halide_type_float")
       << "; wb.type.bits = " << (s.weight == "f16" ? 16 : 32) << "; wb.type.lanes = 1;\n"
       << ind << "wb.dimensions = 3; wb.dim = wd; wb.host = (uint8_t *)(" << base << ");\n";
    return;
  }
  using namespace ::liquid::q8;
  os << ind << "const int32_t B = K / " << kBlock << ", blockBytes = " << blockBytes(1)
     << " * W, tileBytes = B * blockBytes;\n"
     << ind << "sd[0] = (halide_dimension_t){0, W, 1, 0}; sd[1] = (halide_dimension_t){0, B, "
     << blockFloats(1) << " * W, 0};\n"
     << ind << "sd[2] = (halide_dimension_t){0, " << tiles << ", tileBytes / 4, 0};\n"
     << ind << "qd[0] = (halide_dimension_t){0, W, 1, 0}; qd[1] = (halide_dimension_t){0, "
     << kBlock << ", W, 0};\n"
     << ind << "qd[2] = (halide_dimension_t){0, B, blockBytes, 0};\n"
     << ind << "qd[3] = (halide_dimension_t){0, " << tiles << ", tileBytes, 0};\n"
     << ind << "sb.type.code = halide_type_float; sb.type.bits = 32; sb.type.lanes = 1;\n"
     << ind << "sb.dimensions = 3; sb.dim = sd; sb.host = (uint8_t *)(" << base << ");\n"
     << ind << "qb.type.code = halide_type_int; qb.type.bits = 8; qb.type.lanes = 1;\n"
     << ind << "qb.dimensions = 4; qb.dim = qd; qb.host = (uint8_t *)(" << base << ") + 4 * W;\n";
}

/// Declares the weight arrays and buffers describeWeights fills (`storage`:
/// "" or "static ").
void declareWeights(std::ostream &os, const KernelSpec &s, const std::string &storage) {
  if (s.weight == "q8")
    os << "  " << storage << "halide_dimension_t sd[3], qd[4];\n"
       << "  " << storage << "struct halide_buffer_t sb = {0}, qb = {0};\n";
  else
    os << "  " << storage << "halide_dimension_t wd[3];\n"
       << "  " << storage << "struct halide_buffer_t wb = {0};\n";
}

} // namespace

void writeAttentionShim(std::ostream &os, const KernelSpec &s) {
  os << "/* " << s.name << ": attention, " << s.heads << " / " << s.kvHeads << " heads of "
     << s.headDim << ", " << s.context << " cache rows */\n"
     << "int " << s.name << "_attention(struct halide_buffer_t *q, struct halide_buffer_t *kc, "
        "struct halide_buffer_t *vc, struct halide_buffer_t *qn, struct halide_buffer_t *cos_t, "
        "struct halide_buffer_t *sin_t, int32_t pos, struct halide_buffer_t *y);\n"
     << "void " << s.name
     << "(const float *q, const float *kc, const float *vc, float *y, const float *qn, "
        "const float *cos_t, const float *sin_t, int64_t rows, int64_t pos) {\n"
     << "  const int32_t QW = " << s.heads * s.headDim << ", KW = " << s.kvHeads * s.headDim
     << ", D = " << s.headDim << ", CTX = " << s.context << ";\n"
     << "  if (rows <= 0) return;\n"
     << "  halide_dimension_t qd[2] = {{0, QW, 1, 0}, {0, (int32_t)rows, QW, 0}};\n"
     << "  halide_dimension_t kd[2] = {{0, KW, 1, 0}, {0, CTX, KW, 0}};\n"
     << "  halide_dimension_t nd[1] = {{0, D, 1, 0}};\n"
     << "  halide_dimension_t td[2] = {{0, D / 2, 1, 0}, {0, CTX, D / 2, 0}};\n"
     << "  struct halide_buffer_t b[7] = {{0}};\n"
     << "  const void *host[7] = {q, kc, vc, qn, cos_t, sin_t, y};\n"
     << "  halide_dimension_t *dims[7] = {qd, kd, kd, nd, td, td, qd};\n"
     << "  for (int i = 0; i < 7; ++i) {\n"
     << "    b[i].type.code = halide_type_float; b[i].type.bits = 32; b[i].type.lanes = 1;\n"
     << "    b[i].dimensions = i == 3 ? 1 : 2; b[i].dim = dims[i]; b[i].host = (uint8_t *)host[i];\n"
     << "  }\n"
     << "  " << s.name
     << "_attention(&b[0], &b[1], &b[2], &b[3], &b[4], &b[5], (int32_t)pos, &b[6]);\n"
     << "}\n\n";
}

void writeEpilogueShim(std::ostream &os, const KernelSpec &s) {
  const bool pure = s.mode == "pure";
  os << "/* " << s.name << ": CfC epilogue, " << s.n << " units, mode " << s.mode << " */\n"
     << "int " << s.name << "_epilogue(struct halide_buffer_t *z, "
     << (pure ? "struct halide_buffer_t *w_tau, struct halide_buffer_t *a, " : "")
     << "float ts, struct halide_buffer_t *y);\n"
     << "void " << s.name
     << "(const float *z, const float *w_tau, const float *a, float *y, float ts) {\n"
     << "  const int32_t H = " << s.n << ";\n"
     << "  halide_dimension_t zd = {0, " << (pure ? "H" : "4 * H") << ", 1, 0}, hd[3] = {{0, H, 1, 0}, "
        "{0, H, 1, 0}, {0, H, 1, 0}};\n"
     << "  struct halide_buffer_t zb = {0}, wb = {0}, ab = {0}, yb = {0};\n"
     << "  zb.type.code = halide_type_float; zb.type.bits = 32; zb.type.lanes = 1;\n"
     << "  wb.type = ab.type = yb.type = zb.type;\n"
     << "  zb.dimensions = wb.dimensions = ab.dimensions = yb.dimensions = 1;\n"
     << "  zb.dim = &zd; wb.dim = &hd[0]; ab.dim = &hd[1]; yb.dim = &hd[2];\n"
     << "  zb.host = (uint8_t *)z; wb.host = (uint8_t *)w_tau; ab.host = (uint8_t *)a;\n"
     << "  yb.host = (uint8_t *)y;\n"
     << "  (void)wb; (void)ab;\n"
     << "  " << s.name << "_epilogue(&zb, " << (pure ? "&wb, &ab, " : "") << "ts, &yb);\n"
     << "}\n\n";
}

void writeConvShim(std::ostream &os, const KernelSpec &s) {
  os << "/* " << s.name << ": causal depthwise conv, " << s.n << " channels, " << s.k
     << " taps */\n"
     << "int " << s.name << "_conv(struct halide_buffer_t *win, struct halide_buffer_t *bcx, "
        "struct halide_buffer_t *kw, struct halide_buffer_t *y);\n"
     << "void " << s.name
     << "(const float *win, const float *bcx, const float *kw, float *y, int64_t rows, "
        "int64_t unused0, int64_t unused1) {\n"
     << "  const int32_t H = " << s.n << ", W = " << s.tile << ", taps = " << s.k << ";\n"
     << "  (void)unused0; (void)unused1;\n"
     << "  if (rows <= 0) return;\n"
     << "  halide_dimension_t wd[2] = {{0, H, 1, 0}, {0, (int32_t)rows + taps - 1, H, 0}};\n"
     << "  halide_dimension_t bd[2] = {{0, 3 * H, 1, 0}, {0, (int32_t)rows, 3 * H, 0}};\n"
     << "  halide_dimension_t kd[3] = {{0, W, 1, 0}, {0, taps, W, 0}, {0, H / W, taps * W, 0}};\n"
     << "  halide_dimension_t yd[2] = {{0, H, 1, 0}, {0, (int32_t)rows, H, 0}};\n"
     << "  struct halide_buffer_t wb = {0}, bb = {0}, kb = {0}, yb = {0};\n"
     << "  wb.type.code = halide_type_float; wb.type.bits = 32; wb.type.lanes = 1;\n"
     << "  bb.type = kb.type = yb.type = wb.type;\n"
     << "  wb.dimensions = 2; wb.dim = wd; wb.host = (uint8_t *)win;\n"
     << "  bb.dimensions = 2; bb.dim = bd; bb.host = (uint8_t *)bcx;\n"
     << "  kb.dimensions = 3; kb.dim = kd; kb.host = (uint8_t *)kw;\n"
     << "  yb.dimensions = 2; yb.dim = yd; yb.host = (uint8_t *)y;\n"
     << "  " << s.name << "_conv(&wb, &bb, &kb, &yb);\n"
     << "}\n\n";
}

/// The C entry point of a GPU matmul: one call runs every column tile (the
/// thread whose non-empty share starts at tile 0 launches it, the others
/// return; the
/// forward kernel's barrier after the product waits for it). The weights stay
/// on the device after their first upload; x goes up and y comes back on
/// each call. A failed launch (no GPU, no driver) ends the program with one
/// line naming the kernel.
void writeGpuShim(std::ostream &os, const KernelSpec &s) {
  const bool q8 = s.weight == "q8";
  os << "/* " << s.name << ": GPU, " << s.weight << " weights, K = " << s.k << ", N = " << s.n
     << ", tiles of " << s.tile << " */\n";
  declareMatmulPipelines(os, s);
  os << "void " << s.name
     << "(const float *x, const void *w, float *y, int64_t rows, int64_t n, int64_t t0, "
        "int64_t t1) {\n"
     << "  const int32_t K = " << s.k << ", W = " << s.tile << ", NT = " << s.n / s.tile << ";\n"
     << "  /* exactly one thread's non-empty share starts at tile 0 */\n"
     << "  if (t0 != 0 || t1 <= 0 || rows <= 0) return;\n"
     << "  liquid_gpu_init();\n";
  // the weights' buffers outlive the call: their device copies stay
  declareWeights(os, s, "static ");
  const std::vector<std::string> bufs = q8 ? std::vector<std::string>{"sb", "qb"}
                                            : std::vector<std::string>{"wb"};
  os << "  if (" << bufs[0] << ".host != (uint8_t *)w) {\n";
  for (const std::string &b : bufs)
    os << "    if (" << b << ".device) halide_device_free(NULL, &" << b << ");\n";
  describeWeights(os, s, "    ", "NT", "w");
  for (const std::string &b : bufs)
    os << "    " << b << ".flags = halide_buffer_flag_host_dirty;\n";
  os << "  }\n";
  const std::string wArgs = q8 ? "&sb, &qb" : "&wb";
  os << "  int64_t full = rows / 4 * 4;\n"
     << "  for (int part = 0; part < 2; ++part) {\n"
     << "    int64_t r0 = part ? full : 0, nr = part ? rows - full : full;\n"
     << "    if (nr == 0) continue;\n"
     << "    halide_dimension_t xd[2] = {{0, K, 1, 0}, {0, part ? 1 : (int32_t)nr, K, 0}};\n"
     << "    halide_dimension_t yd[3] = {{0, W, 1, 0}, {0, NT, W, 0}, {0, part ? 1 : (int32_t)nr, "
        "(int32_t)n, 0}};\n"
     << "    for (int64_t r = r0; r < r0 + nr; r += part ? 1 : nr) {\n"
     << "      struct halide_buffer_t xb = {0}, yb = {0};\n"
     << "      xb.type.code = halide_type_float; xb.type.bits = 32; xb.type.lanes = 1;\n"
     << "      xb.dimensions = 2; xb.dim = xd; xb.host = (uint8_t *)(x + r * K);\n"
     << "      xb.flags = halide_buffer_flag_host_dirty;\n"
     << "      yb.type = xb.type; yb.dimensions = 3; yb.dim = yd; yb.host = (uint8_t *)(y + r * n);\n"
     << "      int rc = part ? " << s.name << "_row1(&xb, " << wArgs << ", &yb) : " << s.name
     << "_rows4(&xb, " << wArgs << ", &yb);\n"
     << "      if (rc == 0) rc = halide_copy_to_host(NULL, &yb);\n"
     << "      halide_device_free(NULL, &xb);\n"
     << "      halide_device_free(NULL, &yb);\n"
     << "      if (rc != 0) liquid_gpu_fail(\"" << s.name << "\", rc);\n"
     << "    }\n"
     << "  }\n"
     << "}\n\n";
}

/// The C entry point of one kernel: bare pointers in, halide_buffer_t out.
void writeShim(std::ostream &os, const KernelSpec &s) {
  const bool q8 = s.weight == "q8";
  os << "/* " << s.name << ": " << s.weight << " weights, K = " << s.k << ", tiles of " << s.tile
     << " */\n";
  declareMatmulPipelines(os, s);
  os << "void " << s.name
     << "(const float *x, const void *w, float *y, int64_t rows, int64_t n, int64_t t0, "
        "int64_t t1) {\n"
     << "  const int32_t K = " << s.k << ", W = " << s.tile << ", nt = (int32_t)((t1 - t0) / W);\n"
     << "  if (nt <= 0 || rows <= 0) return;\n"
     << "  halide_dimension_t xd[2] = {{0, K, 1, 0}, {0, 0, K, 0}};\n"
     << "  halide_dimension_t yd[3] = {{0, W, 1, 0}, {0, nt, W, 0}, {0, 0, (int32_t)n, 0}};\n"
     << "  struct halide_buffer_t xb = {0}, yb = {0};\n"
     << "  xb.type.code = halide_type_float; xb.type.bits = 32; xb.type.lanes = 1;\n"
     << "  xb.dimensions = 2; xb.dim = xd;\n"
     << "  yb.type = xb.type; yb.dimensions = 3; yb.dim = yd;\n"
     << "  yb.host = (uint8_t *)(y + t0);\n";
  declareWeights(os, s, "");
  // this thread's tiles: t0 / W tiles into the packed weight
  describeWeights(os, s, "  ", "nt",
                  q8 ? "(const uint8_t *)w + (size_t)(t0 / W) * tileBytes"
                     : "(const uint8_t *)w + (size_t)t0 * K * " +
                           std::to_string(s.weight == "f16" ? 2 : 4));
  const std::string wArgs = q8 ? "&sb, &qb" : "&wb";
  os << "  int64_t full = rows / 4 * 4;\n"
     << "  if (full) {\n"
     << "    xd[1].extent = (int32_t)full; yd[2].extent = (int32_t)full;\n"
     << "    xb.host = (uint8_t *)x; yb.host = (uint8_t *)(y + t0);\n"
     << "    " << s.name << "_rows4(&xb, " << wArgs << ", &yb);\n"
     << "  }\n"
     << "  for (int64_t r = full; r < rows; ++r) {\n"
     << "    xd[1].extent = 1; yd[2].extent = 1;\n"
     << "    xb.host = (uint8_t *)(x + r * K); yb.host = (uint8_t *)(y + r * n + t0);\n"
     << "    " << s.name << "_row1(&xb, " << wArgs << ", &yb);\n"
     << "  }\n"
     << "}\n\n";
}

} // namespace liquid::halidegen
