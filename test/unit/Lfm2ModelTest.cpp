//===- Lfm2ModelTest.cpp - GGUF reader/writer and LFM2 checkpoint loader --===//
//
// Fixture tests read shared/fixtures/lfm2-small and lfm2moe-small from
//   $LIQUID_FIXTURES_DIR (default: LIQUID_SOURCE_DIR "/../shared/fixtures")
// and are skipped, loudly, when those folders are absent. They load every
// format of both checkpoints, compare the formats tensor by tensor, and run
// a naive float64 reference forward (this file only) from the loaded model
// against the golden logits, which checks that the loader's layouts (conv
// kernel, q/k norm, RoPE, GQA, router, stacked experts) are understood.
//
// Bad-input tests build broken checkpoints in a private temporary directory.
//
// The generator tests run the liquid-lfm2-gen binary given by the
// LIQUID_LFM2_GEN compile definition or environment variable (skipped,
// loudly, when neither names an executable).
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include "liquid/Frontend/Gguf.h"
#include "liquid/Frontend/Lfm2Model.h"
#include "liquid/Frontend/Safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>


using namespace liquid;
namespace fs = std::filesystem;
using json = nlohmann::json;

using liquid::test::fixturesDir;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

std::string denseDir() { return fixturesDir() + "/lfm2-small"; }
std::string moeDir() { return fixturesDir() + "/lfm2moe-small"; }

bool haveLfm2Fixtures() {
  return fs::is_directory(denseDir()) && fs::is_directory(moeDir());
}

#define SKIP_WITHOUT_LFM2_FIXTURES()                                           \
  do {                                                                         \
    if (!haveLfm2Fixtures()) {                                                 \
      std::fprintf(stderr,                                                     \
                   "\n*** WARNING: LFM2 fixtures not found under '%s' -- "     \
                   "LFM2 fixture tests are SKIPPED. Set LIQUID_FIXTURES_DIR. "  \
                   "***\n",                                                    \
                   fixturesDir().c_str());                                     \
      GTEST_SKIP() << "LFM2 fixtures not found under " << fixturesDir()        \
                   << " (set LIQUID_FIXTURES_DIR)";                            \
    }                                                                          \
  } while (0)

/// Temporary folders of this test file.
class TempDir : public liquid::test::TempDir {
public:
  TempDir() : liquid::test::TempDir("liquid_lfm2") {}
};

std::string readText(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void writeText(const std::string &p, const std::string &s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}
std::vector<uint8_t> readBytes(const std::string &p) {
  std::string s = readText(p);
  return std::vector<uint8_t>(s.begin(), s.end());
}
void writeBytes(const std::string &p, const std::vector<uint8_t> &b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char *>(b.data()),
            static_cast<std::streamsize>(b.size()));
}
void put32(std::vector<uint8_t> &b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put64(std::vector<uint8_t> &b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get32(const std::vector<uint8_t> &b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | b[at + i];
  return v;
}

/// File offset of the tensor info of `name` (its u64 name length) in a GGUF.
size_t findTensorInfo(const std::vector<uint8_t> &b, const std::string &name) {
  std::vector<uint8_t> pat(8);
  for (int i = 0; i < 8; ++i) pat[i] = static_cast<uint8_t>(uint64_t(name.size()) >> (8 * i));
  pat.insert(pat.end(), name.begin(), name.end());
  // The tensor infos follow the metadata: take the last occurrence.
  auto it = std::find_end(b.begin(), b.end(), pat.begin(), pat.end());
  return it == b.end() ? std::string::npos : static_cast<size_t>(it - b.begin());
}
/// Offsets of the type and data-offset fields of a tensor info.
size_t typeFieldOf(const std::vector<uint8_t> &b, const std::string &name) {
  size_t at = findTensorInfo(b, name);
  if (at == std::string::npos) return at;
  at += 8 + name.size();
  const uint32_t nd = get32(b, at);
  return at + 4 + 8 * nd;
}

/// Copies a GGUF through GgufFile + GgufWriter, letting `edit` change the
/// metadata and the tensor list (name -> {ne, type}; erase to drop).
struct TensorSpec {
  std::vector<int64_t> ne;
  GgmlType type;
  std::string source; // tensor whose bytes are copied
};
bool rewriteGguf(const std::string &src, const std::string &dst,
                 const std::function<void(std::vector<std::pair<std::string, GgufValue>> &,
                                          std::vector<std::pair<std::string, TensorSpec>> &)> &edit,
                 std::string &err) {
  auto f = GgufFile::open(src, err);
  if (!f) return false;
  std::vector<std::pair<std::string, GgufValue>> kv;
  for (const auto &k : f->keys()) kv.emplace_back(k, f->metadata().at(k));
  std::vector<std::pair<std::string, TensorSpec>> ts;
  for (const auto &t : f->tensors()) ts.push_back({t.name, {t.ne, t.type(), t.name}});
  edit(kv, ts);
  GgufWriter w;
  for (auto &p : kv) w.set(p.first, p.second);
  for (auto &p : ts)
    if (!w.addTensor(p.first, p.second.ne, p.second.type, err)) return false;
  if (!w.open(dst, err)) return false;
  for (auto &p : ts) {
    const GgufTensorInfo *t = f->findTensor(p.second.source);
    if (!w.writeRaw(f->data(*t), static_cast<size_t>(t->bytes), err)) return false;
  }
  return w.close(err);
}

/// Expects a load failure whose single-line message contains every needle.
void expectLoadError(const std::string &path, std::initializer_list<std::string> needles) {
  Lfm2Model m;
  std::string err;
  EXPECT_FALSE(loadLfm2Model(path, m, err)) << path;
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  for (const auto &n : needles)
    EXPECT_NE(err.find(n), std::string::npos) << "'" << n << "' not in: " << err;
}

Lfm2Model mustLoad(const std::string &path) {
  Lfm2Model m;
  std::string err;
  EXPECT_TRUE(loadLfm2Model(path, m, err)) << err;
  return m;
}

void expectSameConfig(const Lfm2Config &a, const Lfm2Config &b) {
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.vocab, b.vocab);
  EXPECT_EQ(a.hidden, b.hidden);
  EXPECT_EQ(a.layers, b.layers);
  EXPECT_EQ(a.heads, b.heads);
  EXPECT_EQ(a.kvHeads, b.kvHeads);
  EXPECT_EQ(a.headDim, b.headDim);
  EXPECT_EQ(a.ffn, b.ffn);
  EXPECT_EQ(a.convL, b.convL);
  EXPECT_NEAR(a.normEps, b.normEps, 1e-12); // GGUF stores it as float32
  EXPECT_EQ(a.ropeTheta, b.ropeTheta);
  EXPECT_EQ(a.isAttention, b.isAttention);
  EXPECT_EQ(a.bos, b.bos);
  EXPECT_EQ(a.eos, b.eos);
  EXPECT_EQ(a.pad, b.pad);
  EXPECT_EQ(a.maxContext, b.maxContext);
  EXPECT_EQ(a.experts, b.experts);
  EXPECT_EQ(a.expertsPerToken, b.expertsPerToken);
  EXPECT_EQ(a.expertFfn, b.expertFfn);
  EXPECT_EQ(a.denseLayers, b.denseLayers);
  EXPECT_EQ(a.normTopkProb, b.normTopkProb);
  EXPECT_EQ(a.useExpertBias, b.useExpertBias);
  EXPECT_EQ(a.routedScaling, b.routedScaling);
  EXPECT_EQ(a.expertScore, b.expertScore);
}

/// The HF-side float32 values of canonical tensor `name` of `gguf`: the
/// same tensor, or (stacked experts) the per-expert tensors concatenated.
std::vector<float> hfValuesFor(const Lfm2Model &hf, const std::string &name, int64_t experts) {
  if (const WeightRef *w = hf.find(name)) return toF32(*w);
  const std::string tag = ".feed_forward.experts.";
  size_t p = name.find(tag);
  std::vector<float> out;
  if (p == std::string::npos) return out;
  const std::string pre = name.substr(0, p + tag.size()), rest = name.substr(p + tag.size());
  for (int64_t e = 0; e < experts; ++e) {
    const WeightRef *w = hf.find(pre + std::to_string(e) + "." + rest);
    if (!w) return {};
    std::vector<float> v = toF32(*w);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

/// Every tensor of `gguf` against the HF model: bit-exact (F32 tensors) or
/// equal to the HF value rounded to the GGUF's type.
void compareWithHf(const Lfm2Model &hf, const Lfm2Model &gguf) {
  for (const auto &[name, w] : gguf.tensors) {
    SCOPED_TRACE(name);
    std::vector<float> g = toF32(w), h = hfValuesFor(hf, name, hf.config.experts);
    ASSERT_EQ(g.size(), static_cast<size_t>(w.numel()));
    ASSERT_EQ(g.size(), h.size());
    size_t bad = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      float want = h[i];
      if (w.type == WeightType::F16) want = halfToFloat(floatToHalf(h[i]));
      if (w.type == WeightType::BF16) want = bf16ToFloat(floatToBf16(h[i]));
      uint32_t a, b;
      std::memcpy(&a, &g[i], 4);
      std::memcpy(&b, &want, 4);
      if (w.type == WeightType::Q8_0 ? std::fabs(g[i] - want) > 1e-2f : a != b) ++bad;
    }
    EXPECT_EQ(bad, 0u) << weightTypeName(w.type);
  }
}

//===----------------------------------------------------------------------===//
// Naive float64 reference forward (HF semantics), from a loaded model
//===----------------------------------------------------------------------===//

class RefModel {
public:
  explicit RefModel(const Lfm2Model &m) : m_(m), c_(m.config) {}

  /// Per MoE layer: selected experts / combination weights, [T][k].
  std::map<int64_t, std::vector<std::vector<int>>> selected;
  std::map<int64_t, std::vector<std::vector<double>>> routeWeights;

  std::vector<std::vector<double>> forward(const std::vector<int> &ids) {
    const int64_t T = static_cast<int64_t>(ids.size()), H = c_.hidden;
    const auto &emb = w("model.embed_tokens.weight");
    std::vector<std::vector<double>> x(T);
    for (int64_t t = 0; t < T; ++t)
      x[t].assign(emb.begin() + ids[t] * H, emb.begin() + (ids[t] + 1) * H);
    for (int64_t i = 0; i < c_.layers; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      std::vector<std::vector<double>> h(T);
      for (int64_t t = 0; t < T; ++t) h[t] = rms(x[t], w(p + "operator_norm.weight").data());
      auto o = c_.isAttention[i] ? attention(p, h) : conv(p, h);
      for (int64_t t = 0; t < T; ++t) {
        for (int64_t j = 0; j < H; ++j) x[t][j] += o[t][j];
        auto f = rms(x[t], w(p + "ffn_norm.weight").data());
        auto y = (c_.arch == "lfm2moe" && i >= c_.denseLayers) ? moe(i, p, f, t)
                                                                : mlp(p + "feed_forward.", f);
        for (int64_t j = 0; j < H; ++j) x[t][j] += y[j];
      }
    }
    const auto &head = m_.find("lm_head.weight") ? w("lm_head.weight") : emb;
    std::vector<std::vector<double>> logits(T);
    for (int64_t t = 0; t < T; ++t)
      logits[t] = matvec(head.data(), c_.vocab, H, rms(x[t], w("model.embedding_norm.weight").data()));
    return logits;
  }

private:
  const std::vector<double> &w(const std::string &n) {
    auto it = cache_.find(n);
    if (it != cache_.end()) return it->second;
    const WeightRef *r = m_.find(n);
    if (!r) throw std::runtime_error("reference: missing tensor " + n);
    std::vector<float> f = toF32(*r);
    return cache_[n] = std::vector<double>(f.begin(), f.end());
  }
  static std::vector<double> matvec(const double *W, int64_t out, int64_t in,
                                    const std::vector<double> &x) {
    std::vector<double> y(out, 0.0);
    for (int64_t o = 0; o < out; ++o) {
      double s = 0;
      for (int64_t k = 0; k < in; ++k) s += W[o * in + k] * x[k];
      y[o] = s;
    }
    return y;
  }
  std::vector<double> rms(const std::vector<double> &v, const double *g) const {
    double ss = 0;
    for (double a : v) ss += a * a;
    const double r = 1.0 / std::sqrt(ss / v.size() + c_.normEps);
    std::vector<double> o(v.size());
    for (size_t j = 0; j < v.size(); ++j) o[j] = v[j] * r * g[j];
    return o;
  }
  static double silu(double a) { return a / (1.0 + std::exp(-a)); }

  std::vector<double> mlp(const std::string &p, const std::vector<double> &f) {
    const auto &w1 = w(p + "w1.weight"), &w3 = w(p + "w3.weight"), &w2 = w(p + "w2.weight");
    return ffn(w1.data(), w3.data(), w2.data(), c_.ffn, f);
  }
  std::vector<double> ffn(const double *w1, const double *w3, const double *w2, int64_t I,
                          const std::vector<double> &f) {
    const int64_t H = c_.hidden;
    auto g = matvec(w1, I, H, f), u = matvec(w3, I, H, f);
    for (int64_t j = 0; j < I; ++j) g[j] = silu(g[j]) * u[j];
    return matvec(w2, H, I, g);
  }
  const double *expert(const std::string &p, int64_t e, const char *which) {
    const std::string stacked = p + "feed_forward.experts." + which + ".weight";
    if (m_.find(stacked)) {
      const int64_t per = c_.expertFfn * c_.hidden;
      return w(stacked).data() + e * per;
    }
    return w(p + "feed_forward.experts." + std::to_string(e) + "." + which + ".weight").data();
  }
  std::vector<double> moe(int64_t layer, const std::string &p, const std::vector<double> &f,
                          int64_t t) {
    const int64_t E = c_.experts, K = c_.expertsPerToken, H = c_.hidden;
    auto logits = matvec(w(p + "feed_forward.gate.weight").data(), E, H, f);
    std::vector<double> prob(E), score(E);
    for (int64_t e = 0; e < E; ++e) {
      prob[e] = 1.0 / (1.0 + std::exp(-logits[e]));
      score[e] = prob[e] + (c_.useExpertBias ? w(p + "feed_forward.expert_bias")[e] : 0.0);
    }
    std::vector<int> order(E);
    for (int e = 0; e < E; ++e) order[e] = e;
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return score[a] > score[b]; });
    order.resize(K);
    std::vector<double> wt(K);
    double sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += (wt[k] = prob[order[k]]);
    for (int64_t k = 0; k < K; ++k) {
      if (c_.normTopkProb) wt[k] /= sum + 1e-6;
      wt[k] *= c_.routedScaling;
    }
    auto &sel = selected[layer];
    auto &rw = routeWeights[layer];
    sel.resize(std::max<size_t>(sel.size(), t + 1));
    rw.resize(sel.size());
    sel[t] = order;
    rw[t] = wt;
    std::vector<double> out(H, 0.0);
    for (int64_t k = 0; k < K; ++k) {
      auto y = ffn(expert(p, order[k], "w1"), expert(p, order[k], "w3"),
                   expert(p, order[k], "w2"), c_.expertFfn, f);
      for (int64_t j = 0; j < H; ++j) out[j] += wt[k] * y[j];
    }
    return out;
  }

  std::vector<std::vector<double>> conv(const std::string &p,
                                        const std::vector<std::vector<double>> &h) {
    const int64_t T = h.size(), H = c_.hidden, L = c_.convL;
    const auto &win = w(p + "conv.in_proj.weight"), &k = w(p + "conv.conv.weight"),
               &wout = w(p + "conv.out_proj.weight");
    std::vector<std::vector<double>> bx(T), cg(T), out(T);
    for (int64_t t = 0; t < T; ++t) {
      auto bcx = matvec(win.data(), 3 * H, H, h[t]);
      bx[t].resize(H);
      cg[t].assign(bcx.begin() + H, bcx.begin() + 2 * H);
      for (int64_t c = 0; c < H; ++c) bx[t][c] = bcx[c] * bcx[2 * H + c];
    }
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> y(H, 0.0);
      for (int64_t c = 0; c < H; ++c) {
        double s = 0;
        for (int64_t j = 0; j < L; ++j) {
          int64_t src = t - (L - 1) + j;
          if (src >= 0) s += k[c * L + j] * bx[src][c];
        }
        y[c] = cg[t][c] * s;
      }
      out[t] = matvec(wout.data(), H, H, y);
    }
    return out;
  }

  std::vector<std::vector<double>> attention(const std::string &p,
                                             const std::vector<std::vector<double>> &h) {
    const int64_t T = h.size(), H = c_.hidden, nh = c_.heads, nkv = c_.kvHeads,
                  hd = c_.headDim, rep = nh / nkv;
    const auto &wq = w(p + "self_attn.q_proj.weight"), &wk = w(p + "self_attn.k_proj.weight"),
               &wv = w(p + "self_attn.v_proj.weight"), &wo = w(p + "self_attn.out_proj.weight"),
               &qn = w(p + "self_attn.q_layernorm.weight"),
               &kn = w(p + "self_attn.k_layernorm.weight");
    std::vector<std::vector<double>> q(T), k(T), v(T);
    auto normRope = [&](std::vector<double> &a, int64_t nHeads, const double *g, int64_t pos) {
      for (int64_t hh = 0; hh < nHeads; ++hh) {
        std::vector<double> seg(a.begin() + hh * hd, a.begin() + (hh + 1) * hd);
        seg = rms(seg, g);
        for (int64_t j = 0; j < hd / 2; ++j) {
          const double freq = std::pow(c_.ropeTheta, -2.0 * j / hd), ang = pos * freq;
          const double x0 = seg[j], x1 = seg[j + hd / 2];
          seg[j] = x0 * std::cos(ang) - x1 * std::sin(ang);
          seg[j + hd / 2] = x1 * std::cos(ang) + x0 * std::sin(ang);
        }
        std::copy(seg.begin(), seg.end(), a.begin() + hh * hd);
      }
    };
    for (int64_t t = 0; t < T; ++t) {
      q[t] = matvec(wq.data(), nh * hd, H, h[t]);
      k[t] = matvec(wk.data(), nkv * hd, H, h[t]);
      v[t] = matvec(wv.data(), nkv * hd, H, h[t]);
      normRope(q[t], nh, qn.data(), t);
      normRope(k[t], nkv, kn.data(), t);
    }
    std::vector<std::vector<double>> out(T);
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> cat(nh * hd, 0.0);
      for (int64_t hh = 0; hh < nh; ++hh) {
        const int64_t g = hh / rep;
        std::vector<double> s(t + 1);
        double mx = -1e300;
        for (int64_t u = 0; u <= t; ++u) {
          double d = 0;
          for (int64_t j = 0; j < hd; ++j) d += q[t][hh * hd + j] * k[u][g * hd + j];
          s[u] = d / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, s[u]);
        }
        double z = 0;
        for (auto &a : s) z += (a = std::exp(a - mx));
        for (int64_t u = 0; u <= t; ++u)
          for (int64_t j = 0; j < hd; ++j) cat[hh * hd + j] += s[u] / z * v[u][g * hd + j];
      }
      out[t] = matvec(wo.data(), H, nh * hd, cat);
    }
    return out;
  }

  const Lfm2Model &m_;
  const Lfm2Config &c_;
  std::map<std::string, std::vector<double>> cache_;
};

struct Golden {
  std::unique_ptr<SafetensorsFile> f;
  std::vector<float> get(const std::string &n) {
    std::vector<float> v;
    std::string err;
    const TensorInfo *t = f->find(n);
    if (!t || !f->readF32(*t, v, err)) ADD_FAILURE() << "golden tensor " << n << ": " << err;
    return v;
  }
  std::vector<int> ids(const std::string &n) {
    std::vector<int32_t> v;
    std::string err;
    const TensorInfo *t = f->find(n);
    if (!t || !f->readI32(*t, v, err)) ADD_FAILURE() << "golden tensor " << n << ": " << err;
    return std::vector<int>(v.begin(), v.end());
  }
};
Golden openGolden(const std::string &p) {
  Golden g;
  std::string err;
  g.f = SafetensorsFile::open(p, err);
  EXPECT_TRUE(g.f) << err;
  return g;
}

/// Max |a - b| over rows [0, rows) and matching argmaxes.
double compareLogits(const std::vector<std::vector<double>> &got, size_t firstRow,
                     const std::vector<float> &want, size_t rows, int64_t V, int *argmaxMiss) {
  double md = 0;
  *argmaxMiss = 0;
  for (size_t r = 0; r < rows; ++r) {
    const auto &g = got[firstRow + r];
    size_t ag = 0, aw = 0;
    for (int64_t j = 0; j < V; ++j) {
      md = std::max(md, std::fabs(g[j] - want[r * V + j]));
      if (g[j] > g[ag]) ag = j;
      if (want[r * V + j] > want[r * V + aw]) aw = j;
    }
    *argmaxMiss += ag != aw;
  }
  return md;
}

/// Max |a - b| of two logit tables (norm_eps is float32 in GGUF, double
/// in config.json: same weights give logits equal to ~1e-12).
double maxDiff(const std::vector<std::vector<double>> &a,
               const std::vector<std::vector<double>> &b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return INFINITY;
    for (size_t j = 0; j < a[i].size(); ++j) m = std::max(m, std::fabs(a[i][j] - b[i][j]));
  }
  return m;
}

//===----------------------------------------------------------------------===//
// GGUF reader / writer
//===----------------------------------------------------------------------===//

TEST(Gguf, HalfAndBf16RoundTripEveryValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint16_t hh = static_cast<uint16_t>(h);
    float f = halfToFloat(hh);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(f))));
      continue;
    }
    ASSERT_EQ(floatToHalf(f), hh) << h;
    float b = bf16ToFloat(hh);
    if (!std::isnan(b)) {
      ASSERT_EQ(floatToBf16(b), hh) << h;
    }
  }
  // Round to nearest even at half-way points, overflow to inf, underflow.
  EXPECT_EQ(floatToHalf(1.0f + 0x1.0p-11f), floatToHalf(1.0f));          // tie -> even
  EXPECT_EQ(floatToHalf(1.0f + 3 * 0x1.0p-11f), floatToHalf(1.0f) + 2);  // tie -> even (up)
  EXPECT_EQ(floatToHalf(65520.f), 0x7c00);
  EXPECT_EQ(floatToHalf(65519.f), 0x7bff);
  EXPECT_EQ(floatToHalf(0x1.0p-25f), 0);
  EXPECT_EQ(floatToHalf(0x1.8p-25f), 1);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(floatToBf16(1.0f + 0x1.0p-8f), floatToBf16(1.0f)); // tie -> even
}

// The bulk conversions (F16C where the host has it) give the scalar
// functions' bits: every half, and floats at every rounding case (halves'
// neighbours and midpoints, subnormals, overflow, inf, NaN), in lengths that
// leave tails.
TEST(Gguf, BulkHalfConversionsMatchScalar) {
  std::vector<uint16_t> halves(0x10000);
  for (uint32_t h = 0; h < 0x10000; ++h)
    halves[h] = static_cast<uint16_t>(h);
  std::vector<float> f(halves.size());
  halvesToFloats(halves.data(), halves.size(), f.data());
  for (uint32_t h = 0; h < 0x10000; ++h) {
    uint32_t got, want;
    float w = halfToFloat(static_cast<uint16_t>(h));
    std::memcpy(&got, &f[h], 4);
    std::memcpy(&want, &w, 4);
    ASSERT_EQ(got, want) << "half 0x" << std::hex << h;
  }
  std::vector<float> probes;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    uint32_t bits;
    float x = halfToFloat(static_cast<uint16_t>(h));
    std::memcpy(&bits, &x, 4);
    for (int32_t d : {-4097, -4096, -4095, -1, 0, 1, 4095, 4096, 4097}) {
      uint32_t b = bits + static_cast<uint32_t>(d);
      float y;
      std::memcpy(&y, &b, 4);
      probes.push_back(y);
    }
  }
  for (float x : {65504.f, 65519.f, 65520.f, 1e30f, 0x1.0p-25f, 0x1.8p-25f, 1e-40f,
                  std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()})
    probes.insert(probes.end(), {x, -x});
  for (size_t len : {probes.size(), probes.size() - 3}) {
    std::vector<uint16_t> got(len);
    floatsToHalves(probes.data(), len, got.data());
    for (size_t i = 0; i < len; ++i)
      ASSERT_EQ(got[i], floatToHalf(probes[i])) << "float " << probes[i] << " at " << i;
  }
}

TEST(Gguf, WriterReaderRoundTrip) {
  TempDir tmp;
  const std::string p = tmp / "t.gguf";
  GgufWriter w(64);
  w.set("general.architecture", GgufValue::str("test"));
  w.set("u32", GgufValue::u32(7));
  w.set("i32", GgufValue::i32(-5));
  w.set("u64", GgufValue::u64(1ull << 40));
  w.set("f32", GgufValue::f32(0.25f));
  w.set("b", GgufValue::boolean(true));
  w.set("ai", GgufValue::arrayI32({0, 0, 2, -1}));
  w.set("af", GgufValue::arrayF32({1.5f, -2.f}));
  w.set("as", GgufValue::arrayStr({"a", "", "ccc"}));
  GgufValue nested;
  nested.type = GgufType::ARRAY;
  nested.elemType = GgufType::ARRAY;
  nested.arrays = {GgufValue::arrayI32({1, 2}), GgufValue::arrayStr({"x"})};
  w.set("nested", nested);
  std::string err;
  ASSERT_TRUE(w.addTensor("a", {3, 2}, GgmlType::F32, err)) << err;
  ASSERT_TRUE(w.addTensor("b", {5}, GgmlType::F16, err)) << err;
  ASSERT_TRUE(w.addTensor("c", {64, 2}, GgmlType::Q8_0, err)) << err;
  ASSERT_TRUE(w.addTensor("d", {3}, GgmlType::BF16, err)) << err;
  EXPECT_FALSE(w.addTensor("e", {33}, GgmlType::Q8_0, err));
  EXPECT_NE(err.find("'e'"), std::string::npos) << err;
  EXPECT_FALSE(w.addTensor("a", {1}, GgmlType::F32, err));
  ASSERT_TRUE(w.open(p, err)) << err;
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {0.5f, -1, 1e-3f, 1e5f, 65504};
  std::vector<float> c(128), d = {1, -2, 3.5f};
  for (int i = 0; i < 128; ++i) c[i] = std::sin(0.37f * i) * (i < 64 ? 1.f : 100.f);
  std::vector<float> all = a;
  all.insert(all.end(), b.begin(), b.end());
  ASSERT_TRUE(w.write(all.data(), all.size(), err)) << err; // spans a and b
  ASSERT_TRUE(w.write(c.data(), 64, err)) << err;
  ASSERT_TRUE(w.write(c.data() + 64, 64, err)) << err;
  ASSERT_TRUE(w.write(d.data(), 3, err)) << err;
  EXPECT_FALSE(w.write(d.data(), 1, err)); // more than declared
  ASSERT_TRUE(w.close(err)) << err;

  auto f = GgufFile::open(p, err);
  ASSERT_TRUE(f) << err;
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->dataStart() % 64, 0u);
  int64_t i = 0;
  double x = 0;
  std::string s;
  std::vector<int64_t> ai;
  EXPECT_TRUE(f->getInt("u32", i, err) && i == 7);
  EXPECT_TRUE(f->getInt("i32", i, err) && i == -5);
  EXPECT_TRUE(f->getInt("u64", i, err) && i == (1ll << 40));
  EXPECT_TRUE(f->getFloat("f32", x, err) && x == 0.25);
  EXPECT_TRUE(f->getInt("b", i, err) && i == 1);
  EXPECT_TRUE(f->getString("general.architecture", s, err) && s == "test");
  EXPECT_TRUE(f->getIntArray("ai", ai, err));
  EXPECT_EQ(ai, (std::vector<int64_t>{0, 0, 2, -1}));
  EXPECT_EQ(f->find("af")->floats, (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(f->find("as")->strings, (std::vector<std::string>{"a", "", "ccc"}));
  ASSERT_EQ(f->find("nested")->arrays.size(), 2u);
  EXPECT_EQ(f->find("nested")->arrays[1].strings[0], "x");
  EXPECT_EQ(f->find("nested")->typeName(), "ARRAY/ARRAY");
  EXPECT_FALSE(f->getString("u32", s, err));
  EXPECT_NE(err.find("(key 'u32')"), std::string::npos) << err;
  EXPECT_FALSE(f->getInt("nope", i, err));
  EXPECT_NE(err.find("missing metadata (key 'nope')"), std::string::npos) << err;

  ASSERT_EQ(f->tensors().size(), 4u);
  const GgufTensorInfo *ta = f->findTensor("a");
  ASSERT_TRUE(ta);
  EXPECT_EQ(ta->torchShape(), (std::vector<int64_t>{2, 3}));
  std::vector<float> got(6);
  decodeToF32(ta->type(), f->data(*ta), 6, got.data());
  EXPECT_EQ(got, a);
  const GgufTensorInfo *tb = f->findTensor("b");
  got.resize(5);
  decodeToF32(tb->type(), f->data(*tb), 5, got.data());
  for (int k = 0; k < 5; ++k) EXPECT_EQ(got[k], halfToFloat(floatToHalf(b[k])));
  const GgufTensorInfo *tc = f->findTensor("c");
  EXPECT_EQ(tc->bytes, 4u * 34u);
  got.resize(128);
  decodeToF32(tc->type(), f->data(*tc), 128, got.data());
  for (int k = 0; k < 128; ++k)
    EXPECT_NEAR(got[k], c[k], (k < 64 ? 1.f : 100.f) / 127.f * 0.51f + 1e-3f) << k;
  const GgufTensorInfo *td = f->findTensor("d");
  got.resize(3);
  decodeToF32(td->type(), f->data(*td), 3, got.data());
  EXPECT_EQ(got, d);
  for (const auto &t : f->tensors()) EXPECT_EQ(t.offset % 64, 0u) << t.name;
}

TEST(Gguf, WriterRejectsIncompleteData) {
  TempDir tmp;
  GgufWriter w;
  std::string err;
  ASSERT_TRUE(w.addTensor("x", {4}, GgmlType::F32, err));
  ASSERT_TRUE(w.open(tmp / "x.gguf", err)) << err;
  float v = 1;
  ASSERT_TRUE(w.write(&v, 1, err));
  EXPECT_FALSE(w.close(err));
  EXPECT_NE(err.find("(tensor 'x')"), std::string::npos) << err;
}

/// A small valid GGUF (two tensors) for corruption tests.
std::string smallGguf(const TempDir &tmp) {
  const std::string p = tmp / "small.gguf";
  GgufWriter w;
  std::string err;
  w.set("general.architecture", GgufValue::str("lfm2"));
  w.set("k", GgufValue::arrayStr({"abc", "de"}));
  EXPECT_TRUE(w.addTensor("first", {8, 4}, GgmlType::F32, err));
  EXPECT_TRUE(w.addTensor("second", {32}, GgmlType::F16, err));
  EXPECT_TRUE(w.open(p, err));
  std::vector<float> v(64, 1.f);
  EXPECT_TRUE(w.write(v.data(), 64, err));
  EXPECT_TRUE(w.close(err)) << err;
  return p;
}

void expectOpenError(const std::string &p, std::initializer_list<std::string> needles) {
  std::string err;
  EXPECT_FALSE(GgufFile::open(p, err));
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_NE(err.find(p), std::string::npos) << err;
  for (const auto &n : needles)
    EXPECT_NE(err.find(n), std::string::npos) << "'" << n << "' not in: " << err;
}

TEST(Gguf, RejectsCorruptFiles) {
  TempDir tmp;
  const std::string ok = smallGguf(tmp);
  std::string err;
  ASSERT_TRUE(GgufFile::open(ok, err)) << err;
  const std::vector<uint8_t> good = readBytes(ok);
  const std::string p = tmp / "bad.gguf";
  auto with = [&](const std::function<void(std::vector<uint8_t> &)> &edit) {
    std::vector<uint8_t> b = good;
    edit(b);
    writeBytes(p, b);
    return p;
  };
  expectOpenError(with([](auto &b) { b.resize(10); }), {"too short"});
  expectOpenError(with([](auto &b) { b[0] = 'X'; }), {"bad magic"});
  expectOpenError(with([](auto &b) { put32(b, 4, 1); }), {"unsupported GGUF version 1"});
  expectOpenError(with([](auto &b) { put32(b, 4, 0x03000000); }), {"big-endian"});
  expectOpenError(with([](auto &b) { put64(b, 8, 1ull << 60); }), {"tensor count"});
  expectOpenError(with([](auto &b) { put64(b, 16, 1ull << 58); }), {"metadata count"});
  // Truncated inside the string array value of key 'k'.
  expectOpenError(with([](auto &b) {
                    const std::string n = "abc";
                    auto it = std::search(b.begin(), b.end(), n.begin(), n.end());
                    b.resize(static_cast<size_t>(it - b.begin()) + 1);
                  }),
                  {"past the end", "(key 'k')"});
  // Array with an absurd element count.
  expectOpenError(with([](auto &b) {
                    const std::string n = "abc";
                    auto at = static_cast<size_t>(std::search(b.begin(), b.end(), n.begin(), n.end()) - b.begin());
                    put64(b, at - 8 - 8, 1ull << 61); // the array count precedes the first length
                  }),
                  {"runs past the end", "(key 'k')"});
  // Unknown metadata value type.
  expectOpenError(with([](auto &b) {
                    const std::string n = "general.architecture";
                    auto at = static_cast<size_t>(std::search(b.begin(), b.end(), n.begin(), n.end()) - b.begin());
                    put32(b, at + n.size(), 77);
                  }),
                  {"unknown metadata value type 77", "(key 'general.architecture')"});
  expectOpenError(with([&](auto &b) { put32(b, typeFieldOf(b, "second"), 11); }),
                  {"unsupported tensor type 11 (Q3_K)", "(tensor 'second')"});
  expectOpenError(with([&](auto &b) { put32(b, typeFieldOf(b, "second"), 99); }),
                  {"unknown tensor type 99", "(tensor 'second')"});
  expectOpenError(with([&](auto &b) { put64(b, typeFieldOf(b, "second") + 4, 1u << 20); }),
                  {"runs past the end of the file", "(tensor 'second')"});
  expectOpenError(with([&](auto &b) { put64(b, typeFieldOf(b, "second") + 4, 8); }),
                  {"not a multiple of the alignment", "(tensor 'second')"});
  expectOpenError(with([&](auto &b) { put64(b, typeFieldOf(b, "second") + 4, 0); }),
                  {"overlap", "(tensor 'second')"});
  expectOpenError(with([&](auto &b) {
                    size_t at = findTensorInfo(b, "second") + 8 + 6;
                    put32(b, at, 5); // n_dims
                  }),
                  {"dimensions", "(tensor 'second')"});
  expectOpenError(with([&](auto &b) { b.resize(b.size() - 8); }),
                  {"runs past the end of the file", "(tensor 'second')"});
  {
    // Two tensors with the same name.
    GgufWriter w;
    ASSERT_TRUE(w.addTensor("t1", {4}, GgmlType::F32, err));
    ASSERT_TRUE(w.addTensor("t2", {4}, GgmlType::F32, err));
    ASSERT_TRUE(w.open(p, err));
    std::vector<float> v(8, 0.f);
    ASSERT_TRUE(w.write(v.data(), 8, err));
    ASSERT_TRUE(w.close(err));
    std::vector<uint8_t> b = readBytes(p);
    b[findTensorInfo(b, "t2") + 9] = '1';
    writeBytes(p, b);
    expectOpenError(p, {"duplicate tensor name", "(tensor 't1')"});
  }
  expectOpenError(tmp / "absent.gguf", {"cannot open file"});
}

TEST(Gguf, SurvivesEveryTruncationAndByteFlip) {
  TempDir tmp;
  const std::vector<uint8_t> good = readBytes(smallGguf(tmp));
  const std::string p = tmp / "mut.gguf";
  size_t opened = 0, failed = 0;
  auto check = [&](const std::vector<uint8_t> &b) {
    writeBytes(p, b);
    std::string err;
    auto f = GgufFile::open(p, err);
    if (f) {
      ++opened;
      for (const auto &t : f->tensors()) { // every accepted tensor is readable
        std::vector<float> v(static_cast<size_t>(t.numel()));
        decodeToF32(t.type(), f->data(t), v.size(), v.data());
      }
    } else {
      ++failed;
      EXPECT_EQ(err.find('\n'), std::string::npos) << err;
      EXPECT_EQ(err.rfind(p + ": ", 0), 0u) << err;
    }
  };
  for (size_t n = 0; n < good.size(); ++n)
    check(std::vector<uint8_t>(good.begin(), good.begin() + n));
  const size_t headerEnd = std::min<size_t>(good.size(), 256);
  for (size_t i = 0; i < headerEnd; ++i)
    for (uint8_t x : {uint8_t(0x00), uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
      std::vector<uint8_t> b = good;
      b[i] = x;
      check(b);
    }
  EXPECT_GT(failed, good.size()); // every truncation fails
  EXPECT_GT(opened, 0u);
}

//===----------------------------------------------------------------------===//
// Fixtures: loading, cross-format equality
//===----------------------------------------------------------------------===//

TEST(Lfm2Model, LoadsDenseFixtureInEveryFormat) {
  SKIP_WITHOUT_LFM2_FIXTURES();
  const std::string d = denseDir();
  Lfm2Model hf = mustLoad(d + "/hf");
  Lfm2Model cfg = mustLoad(d + "/hf/config.json");
  Lfm2Model g32 = mustLoad(d + "/lfm2-small-f32.gguf");
  Lfm2Model g16 = mustLoad(d + "/lfm2-small-f16.gguf");
  const Lfm2Config &c = hf.config;
  EXPECT_EQ(c.arch, "lfm2");
  EXPECT_EQ(c.vocab, 1024);
  EXPECT_EQ(c.hidden, 256);
  EXPECT_EQ(c.layers, 6);
  EXPECT_EQ(c.heads, 4);
  EXPECT_EQ(c.kvHeads, 2);
  EXPECT_EQ(c.headDim, 64);
  EXPECT_EQ(c.ffn, 768);
  EXPECT_EQ(c.convL, 3);
  EXPECT_EQ(c.isAttention, (std::vector<bool>{false, false, true, false, true, false}));
  EXPECT_EQ(c.eos, 7);
  EXPECT_EQ(c.maxContext, 4096);
  EXPECT_EQ(hf.tensors.size(), 56u);
  EXPECT_FALSE(hf.find("lm_head.weight")); // tied
  for (const Lfm2Model *m : {&cfg, &g32, &g16}) {
    expectSameConfig(hf.config, m->config);
    EXPECT_EQ(m->tensors.size(), hf.tensors.size());
    for (const auto &[n, w] : hf.tensors) {
      const WeightRef *o = m->find(n);
      ASSERT_TRUE(o) << n;
      EXPECT_EQ(o->shape, w.shape) << n;
    }
  }
  // Layout normalization: conv kernel [H, L] in both formats.
  EXPECT_EQ(hf.find("model.layers.0.conv.conv.weight")->shape, (std::vector<int64_t>{256, 3}));
  EXPECT_EQ(g16.find("model.layers.0.conv.conv.weight")->type, WeightType::F32);
  EXPECT_EQ(g16.find("model.layers.0.conv.in_proj.weight")->type, WeightType::F16);
  EXPECT_EQ(hf.find("model.embed_tokens.weight")->file, d + "/hf/model.safetensors");
  EXPECT_EQ(g32.find("model.embed_tokens.weight")->bytes, 1024u * 256u * 4u);
  compareWithHf(hf, g32); // bit for bit
  compareWithHf(hf, g16); // HF value rounded to f16
}

TEST(Lfm2Model, LoadsMoeFixtureInEveryFormat) {
  SKIP_WITHOUT_LFM2_FIXTURES();
  const std::string d = moeDir();
  Lfm2Model hf = mustLoad(d + "/hf");
  Lfm2Model cfg = mustLoad(d + "/hf/config.json");
  Lfm2Model g32 = mustLoad(d + "/lfm2moe-small-f32.gguf");
  Lfm2Model g16 = mustLoad(d + "/lfm2moe-small-f16.gguf");
  const Lfm2Config &c = hf.config;
  EXPECT_EQ(c.arch, "lfm2moe");
  EXPECT_EQ(c.hidden, 128);
  EXPECT_EQ(c.headDim, 32);
  EXPECT_EQ(c.ffn, 384);
  EXPECT_EQ(c.experts, 8);
  EXPECT_EQ(c.expertsPerToken, 2);
  EXPECT_EQ(c.expertFfn, 96);
  EXPECT_EQ(c.denseLayers, 2);
  EXPECT_TRUE(c.useExpertBias);
  EXPECT_TRUE(c.normTopkProb);
  EXPECT_EQ(c.routedScaling, 1.0);
  EXPECT_EQ(hf.tensors.size(), 148u);
  EXPECT_EQ(g32.tensors.size(), 64u);
  for (const Lfm2Model *m : {&cfg, &g32, &g16}) expectSameConfig(c, m->config);
  // Per-expert in HF, stacked [E, out, in] in GGUF.
  EXPECT_EQ(hf.find("model.layers.2.feed_forward.experts.7.w2.weight")->shape,
            (std::vector<int64_t>{128, 96}));
  EXPECT_FALSE(hf.find("model.layers.2.feed_forward.experts.w2.weight"));
  EXPECT_EQ(g32.find("model.layers.2.feed_forward.experts.w1.weight")->shape,
            (std::vector<int64_t>{8, 96, 128}));
  EXPECT_EQ(g32.find("model.layers.5.feed_forward.experts.w2.weight")->shape,
            (std::vector<int64_t>{8, 128, 96}));
  EXPECT_EQ(g32.find("model.layers.3.feed_forward.expert_bias")->shape, (std::vector<int64_t>{8}));
  EXPECT_EQ(g16.find("model.layers.3.feed_forward.gate.weight")->type, WeightType::F32);
  EXPECT_EQ(g16.find("model.layers.3.feed_forward.experts.w3.weight")->type, WeightType::F16);
  EXPECT_FALSE(g32.find("model.layers.1.feed_forward.gate.weight")); // dense layer
  compareWithHf(hf, g32); // stacked == concatenated per-expert, bit for bit
  compareWithHf(hf, g16);
}

//===----------------------------------------------------------------------===//
// Fixtures: float64 reference forward against the goldens
//===----------------------------------------------------------------------===//

struct ForwardResult {
  double prefillMaxAbs = 0, decodeMaxAbs = 0;
  int prefillArgmaxMiss = 0, decodeArgmaxMiss = 0;
};

ForwardResult runGoldens(const Lfm2Model &m, const std::string &dir, RefModel *keep = nullptr) {
  ForwardResult r;
  const int64_t V = m.config.vocab;
  {
    Golden g = openGolden(dir + "/golden_prefill.safetensors");
    if (!g.f) return r;
    std::vector<int> ids = g.ids("ids");
    RefModel local(m);
    RefModel &ref = keep ? *keep : local;
    auto logits = ref.forward(ids);
    r.prefillMaxAbs = compareLogits(logits, 0, g.get("logits_numpy_f64"), ids.size(), V,
                                    &r.prefillArgmaxMiss);
  }
  {
    // Decode = full recompute of prompt + fed tokens (the goldens record
    // that incremental and full recompute agree exactly).
    Golden g = openGolden(dir + "/golden_decode.safetensors");
    if (!g.f) return r;
    std::vector<int> ids = g.ids("prompt_ids"), gen = g.ids("generated_ids");
    const size_t P = ids.size(), S = gen.size() - 1;
    ids.insert(ids.end(), gen.begin(), gen.begin() + S);
    RefModel ref(m);
    auto logits = ref.forward(ids);
    int miss1 = 0, miss2 = 0;
    double d1 = compareLogits(logits, 0, g.get("prompt_logits_numpy_f64"), P, V, &miss1);
    double d2 = compareLogits(logits, P, g.get("step_logits_numpy_f64"), S, V, &miss2);
    r.decodeMaxAbs = std::max(d1, d2);
    r.decodeArgmaxMiss = miss1 + miss2;
    // Greedy ids: argmax of row P-1+s is gen[s].
    for (size_t s = 0; s <= S; ++s) {
      const auto &row = logits[P - 1 + s];
      int64_t am = std::max_element(row.begin(), row.end()) - row.begin();
      EXPECT_EQ(am, gen[s]) << "greedy step " << s;
    }
  }
  return r;
}

TEST(Lfm2Model, DenseReferenceForwardMatchesGoldens) {
  SKIP_WITHOUT_LFM2_FIXTURES();
  for (const char *f : {"/hf", "/lfm2-small-f32.gguf"}) {
    SCOPED_TRACE(f);
    Lfm2Model m = mustLoad(denseDir() + f);
    ForwardResult r = runGoldens(m, denseDir());
    std::printf("[ lfm2-small %s ] float64 reference vs logits_numpy_f64: prefill max abs %.3g, "
                "decode max abs %.3g\n",
                f, r.prefillMaxAbs, r.decodeMaxAbs);
    EXPECT_LT(r.prefillMaxAbs, 1e-4);
    EXPECT_LT(r.decodeMaxAbs, 1e-4);
    EXPECT_EQ(r.prefillArgmaxMiss, 0);
    EXPECT_EQ(r.decodeArgmaxMiss, 0);
  }
  // F16 weights: the suggested 5e-2 tolerance (llama.cpp F16 vs numpy: 7.9e-3).
  Lfm2Model m16 = mustLoad(denseDir() + "/lfm2-small-f16.gguf");
  Golden g = openGolden(denseDir() + "/golden_prefill.safetensors");
  ASSERT_TRUE(g.f);
  RefModel ref(m16);
  int miss = 0;
  double d = compareLogits(ref.forward(g.ids("ids")), 0, g.get("logits_numpy_f64"), 10, 1024, &miss);
  std::printf("[ lfm2-small f16 gguf ] float64 reference vs logits_numpy_f64: max abs %.3g, "
              "argmax differs in %d/10 rows\n", d, miss);
  EXPECT_LT(d, 5e-2); // argmax not checked: the smallest top-1/top-2 gap is 1.1e-3
}

TEST(Lfm2Model, MoeReferenceForwardMatchesGoldensAndRouting) {
  SKIP_WITHOUT_LFM2_FIXTURES();
  for (const char *f : {"/hf", "/lfm2moe-small-f32.gguf"}) {
    SCOPED_TRACE(f);
    Lfm2Model m = mustLoad(moeDir() + f);
    RefModel ref(m);
    ForwardResult r = runGoldens(m, moeDir(), &ref);
    std::printf("[ lfm2moe-small %s ] float64 reference vs logits_numpy_f64: prefill max abs "
                "%.3g, decode max abs %.3g\n",
                f, r.prefillMaxAbs, r.decodeMaxAbs);
    EXPECT_LT(r.prefillMaxAbs, 1e-4);
    EXPECT_LT(r.decodeMaxAbs, 1e-4);
    EXPECT_EQ(r.prefillArgmaxMiss, 0);
    EXPECT_EQ(r.decodeArgmaxMiss, 0);
    // Routing decisions of the prefill (ref kept the prefill's routing).
    Golden g = openGolden(moeDir() + "/golden_prefill.safetensors");
    ASSERT_TRUE(g.f);
    for (int64_t i = 2; i < 6; ++i) {
      const std::string k = "routing.blk" + std::to_string(i);
      if (!g.f->find(k + ".selected_experts")) continue;
      std::vector<int> sel = g.ids(k + ".selected_experts");
      std::vector<float> wts = g.get(k + ".weights");
      ASSERT_EQ(ref.selected[i].size(), 10u);
      for (size_t t = 0; t < 10; ++t)
        for (size_t j = 0; j < 2; ++j) {
          EXPECT_EQ(ref.selected[i][t][j], sel[t * 2 + j]) << "layer " << i << " token " << t;
          EXPECT_NEAR(ref.routeWeights[i][t][j], wts[t * 2 + j], 1e-6);
        }
    }
  }
}

//===----------------------------------------------------------------------===//
// Bad inputs
//===----------------------------------------------------------------------===//

/// A copy of a fixture HF folder with an edited config.json; the weights
/// file is a symlink.
std::string hfCopy(const TempDir &tmp, const std::string &name, const std::string &src,
                   const std::function<void(json &)> &edit) {
  const std::string d = tmp / name;
  fs::create_directories(d);
  json j = json::parse(readText(src + "/config.json"));
  edit(j);
  writeText(d + "/config.json", j.dump(1));
  fs::create_symlink(src + "/model.safetensors", d + "/model.safetensors");
  return d;
}

/// Writes a sharded copy of a fixture HF folder: tensors split over two
/// shards (alternately); `skip` names tensors left out of shards and index.
std::string shardedCopy(const TempDir &tmp, const std::string &name, const std::string &src,
                        const std::vector<std::string> &skip = {},
                        bool writeSecond = true) {
  const std::string d = tmp / name;
  fs::create_directories(d);
  fs::copy_file(src + "/config.json", d + "/config.json");
  std::string err;
  auto sf = SafetensorsFile::open(src + "/model.safetensors", err);
  EXPECT_TRUE(sf) << err;
  std::vector<std::pair<std::string, Tensor>> s[2];
  json wm = json::object();
  int k = 0;
  for (const auto &t : sf->tensors()) {
    if (std::find(skip.begin(), skip.end(), t.name) != skip.end()) continue;
    Tensor x;
    EXPECT_TRUE(sf->readTensor(t.name, x, err)) << err;
    const int which = k++ % 2;
    wm[t.name] = which ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
    s[which].emplace_back(t.name, std::move(x));
  }
  EXPECT_TRUE(writeSafetensors(d + "/model-00001-of-00002.safetensors", s[0], err)) << err;
  if (writeSecond) {
    EXPECT_TRUE(writeSafetensors(d + "/model-00002-of-00002.safetensors", s[1], err)) << err;
  }
  json idx = {{"metadata", {{"total_size", 0}}}, {"weight_map", wm}};
  writeText(d + "/model.safetensors.index.json", idx.dump(1));
  return d;
}

TEST(Lfm2Model, ShardedHfCheckpointLoads) {
  SKIP_WITHOUT_LFM2_FIXTURES();
  TempDir tmp;
  for (const std::string &src : {denseDir() + "/hf", moeDir() + "/hf"}) {
    const std::string d = shardedCopy(tmp, fs::path(src).parent_path().filename().string(), src);
    Lfm2Model one = mustLoad(src), sh = mustLoad(d);
    expectSameConfig(one.config, sh.config);
    ASSERT_EQ(one.tensors.size(), sh.tensors.size());
    EXPECT_EQ(sh.files.size(), 2u); // every shard opened once
    for (const auto &[n, w] : one.tensors) {
      const WeightRef *o = sh.find(n);
      ASSERT_TRUE(o) << n;
      EXPECT_EQ(toF32(w), toF32(*o)) << n;
    }
  }
}

TEST(Lfm2Model, RejectsBadHfCheckpoints) {
  SKIP_WITHOUT_LFM2_FIXTURES();
  TempDir tmp;
  const std::string dense = denseDir() + "/hf", moe = moeDir() + "/hf";
  auto cfgOf = [](const std::string &d) { return d + "/config.json"; };
  std::string d;

  d = hfCopy(tmp, "kv3", dense, [](json &j) { j["num_key_value_heads"] = 3; });
  expectLoadError(d, {cfgOf(d), "(key 'num_key_value_heads')", "does not divide"});
  d = hfCopy(tmp, "heads3", dense, [](json &j) {
    j["num_attention_heads"] = 3;
    j["num_key_value_heads"] = 1;
    j.erase("head_dim");
  });
  expectLoadError(d, {cfgOf(d), "(key 'num_attention_heads')", "does not divide"});
  d = hfCopy(tmp, "oddhead", dense, [](json &j) { j["head_dim"] = 15; });
  expectLoadError(d, {cfgOf(d), "(key 'head_dim')", "head size 15 must be even"});
  d = hfCopy(tmp, "types", dense, [](json &j) { j["layer_types"].erase(5); });
  expectLoadError(d, {cfgOf(d), "(key 'layer_types')", "5 entries"});
  d = hfCopy(tmp, "mamba", dense, [](json &j) { j["layer_types"][1] = "mamba"; });
  expectLoadError(d, {cfgOf(d), "(key 'layer_types')", "'mamba'"});
  d = hfCopy(tmp, "idxs", dense, [](json &j) { j["full_attn_idxs"] = {2, 3}; });
  expectLoadError(d, {cfgOf(d), "(key 'full_attn_idxs')", "disagree"});
  d = hfCopy(tmp, "nohidden", dense, [](json &j) { j.erase("hidden_size"); });
  expectLoadError(d, {cfgOf(d), "missing config key (key 'hidden_size')"});
  d = hfCopy(tmp, "strhidden", dense, [](json &j) { j["hidden_size"] = "256"; });
  expectLoadError(d, {cfgOf(d), "(key 'hidden_size')", "expected an integer"});
  d = hfCopy(tmp, "vl", dense, [](json &j) { j["model_type"] = "lfm2_vl"; });
  expectLoadError(d, {cfgOf(d), "(key 'model_type')", "'lfm2_vl'"});
  d = hfCopy(tmp, "convbias", dense, [](json &j) { j["conv_bias"] = true; });
  expectLoadError(d, {cfgOf(d), "(key 'conv_bias')"});
  d = hfCopy(tmp, "hidden", dense, [](json &j) {
    j["hidden_size"] = 512;
    j["head_dim"] = 128;
  });
  expectLoadError(d, {d + "/model.safetensors", "(tensor 'model.embed_tokens.weight')",
                      "expected [1024,512]"});
  d = hfCopy(tmp, "untied", dense, [](json &j) {
    j["tie_word_embeddings"] = false;
    j["tie_embedding"] = false;
  });
  expectLoadError(d, {d + "/model.safetensors", "missing tensor (tensor 'lm_head.weight')"});
  d = hfCopy(tmp, "moetopk", moe, [](json &j) { j["num_experts_per_tok"] = 9; });
  expectLoadError(d, {cfgOf(d), "(key 'num_experts_per_tok')"});
  d = hfCopy(tmp, "moescale", moe, [](json &j) { j["routed_scaling_factor"] = -1.0; });
  expectLoadError(d, {cfgOf(d), "must be positive and finite (key 'routed_scaling_factor')"});
  d = hfCopy(tmp, "moescore", moe, [](json &j) { j["scoring_func"] = "tanh"; });
  expectLoadError(d, {cfgOf(d), "expected \"sigmoid\" or \"softmax\", got \"tanh\"",
                      "(key 'scoring_func')"});
  d = hfCopy(tmp, "moesoftmax", moe, [](json &j) { j["scoring_func"] = "softmax"; });
  EXPECT_EQ(mustLoad(d).config.expertScore, "softmax");
  d = hfCopy(tmp, "moenoexp", moe, [](json &j) { j.erase("num_experts"); });
  expectLoadError(d, {cfgOf(d), "(key 'num_experts')"});
  d = hfCopy(tmp, "moedense", moe, [](json &j) { j["num_dense_layers"] = 3; });
  expectLoadError(d, {d + "/model.safetensors", "missing tensor",
                      "(tensor 'model.layers.2.feed_forward.w1.weight')"});
  d = hfCopy(tmp, "moenobias", moe, [](json &j) { j["use_expert_bias"] = false; });
  expectLoadError(d, {d + "/model.safetensors", "unexpected tensor", "expert_bias')"});
  // A dense config over MoE weights.
  d = hfCopy(tmp, "densemoe", moe, [](json &j) { j["model_type"] = "lfm2"; });
  expectLoadError(d, {"model.safetensors", "(tensor 'model.layers.2.feed_forward.w1.weight')"});

  // Malformed JSON.
  d = tmp / "badjson";
  fs::create_directories(d);
  writeText(d + "/config.json", "{\"vocab_size\": 1024,,}");
  expectLoadError(d, {cfgOf(d), "malformed JSON"});
  expectLoadError(cfgOf(d), {cfgOf(d), "malformed JSON"});
  // No weights.
  d = tmp / "noweights";
  fs::create_directories(d);
  fs::copy_file(cfgOf(dense), cfgOf(d));
  expectLoadError(d, {d, "no model.safetensors"});
  // Shards: missing shard file, missing tensor, tensor absent from its shard,
  // malformed index.
  d = shardedCopy(tmp, "noshard", dense, {}, /*writeSecond=*/false);
  expectLoadError(d, {d + "/model-00002-of-00002.safetensors", "cannot open file",
                      "model.safetensors.index.json", "for tensor '"});
  d = shardedCopy(tmp, "missing", dense, {"model.layers.3.conv.in_proj.weight"});
  expectLoadError(d, {d + "/model.safetensors.index.json", "missing tensor",
                      "(tensor 'model.layers.3.conv.in_proj.weight')"});
  d = shardedCopy(tmp, "moemissing", moe, {"model.layers.4.feed_forward.experts.7.w2.weight"});
  expectLoadError(d, {"missing tensor", "(tensor 'model.layers.4.feed_forward.experts.7.w2.weight')"});
  d = shardedCopy(tmp, "wrongshard", dense);
  {
    json idx = json::parse(readText(d + "/model.safetensors.index.json"));
    idx["weight_map"]["model.embedding_norm.weight"] =
        idx["weight_map"]["model.embedding_norm.weight"] == "model-00001-of-00002.safetensors"
            ? "model-00002-of-00002.safetensors"
            : "model-00001-of-00002.safetensors";
    writeText(d + "/model.safetensors.index.json", idx.dump());
  }
  expectLoadError(d, {"not in this shard", "(tensor 'model.embedding_norm.weight')"});
  writeText(d + "/model.safetensors.index.json", "{\"weight_map\": [1,2]}");
  expectLoadError(d, {d + "/model.safetensors.index.json", "weight_map"});
  writeText(d + "/model.safetensors.index.json", "{\"weight_map\": {");
  expectLoadError(d, {d + "/model.safetensors.index.json", "malformed JSON"});
  // Wrong tensor shape in the weights (a transposed k_proj in a shard).
  {
    d = tmp / "transposed";
    fs::create_directories(d);
    fs::copy_file(cfgOf(dense), cfgOf(d));
    std::string err;
    auto sf = SafetensorsFile::open(dense + "/model.safetensors", err);
    ASSERT_TRUE(sf) << err;
    std::vector<std::pair<std::string, Tensor>> all;
    for (const auto &t : sf->tensors()) {
      Tensor x;
      ASSERT_TRUE(sf->readTensor(t.name, x, err));
      if (t.name == "model.layers.2.self_attn.k_proj.weight") std::swap(x.shape[0], x.shape[1]);
      all.emplace_back(t.name, std::move(x));
    }
    ASSERT_TRUE(writeSafetensors(d + "/model.safetensors", all, err)) << err;
    expectLoadError(d, {d + "/model.safetensors", "shape [256,128]", "expected [128,256]",
                        "(tensor 'model.layers.2.self_attn.k_proj.weight')"});
  }
  expectLoadError(tmp / "nothing", {tmp / "nothing", "no such file"});
  expectLoadError(tmp.path(), {tmp.path(), "no config.json"});
}

TEST(Lfm2Model, RejectsBadGgufCheckpoints) {
  SKIP_WITHOUT_LFM2_FIXTURES();
  TempDir tmp;
  const std::string src = denseDir() + "/lfm2-small-f32.gguf";
  const std::string msrc = moeDir() + "/lfm2moe-small-f32.gguf";
  const std::string p = tmp / "bad.gguf";
  std::string err;
  using KV = std::vector<std::pair<std::string, GgufValue>>;
  using TS = std::vector<std::pair<std::string, TensorSpec>>;
  auto setKey = [](KV &kv, const std::string &k, GgufValue v) {
    for (auto &e : kv)
      if (e.first == k) e.second = std::move(v);
  };
  auto dropKey = [](KV &kv, const std::string &k) {
    kv.erase(std::remove_if(kv.begin(), kv.end(), [&](auto &e) { return e.first == k; }), kv.end());
  };
  auto dropTensor = [](TS &ts, const std::string &n) {
    ts.erase(std::remove_if(ts.begin(), ts.end(), [&](auto &e) { return e.first == n; }), ts.end());
  };

  // Unchanged rewrite loads and is identical.
  ASSERT_TRUE(rewriteGguf(src, p, [](KV &, TS &) {}, err)) << err;
  {
    Lfm2Model a = mustLoad(src), b = mustLoad(p);
    expectSameConfig(a.config, b.config);
    for (const auto &[n, w] : a.tensors) EXPECT_EQ(toF32(w), toF32(*b.find(n))) << n;
  }

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &kv, TS &) {
    setKey(kv, "general.architecture", GgufValue::str("llama"));
  }, err)) << err;
  expectLoadError(p, {p, "unsupported architecture 'llama'", "(key 'general.architecture')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &kv, TS &) { dropKey(kv, "general.architecture"); }, err));
  expectLoadError(p, {p, "missing metadata (key 'general.architecture')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &kv, TS &) { dropKey(kv, "lfm2.shortconv.l_cache"); }, err));
  expectLoadError(p, {p, "(key 'lfm2.shortconv.l_cache')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &kv, TS &) {
    setKey(kv, "lfm2.attention.head_count_kv", GgufValue::arrayI32({0, 0, 2, 0, 2}));
  }, err));
  expectLoadError(p, {p, "5 entries for 6 layers", "(key 'lfm2.attention.head_count_kv')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &kv, TS &) {
    setKey(kv, "lfm2.attention.head_count_kv", GgufValue::arrayI32({0, 0, 3, 0, 3, 0}));
  }, err));
  expectLoadError(p, {p, "does not divide", "(key 'lfm2.attention.head_count_kv')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &kv, TS &) {
    setKey(kv, "lfm2.attention.head_count_kv", GgufValue::arrayI32({0, 0, 2, 0, 1, 0}));
  }, err));
  expectLoadError(p, {p, "per-layer values differ", "(key 'lfm2.attention.head_count_kv')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &kv, TS &) {
    setKey(kv, "lfm2.attention.head_count", GgufValue::u32(3));
  }, err));
  expectLoadError(p, {p, "does not divide", "(key 'lfm2.attention.head_count')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &kv, TS &) {
    setKey(kv, "lfm2.block_count", GgufValue::str("six"));
  }, err));
  expectLoadError(p, {p, "expected an integer", "(key 'lfm2.block_count')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &kv, TS &) {
    setKey(kv, "lfm2.feed_forward_length", GgufValue::u32(512));
  }, err));
  expectLoadError(p, {p, "does not match the config", "(tensor 'blk.0.ffn_gate.weight')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &, TS &ts) {
    dropTensor(ts, "blk.3.shortconv.in_proj.weight");
  }, err));
  expectLoadError(p, {p, "missing tensor (tensor 'blk.3.shortconv.in_proj.weight')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &, TS &ts) {
    for (auto &t : ts)
      if (t.first == "blk.2.attn_k.weight") std::swap(t.second.ne[0], t.second.ne[1]);
  }, err));
  expectLoadError(p, {p, "shape (ggml ne) [128,256]", "expected (ggml ne) [256,128]",
                      "(tensor 'blk.2.attn_k.weight')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &, TS &ts) {
    ts.push_back({"blk.0.attn_q.weight", {{256, 256}, GgmlType::F32, "blk.2.attn_q.weight"}});
  }, err));
  expectLoadError(p, {p, "unexpected tensor", "(tensor 'blk.0.attn_q.weight')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &, TS &ts) {
    ts.push_back({"blk.0.mystery.weight", {{256}, GgmlType::F32, "blk.0.attn_norm.weight"}});
  }, err));
  expectLoadError(p, {p, "unexpected tensor", "(tensor 'blk.0.mystery.weight')"});

  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &, TS &ts) {
    ts.push_back({"output_norm.weight", {{256}, GgmlType::F32, "token_embd_norm.weight"}});
  }, err));
  expectLoadError(p, {p, "given twice", "(tensor 'output_norm.weight')"});

  // An untied head (output.weight) is accepted as lm_head.weight.
  ASSERT_TRUE(rewriteGguf(src, p, [&](KV &, TS &ts) {
    ts.push_back({"output.weight", {{256, 1024}, GgmlType::F32, "token_embd.weight"}});
  }, err));
  {
    Lfm2Model m = mustLoad(p);
    ASSERT_TRUE(m.find("lm_head.weight"));
    EXPECT_EQ(m.find("lm_head.weight")->shape, (std::vector<int64_t>{1024, 256}));
  }

  // File-level corruption reaches the caller as one line naming the file.
  std::vector<uint8_t> good = readBytes(src);
  {
    std::vector<uint8_t> b(good.begin(), good.begin() + 2000);
    writeBytes(p, b);
    expectLoadError(p, {p, "past the end", "(key 'tokenizer.ggml."});
  }
  {
    std::vector<uint8_t> b = good;
    b[1] = 'X';
    writeBytes(p, b);
    expectLoadError(p, {p, "bad magic"});
  }
  {
    std::vector<uint8_t> b = good;
    b.resize(b.size() - 100);
    writeBytes(p, b);
    expectLoadError(p, {p, "runs past the end of the file", "(tensor 'token_embd_norm.weight')"});
  }
  {
    std::vector<uint8_t> b = good;
    put32(b, typeFieldOf(b, "blk.1.ffn_up.weight"), 11);
    writeBytes(p, b);
    expectLoadError(p, {p, "unsupported tensor type 11 (Q3_K)", "(tensor 'blk.1.ffn_up.weight')"});
  }
  {
    std::vector<uint8_t> b = good;
    put64(b, typeFieldOf(b, "blk.1.ffn_up.weight") + 4, uint64_t(1) << 40);
    writeBytes(p, b);
    expectLoadError(p, {p, "runs past the end of the file", "(tensor 'blk.1.ffn_up.weight')"});
  }
  {
    std::vector<uint8_t> b = good;
    put32(b, 4, 4);
    writeBytes(p, b);
    expectLoadError(p, {p, "unsupported GGUF version 4"});
  }

  // MoE: gating function, missing expert tensor, stacked shape.
  // gating 1 (softmax) is read, 3 is not a gating function
  ASSERT_TRUE(rewriteGguf(msrc, p, [&](KV &kv, TS &) {
    setKey(kv, "lfm2moe.expert_gating_func", GgufValue::u32(1));
  }, err));
  EXPECT_EQ(mustLoad(p).config.expertScore, "softmax");
  EXPECT_EQ(mustLoad(msrc).config.expertScore, "sigmoid");
  ASSERT_TRUE(rewriteGguf(msrc, p, [&](KV &kv, TS &) {
    setKey(kv, "lfm2moe.expert_gating_func", GgufValue::u32(3));
  }, err));
  expectLoadError(p, {p, "expert gating function 3 is not supported",
                      "(key 'lfm2moe.expert_gating_func')"});
  ASSERT_TRUE(rewriteGguf(msrc, p, [&](KV &kv, TS &) { dropKey(kv, "lfm2moe.expert_count"); }, err));
  expectLoadError(p, {p, "missing metadata (key 'lfm2moe.expert_count')"});
  ASSERT_TRUE(rewriteGguf(msrc, p, [&](KV &, TS &ts) {
    dropTensor(ts, "blk.4.ffn_down_exps.weight");
  }, err));
  expectLoadError(p, {p, "missing tensor (tensor 'blk.4.ffn_down_exps.weight')"});
  ASSERT_TRUE(rewriteGguf(msrc, p, [&](KV &, TS &ts) {
    dropTensor(ts, "blk.5.exp_probs_b.bias");
  }, err));
  expectLoadError(p, {p, "missing tensor (tensor 'blk.5.exp_probs_b.bias')"});
  ASSERT_TRUE(rewriteGguf(msrc, p, [&](KV &, TS &ts) {
    for (auto &t : ts)
      if (t.first == "blk.3.ffn_up_exps.weight") t.second.ne = {128, 8, 96};
  }, err));
  expectLoadError(p, {p, "expected (ggml ne) [128,96,8]", "(tensor 'blk.3.ffn_up_exps.weight')"});
  // MoE without any expert bias: accepted, useExpertBias false.
  ASSERT_TRUE(rewriteGguf(msrc, p, [&](KV &, TS &ts) {
    for (int i = 2; i < 6; ++i) dropTensor(ts, "blk." + std::to_string(i) + ".exp_probs_b.bias");
  }, err));
  {
    Lfm2Model m = mustLoad(p);
    EXPECT_FALSE(m.config.useExpertBias);
    EXPECT_FALSE(m.find("model.layers.2.feed_forward.expert_bias"));
  }
}

TEST(Lfm2Model, ToF32HandlesEveryTypeAndBadRefs) {
  const float vals[4] = {1.f, -2.5f, 0.f, 3.25f};
  WeightRef w;
  w.shape = {4};
  w.data = vals;
  w.bytes = sizeof vals;
  EXPECT_EQ(toF32(w), std::vector<float>(vals, vals + 4));
  w.bytes = 8; // inconsistent ref: refused, no read past the buffer
  EXPECT_TRUE(toF32(w).empty());
  uint16_t h[4], b[4];
  for (int i = 0; i < 4; ++i) h[i] = floatToHalf(vals[i]), b[i] = floatToBf16(vals[i]);
  w = WeightRef();
  w.shape = {2, 2};
  w.type = WeightType::F16;
  w.data = h;
  w.bytes = sizeof h;
  EXPECT_EQ(toF32(w), std::vector<float>(vals, vals + 4));
  w.type = WeightType::BF16;
  w.data = b;
  EXPECT_EQ(toF32(w), std::vector<float>(vals, vals + 4));
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[i] = (i - 32) / 8.f;
  std::vector<uint8_t> q(2 * 34);
  quantizeQ8_0(x.data(), 64, q.data());
  w.type = WeightType::Q8_0;
  w.shape = {2, 32};
  w.data = q.data();
  w.bytes = q.size();
  std::vector<float> y = toF32(w);
  ASSERT_EQ(y.size(), 64u);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(y[i], x[i], 4.f / 127.f) << i;
  w.shape = {3, 10}; // not whole blocks
  EXPECT_TRUE(toF32(w).empty());
  w.data = nullptr;
  EXPECT_TRUE(toF32(w).empty());
  EXPECT_STREQ(weightTypeName(WeightType::Q8_0), "Q8_0");
  EXPECT_STREQ(weightTypeName(WeightType::BF16), "BF16");
}

//===----------------------------------------------------------------------===//
// liquid-lfm2-gen
//===----------------------------------------------------------------------===//

std::string genTool() {
  if (const char *e = std::getenv("LIQUID_LFM2_GEN"))
    if (*e) return e;
#ifdef LIQUID_LFM2_GEN
  return LIQUID_LFM2_GEN;
#else
  return "";
#endif
}

#define SKIP_WITHOUT_GEN()                                                     \
  do {                                                                         \
    if (genTool().empty() || !fs::exists(genTool())) {                         \
      std::fprintf(stderr, "\n*** WARNING: liquid-lfm2-gen not found ('%s') -- " \
                           "generator tests are SKIPPED. Set LIQUID_LFM2_GEN. ***\n", \
                   genTool().c_str());                                         \
      GTEST_SKIP() << "liquid-lfm2-gen not found (set LIQUID_LFM2_GEN)";       \
    }                                                                          \
  } while (0)

int runGen(const std::string &args, std::string *out = nullptr) {
  const std::string cmd = "'" + genTool() + "' " + args + " 2>&1";
  std::FILE *p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string o;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) o.append(buf, n);
  int st = pclose(p);
  if (out) *out = o;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(Lfm2Gen, TinyDenseCheckpointRoundTrips) {
  SKIP_WITHOUT_GEN();
  TempDir tmp;
  const std::string d = tmp / "dense";
  std::string out;
  ASSERT_EQ(runGen("--preset small --hidden 64 --heads 4 --kv-heads 2 --ffn 96 --layers 4 "
                   "--attn-layers 1,3 --vocab 300 --conv-l 4 --seed 7 --out '" + d + "'",
                   &out), 0) << out;
  Lfm2Model hf = mustLoad(d), gg = mustLoad(d + "/model-f32.gguf");
  const Lfm2Config &c = hf.config;
  EXPECT_EQ(c.hidden, 64);
  EXPECT_EQ(c.layers, 4);
  EXPECT_EQ(c.vocab, 300);
  EXPECT_EQ(c.ffn, 96);
  EXPECT_EQ(c.convL, 4);
  EXPECT_EQ(c.headDim, 16);
  EXPECT_EQ(c.isAttention, (std::vector<bool>{false, true, false, true}));
  expectSameConfig(hf.config, gg.config);
  compareWithHf(hf, gg);
  // Same weights, same function.
  RefModel a(hf), b(gg);
  EXPECT_LT(maxDiff(a.forward({1, 5, 299, 42}), b.forward({1, 5, 299, 42})), 1e-9);
  // Deterministic in the seed.
  const std::string d2 = tmp / "dense2";
  ASSERT_EQ(runGen("--preset small --hidden 64 --heads 4 --kv-heads 2 --ffn 96 --layers 4 "
                   "--attn-layers 1,3 --vocab 300 --conv-l 4 --seed 7 --gguf none --quiet --out '" +
                   d2 + "'"), 0);
  EXPECT_EQ(readText(d + "/model.safetensors"), readText(d2 + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(d2 + "/model-f32.gguf"));
}

TEST(Lfm2Gen, TinyMoeCheckpointRoundTripsInEveryEncoding) {
  SKIP_WITHOUT_GEN();
  TempDir tmp;
  std::string out;
  const std::string base = "--preset moe-small --hidden 64 --heads 2 --kv-heads 1 --ffn 64 "
                           "--expert-ffn 32 --experts 4 --top-k 2 --dense-layers 1 --layers 3 "
                           "--attn-layers 2 --vocab 128 --seed 11 ";
  for (const char *enc : {"f32", "f16", "q8_0"}) {
    SCOPED_TRACE(enc);
    const std::string d = tmp / enc;
    ASSERT_EQ(runGen(base + "--gguf " + enc + " --out '" + d + "'", &out), 0) << out;
    Lfm2Model hf = mustLoad(d), gg = mustLoad(d + "/model-" + enc + ".gguf");
    EXPECT_EQ(hf.config.arch, "lfm2moe");
    EXPECT_EQ(hf.config.experts, 4);
    EXPECT_EQ(hf.config.expertFfn, 32);
    EXPECT_EQ(hf.config.denseLayers, 1);
    expectSameConfig(hf.config, gg.config);
    compareWithHf(hf, gg);
    const WeightRef *w = gg.find("model.layers.1.feed_forward.experts.w1.weight");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->shape, (std::vector<int64_t>{4, 32, 64}));
    EXPECT_EQ(w->type, std::string(enc) == "f32"   ? WeightType::F32
                       : std::string(enc) == "f16" ? WeightType::F16
                                                   : WeightType::Q8_0);
    EXPECT_EQ(gg.find("model.layers.1.feed_forward.gate.weight")->type, WeightType::F32);
    EXPECT_EQ(gg.find("model.layers.0.conv.conv.weight")->type, WeightType::F32);
    if (std::string(enc) == "f32") {
      RefModel a(hf), b(gg);
      EXPECT_LT(maxDiff(a.forward({3, 1, 100}), b.forward({3, 1, 100})), 1e-9);
    }
  }
  // bf16 HF weights, untied head, no expert bias.
  const std::string d = tmp / "bf16";
  ASSERT_EQ(runGen(base + "--hf-dtype bf16 --untied --no-expert-bias --out '" + d + "'", &out), 0)
      << out;
  Lfm2Model hf = mustLoad(d), gg = mustLoad(d + "/model-f32.gguf");
  EXPECT_EQ(hf.find("model.layers.0.feed_forward.w1.weight")->type, WeightType::BF16);
  EXPECT_TRUE(hf.find("lm_head.weight"));
  EXPECT_TRUE(gg.find("lm_head.weight"));
  EXPECT_FALSE(hf.config.useExpertBias);
  expectSameConfig(hf.config, gg.config);
  // The GGUF holds the float32 draw; HF its bf16 rounding.
  for (const auto &[n, w] : hf.tensors) {
    std::vector<float> a = toF32(w), b = hfValuesFor(gg, n, 4);
    if (b.empty()) { // per-expert HF name: slice the stacked GGUF tensor
      size_t at = n.find(".experts.");
      ASSERT_NE(at, std::string::npos) << n;
      const std::string pre = n.substr(0, at + 9), rest = n.substr(at + 9);
      const int e = std::stoi(rest);
      const std::string kind = rest.substr(rest.find('.') + 1);
      std::vector<float> all = toF32(*gg.find(pre + kind));
      b.assign(all.begin() + e * a.size(), all.begin() + (e + 1) * a.size());
    }
    ASSERT_EQ(a.size(), b.size()) << n;
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(a[i], bf16ToFloat(floatToBf16(b[i]))) << n << " " << i;
  }
}

TEST(Lfm2Gen, CommandLineErrors) {
  SKIP_WITHOUT_GEN();
  TempDir tmp;
  std::string out;
  EXPECT_EQ(runGen("--help", &out), 0);
  EXPECT_NE(out.find("--preset"), std::string::npos);
  auto bad = [&](const std::string &args, const std::string &needle) {
    EXPECT_EQ(runGen(args, &out), 2) << args;
    EXPECT_NE(out.find(needle), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  };
  const std::string o = " --out '" + tmp.path() + "/x'";
  bad("--preset nope" + o, "unknown preset 'nope'");
  bad("--preset small", "missing --out");
  bad("--preset small --bogus" + o, "unknown option '--bogus'");
  bad("--preset small --layers 3" + o, "attention layer 4");
  bad("--preset small --kv-heads 3" + o, "--kv-heads 3");
  bad("--preset small --hidden 100 --heads 3" + o, "--heads 3");
  bad("--preset small --experts 4" + o, "MoE preset");
  bad("--preset moe-small --top-k 9" + o, "--top-k 9");
  bad("--preset small --gguf q4_k" + o, "--gguf");
  bad("--preset small --hidden abc" + o, "--hidden");
  EXPECT_FALSE(fs::exists(tmp.path() + "/x"));
}

} // namespace
