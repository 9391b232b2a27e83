//===- liquid-halide-gen.cpp - Halide kernels for liquidc ------------------===//
//
// The Halide code generator, a separate process (Halide 14 links LLVM 14;
// liquidc links LLVM 22): liquidc writes a JSON request naming the kernels,
// their shapes, the Halide target and a schedule per kernel; this tool builds
// each kernel as Halide pipelines, compiles them ahead of time to objects
// (plus one Halide runtime object), and writes C entry points that take bare
// pointers, so the LLVM-generated forward kernel can call them.
//
//   liquid-halide-gen REQUEST.json        (prints a JSON reply on stdout)
//
// Kernels (op "matmul"): y[r, n] = sum_k W[n, k] x[r, k] over one range of
// column tiles of a weight packed by liquidc (PackLayout Transposed,
// TransposedF16 or TransposedQ8: tiles of `tile` outputs, each [K, tile], or
// per block of 32 inputs the tile's scales then [32, tile] int8). Each
// kernel has two pipelines: `_rows4` (rows in blocks of four sharing each
// weight load) and `_row1` (one row, the decode step); the C entry point runs
// the first on the whole blocks and the second on the rest.
//
// Schedules: "hand" (written here, per vector width), or one of Halide 14's
// autoschedulers: "mullapudi2016", "adams2019", "li2018" (plugins in
// HALIDE_PLUGIN_DIR), with estimates from the request.
//
//===----------------------------------------------------------------------===//
#include "HalideGen.h"

#include <unistd.h>

#include "Halide.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

using namespace Halide;
using json = nlohmann::json;

using namespace liquid::halidegen;

namespace {

struct Built {
  Pipeline pipeline;
  std::vector<Argument> args;
  std::string scheduleText;
};


/// Where Halide's autoscheduler plugins are: $LIQUID_HALIDE_PLUGIN_DIR, else
/// lib/liquidc/halide-plugins beside this program's bin/ folder (a
/// relocated install that ships them), else Halide's own folder.
std::string pluginDir() {
  if (const char *env = std::getenv("LIQUID_HALIDE_PLUGIN_DIR"))
    if (*env) return env;
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string exe(self, static_cast<size_t>(n));
    std::string prefix = exe.substr(0, exe.find_last_of('/'));
    prefix = prefix.substr(0, prefix.find_last_of('/'));
    std::string beside = prefix + "/lib/liquidc/halide-plugins";
    if (access((beside + "/libautoschedule_adams2019.so").c_str(), R_OK) == 0) return beside;
  }
  return HALIDE_PLUGIN_DIR;
}

/// Schedules `p` with one of Halide 14's autoschedulers (plugins in
/// pluginDir()); returns the schedule it chose, as source.
std::string autoschedule(Pipeline &p, const KernelSpec &s, const Target &target) {
  static const std::map<std::string, std::pair<std::string, std::string>> plugins = {
      {"mullapudi2016", {"libautoschedule_mullapudi2016.so", "Mullapudi2016"}},
      {"adams2019", {"libautoschedule_adams2019.so", "Adams2019"}},
      {"li2018", {"libautoschedule_li2018.so", "Li2018"}}};
  auto it = plugins.find(s.schedule);
  if (it == plugins.end())
    die("kernel '" + s.name + "': unknown schedule '" + s.schedule +
        "' (hand, mullapudi2016, adams2019, li2018)");
  static std::set<std::string> loaded;
  if (!loaded.count(it->first)) {
    load_plugin(pluginDir() + "/" + it->second.first);
    loaded.insert(it->first);
  }
  // One core per call: liquidc's threads split the tiles themselves.
  MachineParams params(1, 1024 * 1024, 40);
  return "autoscheduler " + it->second.second + ":\n" +
         p.auto_schedule(it->second.second, target, params).schedule_source;
}

/// Whether half-precision weights are read as their 16 bits and widened with
/// integer operations: Halide 14 converts Float(16) in software, one lane at
/// a time, on x86 (no vcvtph2ps even with F16C); GPUs and Arm convert in
/// hardware.
bool halfAsBits(const KernelSpec &s, const Target &target) {
  return s.weight == "f16" && target.arch == Target::X86 && !target.has_gpu_feature();
}

/// The float value of finite half-precision bits `h` (uint32): the magnitude
/// bits moved into a float's exponent / mantissa positions and scaled by
/// 2^112 (exact for normal and subnormal halves), then the sign.
Expr halfBitsToFloat(Expr h) {
  Expr mag = reinterpret<float>((h & 0x7fff) << 13) * 5.192296858534828e+33f; // 2^112
  return reinterpret<float>(reinterpret<uint32_t>(mag) | ((h & 0x8000) << 16));
}

/// One pipeline of a matmul kernel; `rows4` picks the row-block schedule.
Built buildMatmul(const KernelSpec &s, bool rows4, const Target &target) {
  const int L = s.lanes, W = s.tile, K = s.k;
  ImageParam x(Float(32), 2, "x"); // (k, r)
  Var c("c"), t("t"), r("r");
  Func prod("prod"), y(s.name + (rows4 ? "_rows4" : "_row1"));
  std::vector<Argument> args = {x};
  const bool q8 = s.weight == "q8";
  // Sub-block of the tile that one register block covers.
  const int sub = rows4 ? (q8 ? 2 * L : 4 * L) : W;
  Func blk("blk");
  const bool bits = s.halfBits;
  ImageParam w(bits ? UInt(16) : s.weight == "f16" ? Float(16) : Float(32), 3, "w"); // (c, k, t)
  ImageParam scales(Float(32), 3, "scales");                        // (c, b, t)
  ImageParam q(Int(8), 4, "q");                                     // (c, kk, b, t)
  RDom rk(0, K, "rk"), rb(0, K / 32, "rb"), rkk(0, 32, "rkk");
  Var b("b");
  if (!q8) {
    args.push_back(w);
    prod(c, t, r) = 0.0f;
    Expr wv = bits ? halfBitsToFloat(cast<uint32_t>(w(c, rk, t))) : cast<float>(w(c, rk, t));
    prod(c, t, r) += wv * x(rk, r);
  } else {
    args.push_back(scales);
    args.push_back(q);
    blk(c, b, t, r) = 0.0f;
    blk(c, b, t, r) += cast<float>(q(c, rkk, b, t)) * x(b * 32 + rkk, r);
    prod(c, t, r) = 0.0f;
    prod(c, t, r) += scales(c, rb, t) * blk(c, rb, t, r);
  }
  y(c, t, r) = prod(c, t, r);

  // Shapes the kernels rely on (liquidc packs to them).
  x.dim(0).set_min(0).set_extent(K).set_stride(1);
  y.output_buffer().dim(0).set_min(0).set_extent(W).set_stride(1);
  if (!q8) {
    w.dim(0).set_min(0).set_extent(W).set_stride(1);
    w.dim(1).set_min(0).set_extent(K).set_stride(W);
  } else {
    scales.dim(0).set_min(0).set_extent(W).set_stride(1);
    q.dim(0).set_min(0).set_extent(W).set_stride(1);
    q.dim(1).set_min(0).set_extent(32).set_stride(W);
  }

  std::ostringstream text;
  if (target.has_gpu_feature()) {
    // One GPU block per column tile (and per 4 rows), one thread per output
    // column: for each input k the block's threads read one contiguous row
    // of the tile (coalesced); x is the same for all of them.
    Var ro("ro"), ri("ri");
    if (rows4) {
      y.split(r, ro, ri, 4, TailStrategy::RoundUp).reorder(ri, c, t, ro).gpu_blocks(t, ro)
          .gpu_threads(c).unroll(ri);
      prod.compute_at(y, c).unroll(r);
      prod.update().reorder(r, q8 ? rb : rk).unroll(r);
    } else {
      y.reorder(c, t, r).gpu_blocks(t, r).gpu_threads(c);
      prod.compute_at(y, c);
    }
    if (q8) {
      blk.compute_at(prod, rb);
      if (rows4) {
        blk.unroll(r);
        blk.update().reorder(r, rkk).unroll(r);
      }
    }
    text << "y: gpu_blocks (column tile" << (rows4 ? ", block of 4 rows" : ", row")
         << "), gpu_threads (the tile's " << W << " columns)\n"
         << "prod: per thread, " << (rows4 ? "4 accumulators (rows)" : "1 accumulator")
         << " across the k loop" << (q8 ? "; blk: per thread, one block of 32 int8 weights" : "")
         << "\n";
  } else if (s.schedule == "hand") {
    Var co("co"), ci("ci"), ro("ro"), ri("ri");
    if (rows4) {
      y.split(r, ro, ri, 4, TailStrategy::RoundUp)
          .split(c, co, ci, sub)
          .reorder(ci, ri, ro, co, t)
          .vectorize(ci, L)
          .unroll(ri);
      prod.compute_at(y, ro).vectorize(c, L).unroll(c).unroll(r);
      prod.update().reorder(c, r, q8 ? rb : rk).vectorize(c, L).unroll(c).unroll(r);
      text << "y: split r by 4 (row blocks), c by " << sub
           << " (sub-tiles); order ci ri ro co t; vectorize ci by " << L << "\n"
           << "prod: compute_at y.ro; " << 4 * sub / L
           << " vector accumulators (unrolled c x r) across the k loop\n";
    } else {
      y.reorder(c, r, t).vectorize(c, L);
      prod.compute_at(y, r).vectorize(c, L).unroll(c);
      prod.update().reorder(c, q8 ? rb : rk).vectorize(c, L).unroll(c);
      text << "y: order c r t; vectorize c by " << L << "\n"
           << "prod: compute_at y.r; " << W / L
           << " vector accumulators (the whole tile) across the k loop\n";
    }
    if (q8) {
      blk.compute_at(prod, rb).vectorize(c, L).unroll(c);
      blk.update().reorder(c, r, rkk).vectorize(c, L).unroll(c);
      if (rows4) {
        blk.unroll(r);
        blk.update().unroll(r);
      }
      text << "blk (int8 x float over one block of 32 inputs): compute_at prod.rb, "
              "vectorized and unrolled like prod; scaled once per block\n";
    }
  } else {
    // Autoschedulers need estimates: one thread's share of the tiles.
    int tiles = std::max(1, s.n / W / 2), rows = rows4 ? std::max(4, s.rowsEstimate) : 1;
    x.set_estimates({{0, K}, {0, rows}});
    if (!q8)
      w.set_estimates({{0, W}, {0, K}, {0, tiles}});
    else {
      scales.set_estimates({{0, W}, {0, K / 32}, {0, tiles}});
      q.set_estimates({{0, W}, {0, 32}, {0, K / 32}, {0, tiles}});
    }
    y.set_estimates({{0, W}, {0, tiles}, {0, rows}});
  }
  Built out{Pipeline(y), args, ""};
  if (s.schedule != "hand")
    text << autoschedule(out.pipeline, s, target);
  out.scheduleText = text.str();
  return out;
}

/// A q8 matmul with int8 activations (acts "q8"), the integer path of NPUs
/// without float vectors (Hexagon HVX) and of llama.cpp's Q8_0 CPU kernels:
/// each row's inputs are quantized per block of 32 as ggml does it (d =
/// max|x| / 127, q = roundf(x / d) with ties away from zero, d kept in half
/// precision), each block's 32 int8 x int8 products are summed in int32, and
/// the sum is scaled by d_w d_x once per block, in float. On Hexagon the
/// integer sums run in HVX vectors and the per-block float scaling is scalar
/// (Halide 14 has no float HVX).
Built buildMatmulQ8Q8(const KernelSpec &s, bool rows4, const Target &target) {
  const int K = s.k, W = s.tile, B = K / 32;
  const bool hvx = target.has_feature(Target::HVX);
  // int32 lanes: a 128-byte HVX vector, else the float width liquidc uses
  const int L = hvx ? 32 : s.lanes;
  ImageParam x(Float(32), 2, "x");                  // (k, r)
  ImageParam scales(Float(32), 3, "scales");        // (c, b, t)
  ImageParam q(Int(8), 4, "q");                     // (c, kk, b, t)
  Var c("c"), t("t"), r("r"), b("b"), k("k");
  RDom rkk(0, 32, "rkk"), rb(0, B, "rb");
  Func amax("amax"), d("d"), dh("dh"), xq("xq"), isum("isum"), prod("prod");
  Func y(s.name + (rows4 ? "_rows4" : "_row1"));
  amax(b, r) = maximum(abs(x(b * 32 + rkk, r)));
  d(b, r) = amax(b, r) / 127.0f;
  dh(b, r) = cast<float>(cast<float16_t>(d(b, r)));
  Expr id = select(d(k / 32, r) == 0.0f, 0.0f, 1.0f / d(k / 32, r));
  Expr v = x(k, r) * id, tr = trunc(v);
  // roundf: ties away from zero
  xq(k, r) = cast<int8_t>(select(abs(v - tr) >= 0.5f, tr + select(v < 0.0f, -1.0f, 1.0f), tr));
  isum(c, b, t, r) = 0;
  isum(c, b, t, r) += cast<int32_t>(cast<int16_t>(q(c, rkk, b, t)) *
                                    cast<int16_t>(xq(b * 32 + rkk, r)));
  prod(c, t, r) = 0.0f;
  prod(c, t, r) += cast<float>(isum(c, rb, t, r)) * (scales(c, rb, t) * dh(rb, r));
  y(c, t, r) = prod(c, t, r);

  x.dim(0).set_min(0).set_extent(K).set_stride(1);
  y.output_buffer().dim(0).set_min(0).set_extent(W).set_stride(1);
  scales.dim(0).set_min(0).set_extent(W).set_stride(1);
  q.dim(0).set_min(0).set_extent(W).set_stride(1);
  q.dim(1).set_min(0).set_extent(32).set_stride(W);

  std::ostringstream text;
  Built out{Pipeline(y), {x, scales, q}, ""};
  if (s.schedule == "hand") {
    Var ro("ro"), ri("ri");
    // the row's activations are quantized once per call, before the tiles
    amax.compute_root();
    d.compute_root();
    dh.compute_root();
    xq.compute_root();
    if (!hvx)
      xq.vectorize(k, s.lanes);
    if (rows4) {
      y.split(r, ro, ri, 4, TailStrategy::RoundUp).reorder(c, ri, ro, t);
      prod.compute_at(y, ro);
      prod.update().reorder(c, r, rb);
      isum.compute_at(prod, rb);
      isum.update().reorder(c, r, rkk);
    } else {
      y.reorder(c, r, t);
      prod.compute_at(y, r);
      prod.update().reorder(c, rb);
      isum.compute_at(prod, rb);
      isum.update().reorder(c, rkk);
    }
    isum.vectorize(c, L);
    isum.update().vectorize(c, L);
    if (!hvx) {
      y.vectorize(c, s.lanes);
      prod.vectorize(c, s.lanes);
      prod.update().vectorize(c, s.lanes);
    }
    if (rows4) {
      isum.unroll(r);
      isum.update().unroll(r);
    }
    text << "amax, d, xq: compute_root (each row quantized once per call, per block of 32)"
         << (hvx ? ", scalar float" : ", vectorized") << "\n"
         << "isum (int32 sums of 32 int8 x int8 products): compute_at prod.rb; vectorize c by "
         << L << (hvx ? " (HVX, 128-byte vectors)" : "") << (rows4 ? "; rows unrolled by 4" : "")
         << "\n"
         << "prod, y (float, scaled once per block): "
         << (hvx ? "scalar (Halide 14 has no float HVX)" : "vectorize c by " + std::to_string(s.lanes))
         << "\n";
  } else {
    int tiles = std::max(1, s.n / W / 2), rows = rows4 ? std::max(4, s.rowsEstimate) : 1;
    x.set_estimates({{0, K}, {0, rows}});
    scales.set_estimates({{0, W}, {0, B}, {0, tiles}});
    q.set_estimates({{0, W}, {0, 32}, {0, B}, {0, tiles}});
    y.set_estimates({{0, W}, {0, tiles}, {0, rows}});
    text << autoschedule(out.pipeline, s, target);
  }
  out.scheduleText = text.str();
  return out;
}

/// The causal depthwise convolution of LFM2's short-conv mixer:
/// y[t, c] = C[t, c] * sum_j kw[c, j] * win[t + j, c], where win holds the
/// conv cache rows then B * x, C is the middle third of the in-projection's
/// row, and kw is packed Transposed ([taps, tile] per tile of channels).
Built buildShortConv(const KernelSpec &s, const Target &target) {
  const int L = s.lanes, W = s.tile, H = s.n, taps = s.k;
  ImageParam win(Float(32), 2, "win"), bcx(Float(32), 2, "bcx"), kw(Float(32), 3, "kw");
  Var c("c"), t("t"), co("co"), ci("ci");
  RDom j(0, taps, "j");
  Func y(s.name);
  y(c, t) = bcx(H + c, t) * sum(kw(c % W, j, c / W) * win(c, t + j));
  win.dim(0).set_min(0).set_extent(H).set_stride(1);
  bcx.dim(0).set_min(0).set_extent(3 * H).set_stride(1);
  kw.dim(0).set_min(0).set_extent(W).set_stride(1);
  kw.dim(1).set_min(0).set_extent(taps).set_stride(W);
  y.output_buffer().dim(0).set_min(0).set_extent(H).set_stride(1);
  std::ostringstream text;
  Built out{Pipeline(y), {win, bcx, kw}, ""};
  if (s.schedule == "hand") {
    y.split(c, co, ci, W).reorder(ci, co, t).vectorize(ci, L);
    text << "y: split c by the " << W << "-channel tiles; vectorize by " << L
         << "; the " << taps << " taps summed per vector of channels\n";
  } else {
    win.set_estimates({{0, H}, {0, s.rowsEstimate + taps - 1}});
    bcx.set_estimates({{0, 3 * H}, {0, s.rowsEstimate}});
    kw.set_estimates({{0, W}, {0, taps}, {0, H / W}});
    y.set_estimates({{0, H}, {0, s.rowsEstimate}});
    text << autoschedule(out.pipeline, s, target);
  }
  out.scheduleText = text.str();
  return out;
}

/// Attention's score / softmax / value part for the rows of one call: each
/// query head of row t (position p = pos + t) is RMS-normalized with `qn`,
/// rotated (NeoX halves, the cos / sin tables' row p) and scaled by
/// 1/sqrt(head_dim); it attends to KV cache rows 0..p of its group (the
/// caller has appended this call's keys, normalized and rotated, and values):
/// softmax over q.k, then the weighted sum of the values. Same order of
/// operations as liquidc's LLVM lowering; one thread, like it.
Built buildAttention(const KernelSpec &s, const Target &target) {
  const int H = s.heads, D = s.headDim, half = D / 2, group = s.heads / s.kvHeads, L = s.lanes;
  const int kvw = s.kvHeads * D, ctx = s.context;
  ImageParam q(Float(32), 2, "q"), kc(Float(32), 2, "kc"), vc(Float(32), 2, "vc");
  ImageParam qn(Float(32), 1, "qn"), cosT(Float(32), 2, "cos_t"), sinT(Float(32), 2, "sin_t");
  Param<int> pos("pos");
  Var d("d"), h("h"), t("t"), j("j"), l("l"), c("c");
  RDom rd(0, D, "rd"), ro(0, D / L, "ro"), rl(0, L, "rl");
  RDom rj(0, pos + q.dim(1).extent(), "rj");
  rj.where(rj <= pos + t);
  Func ss("ss"), inv("inv"), qr("qr"), part("part"), score("score"), mx("mx"), e("e"), den("den"),
      num("num"), y(s.name);
  ss(h, t) = 0.0f;
  ss(h, t) += q(h * D + rd, t) * q(h * D + rd, t);
  inv(h, t) = 1.0f / sqrt(ss(h, t) / float(D) + float(s.eps));
  Expr dm = d % half, p = pos + t;
  Expr x1 = q(h * D + dm, t) * inv(h, t) * qn(dm);
  Expr x2 = q(h * D + dm + half, t) * inv(h, t) * qn(dm + half);
  Expr co = cosT(dm, p), si = sinT(dm, p);
  qr(d, h, t) = select(d < half, x1 * co - x2 * si, x2 * co + x1 * si) *
                float(1.0 / std::sqrt(double(D)));
  // q.k as liquidc's kernel sums it: a vector of partial sums, then across it
  Expr g = h / group;
  part(l, j, h, t) = 0.0f;
  part(l, j, h, t) += qr(ro * L + l, h, t) * kc(g * D + ro * L + l, j);
  score(j, h, t) = 0.0f;
  score(j, h, t) += part(rl, j, h, t);
  mx(h, t) = Float(32).min();
  mx(h, t) = max(mx(h, t), score(rj, h, t));
  e(j, h, t) = exp(score(j, h, t) - mx(h, t));
  den(h, t) = 0.0f;
  den(h, t) += e(rj, h, t);
  num(d, h, t) = 0.0f;
  num(d, h, t) += e(rj, h, t) * vc(g * D + d, rj);
  y(c, t) = num(c % D, c / D, t) * (1.0f / den(c / D, t));

  q.dim(0).set_min(0).set_extent(H * D).set_stride(1);
  kc.dim(0).set_min(0).set_extent(kvw).set_stride(1);
  kc.dim(1).set_min(0).set_extent(ctx).set_stride(kvw);
  vc.dim(0).set_min(0).set_extent(kvw).set_stride(1);
  vc.dim(1).set_min(0).set_extent(ctx).set_stride(kvw);
  qn.dim(0).set_min(0).set_extent(D);
  cosT.dim(0).set_min(0).set_extent(half).set_stride(1);
  sinT.dim(0).set_min(0).set_extent(half).set_stride(1);
  y.output_buffer().dim(0).set_min(0).set_extent(H * D).set_stride(1);

  Built out{Pipeline(y), {q, kc, vc, qn, cosT, sinT, pos}, ""};
  std::ostringstream text;
  if (s.schedule == "hand") {
    Var ho("ho"), di("di");
    // one (row, head) at a time: its rotated query, scores, softmax, values
    y.split(c, ho, di, D).reorder(di, ho, t).vectorize(di, L);
    for (Func f : {ss, inv, mx, den})
      f.compute_at(y, ho);
    qr.compute_at(y, ho).vectorize(d, L);
    score.compute_at(y, ho);
    part.compute_at(score, j).vectorize(l, L);
    part.update().reorder(l, ro).vectorize(l, L);
    e.compute_at(y, ho);
    num.compute_at(y, ho).vectorize(d, L);
    num.update().reorder(d, rj).vectorize(d, L);
    text << "y: split the columns by head (" << D << "), vectorize by " << L
         << "; per (row, head): qr (normed, rotated query), score over the visible cache rows "
            "(q.k as " << L << "-wide partial sums), max, exp, sum, the weighted values "
            "vectorized over the head\n";
  } else {
    q.set_estimates({{0, H * D}, {0, s.rowsEstimate}});
    kc.set_estimates({{0, kvw}, {0, ctx}});
    vc.set_estimates({{0, kvw}, {0, ctx}});
    qn.set_estimates({{0, D}});
    cosT.set_estimates({{0, half}, {0, ctx}});
    sinT.set_estimates({{0, half}, {0, ctx}});
    pos.set_estimate(std::min(ctx / 2, 256));
    y.set_estimates({{0, H * D}, {0, s.rowsEstimate}});
    text << autoschedule(out.pipeline, s, target);
  }
  out.scheduleText = text.str();
  return out;
}

/// The fused CfC epilogue over `n` units: from the heads z = [ff1 | ff2 |
/// time_a | time_b] and the elapsed time ts, h' = tanh(ff1) (1 - t) +
/// t tanh(ff2) with t = sigmoid(time_a ts + time_b) (no_gate: tanh(ff1) +
/// t tanh(ff2)); mode pure: h' = -A exp(-ts (|w_tau| + |ff1|)) ff1 + A.
Built buildCfCEpilogue(const KernelSpec &s, const Target &target) {
  const int H = s.n, L = s.lanes;
  const bool pure = s.mode == "pure";
  ImageParam z(Float(32), 1, "z"), wTau(Float(32), 1, "w_tau"), a(Float(32), 1, "a");
  Param<float> ts("ts");
  Var c("c");
  Func y(s.name);
  if (pure) {
    Expr f = z(c);
    y(c) = -a(c) * exp(-ts * (abs(wTau(c)) + abs(f))) * f + a(c);
  } else {
    // tanh through exp (Halide vectorizes exp; its tanh calls libm per lane)
    auto tanhExp = [](Expr x) {
      Expr e = exp(2.0f * clamp(x, -15.0f, 15.0f));
      return 1.0f - 2.0f / (e + 1.0f);
    };
    Expr f1 = tanhExp(z(c)), f2 = tanhExp(z(c + H));
    Expr t = 1.0f / (1.0f + exp(-(z(c + 2 * H) * ts + z(c + 3 * H))));
    y(c) = s.mode == "no_gate" ? f1 + t * f2 : f1 * (1.0f - t) + t * f2;
  }
  z.dim(0).set_min(0).set_extent(pure ? H : 4 * H);
  y.output_buffer().dim(0).set_min(0).set_extent(H);
  std::vector<Argument> args = {z};
  if (pure) {
    wTau.dim(0).set_min(0).set_extent(H);
    a.dim(0).set_min(0).set_extent(H);
    args.push_back(wTau);
    args.push_back(a);
  }
  args.push_back(ts);
  Built out{Pipeline(y), args, ""};
  std::ostringstream text;
  if (s.schedule == "hand") {
    if (H >= L) // (fewer units than a vector: scalar)
      y.vectorize(c, L);
    text << "y: " << (H >= L ? "vectorize c by " + std::to_string(L) : std::string("scalar"))
         << " (" << H << " units, mode " << s.mode << ")\n";
  } else {
    z.set_estimates({{0, pure ? H : 4 * H}});
    if (pure) {
      wTau.set_estimates({{0, H}});
      a.set_estimates({{0, H}});
    }
    ts.set_estimate(1.0f);
    y.set_estimates({{0, H}});
    text << autoschedule(out.pipeline, s, target);
  }
  out.scheduleText = text.str();
  return out;
}

std::string readFile(const std::string &p) {
  std::ifstream f(p);
  if (!f)
    die(p + ": cannot read the request");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// One kernel of the request, checked against what the pipelines support.
KernelSpec parseKernel(const json &kj, const Target &target) {
  KernelSpec s;
  s.op = kj.value("op", "matmul");
  s.mode = kj.value("mode", "");
  s.name = kj.at("name");
  s.weight = kj.at("weight");
  s.k = kj.at("k");
  s.tile = kj.at("tile");
  s.lanes = kj.at("lanes");
  s.n = kj.at("n");
  s.rowsEstimate = kj.value("rows_estimate", 64);
  s.schedule = kj.value("schedule", "hand");
  s.acts = kj.value("acts", "f32");
  s.heads = kj.value("heads", 0);
  s.kvHeads = kj.value("kv_heads", 0);
  s.headDim = kj.value("head_dim", 0);
  s.context = kj.value("context", 0);
  s.eps = kj.value("eps", 1e-5);
  if (s.op == "attention" &&
      (s.heads <= 0 || s.kvHeads <= 0 || s.heads % s.kvHeads || s.headDim % (2 * s.lanes) ||
       s.context <= 0))
    die("kernel '" + s.name + "': attention needs heads a multiple of kv_heads, head_dim a "
        "multiple of twice the vector width, and a context");
  if (s.acts != "f32" && s.acts != "q8")
    die("kernel '" + s.name + "': unknown activation type '" + s.acts + "' (f32, q8)");
  if (s.acts == "q8" && (s.op != "matmul" || s.weight != "q8"))
    die("kernel '" + s.name + "': int8 activations need a matmul with q8 weights");
  if (s.weight != "f32" && s.weight != "f16" && s.weight != "q8")
    die("kernel '" + s.name + "': unknown weight type '" + s.weight + "'");
  if (target.has_gpu_feature() && (s.op != "matmul" || s.acts != "f32"))
    die("kernel '" + s.name + "': GPU targets take float-activation matmuls only");
  if (target.has_gpu_feature() && s.schedule != "hand")
    die("kernel '" + s.name + "': GPU kernels have the hand schedule only, not '" + s.schedule +
        "'");
  s.halfBits = halfAsBits(s, target);
  if (s.k % 32 && s.weight == "q8")
    die("kernel '" + s.name + "': q8 needs K in blocks of 32");
  return s;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2 || std::string(argv[1]) == "--help") {
    std::fprintf(argc == 2 ? stdout : stderr,
                 "usage: liquid-halide-gen REQUEST.json\n"
                 "Compiles the Halide kernels liquidc asks for (see the comment at the top of "
                 "codegen/halide/liquid-halide-gen.cpp); prints a JSON reply.\n");
    return argc == 2 ? 0 : 2;
  }
  json req;
  try {
    req = json::parse(readFile(argv[1]));
  } catch (const std::exception &e) {
    die(std::string(argv[1]) + ": " + e.what());
  }
  try {
    Target target(req.at("target").get<std::string>());
    target = target.with_feature(Target::NoRuntime).with_feature(Target::NoAsserts);
    const std::string out = req.at("out_dir"), dump = req.value("dump_dir", "");
    json reply;
    reply["objects"] = json::array();
    reply["ptx"] = json::array();
    std::ofstream shim(out + "/liquid_halide_shims.c");
    // GPU entry points; "entry_points": "gpu" puts them in front of CPU
    // pipelines too, so that a test can run them on a machine without a GPU
    const bool gpuShim = target.has_gpu_feature() || req.value("entry_points", "") == "gpu";
    writePrelude(shim, target.arch == Target::Hexagon, target.has_feature(Target::Profile),
                 gpuShim);
    for (const json &kj : req.at("kernels")) {
      KernelSpec s = parseKernel(kj, target);
      // The kernel's pipelines (C name -> pipeline), its cost line and C entry point.
      std::vector<std::pair<std::string, Built>> pipelines;
      std::ostringstream cost;
      cost << s.name << ": ";
      if (s.op == "shortconv") {
        pipelines.emplace_back(s.name + "_conv", buildShortConv(s, target));
        cost << "depthwise conv [" << s.n << " channels x " << s.k << " taps], per row "
             << 2.0 * s.n * s.k + s.n << " FLOPs, weights " << 4.0 * s.n * s.k << " bytes";
        writeConvShim(shim, s);
      } else if (s.op == "attention") {
        pipelines.emplace_back(s.name + "_attention", buildAttention(s, target));
        cost << "attention (" << s.heads << " / " << s.kvHeads << " heads of " << s.headDim
             << ", cache " << s.context << " rows), per row at position p about "
             << 4.0 * s.heads * s.headDim << " (p + 1) FLOPs and " << 8.0 * s.kvHeads * s.headDim
             << " (p + 1) bytes of cache";
        writeAttentionShim(shim, s);
      } else if (s.op == "cfc_epilogue") {
        pipelines.emplace_back(s.name + "_epilogue", buildCfCEpilogue(s, target));
        cost << "CfC epilogue (" << s.mode << ") over " << s.n
             << " units, elementwise (tanh, sigmoid or exp), no weights";
        writeEpilogueShim(shim, s);
      } else if (s.op == "matmul") {
        auto build = s.acts == "q8" ? buildMatmulQ8Q8 : buildMatmul;
        pipelines.emplace_back(s.name + "_rows4", build(s, true, target));
        pipelines.emplace_back(s.name + "_row1", build(s, false, target));
        double wBytes = s.weight == "f32" ? 4.0 : s.weight == "f16" ? 2.0 : 36.0 / 32.0;
        cost << s.weight << (s.acts == "q8" ? " x q8 activations" : "") << " [" << s.n << " x " << s.k << "], per row " << 2.0 * s.n * s.k
             << " FLOPs, weights " << wBytes * s.n * s.k
             << " bytes (read once per call: rows in blocks of 4 share them)";
        if (gpuShim)
          writeGpuShim(shim, s);
        else
          writeShim(shim, s);
      } else {
        die("kernel '" + s.name + "': unknown op '" + s.op + "'");
      }
      std::string sched;
      for (auto &[fn, bt] : pipelines) {
        std::map<OutputFileType, std::string> outs = {
            {OutputFileType::object, out + "/" + fn + ".o"}};
        if (!dump.empty()) {
          outs[OutputFileType::stmt] = dump + "/" + fn + ".stmt";
          outs[OutputFileType::assembly] = dump + "/" + fn + ".s";
        }
        Module m = bt.pipeline.compile_to_module(bt.args, fn, target);
        m.compile(outs);
        reply["objects"].push_back(out + "/" + fn + ".o");
        // GPU targets: the device code Halide embeds (PTX for CUDA)
        for (const Buffer<void> &b : m.buffers())
          if (b.name().find("gpu_source_kernels") != std::string::npos) {
            std::string ptx(reinterpret_cast<const char *>(b.data()), b.size_in_bytes());
            ptx = ptx.substr(0, ptx.find('\0'));
            std::string path = out + "/" + fn + ".ptx";
            std::ofstream(path) << ptx;
            reply["ptx"].push_back(path);
            if (!dump.empty())
              std::ofstream(dump + "/" + fn + ".ptx") << ptx;
          }
        sched += "== " + fn + "\n" + bt.scheduleText;
      }
      if (!dump.empty()) {
        std::ofstream(dump + "/" + s.name + ".schedule") << sched;
        std::ofstream(dump + "/" + s.name + ".cost") << cost.str() << ", schedule " << s.schedule
                                                     << "\n";
      }
    }
    shim.close();
    Target rt = Target(req.at("target").get<std::string>()).with_feature(Target::NoAsserts);
    compile_standalone_runtime(out + "/halide_runtime.o", rt);
    reply["objects"].push_back(out + "/halide_runtime.o");
    reply["sources"] = {out + "/liquid_halide_shims.c"};
    reply["include_dir"] = HALIDE_INCLUDE_DIR;
    std::cout << reply.dump() << "\n";
  } catch (const Halide::Error &e) {
    die(std::string("Halide: ") + e.what());
  } catch (const std::exception &e) {
    die(e.what());
  }
  return 0;
}
