//===- Lfm2Model.cpp - LFM2 / LFM2-MoE checkpoints (HF and GGUF) ----------===//
//
// See liquid/Frontend/Lfm2Model.h and docs/lfm2-checkpoints.md.
//
// Loading is in three steps: (1) read the config (config.json or GGUF
// metadata) into an Lfm2Config, checking it for consistency; (2) collect the
// file's tensors under their canonical HF names (GGUF names translated,
// shapes reversed from ggml order); (3) check that exactly the tensors the
// config implies are there, with the right shapes, and move them into the
// model. Weights stay in the memory-mapped files. Nothing here throws.
//
// Canonical names and shapes (torch order) in Lfm2Model::tensors:
//  * HF names as in transformers' Lfm2 / Lfm2Moe state dicts; GGUF names are
//    mapped to them (token_embd -> model.embed_tokens, token_embd_norm or
//    output_norm -> model.embedding_norm, blk.{i}.attn_norm ->
//    model.layers.{i}.operator_norm, shortconv.* -> conv.*, attn_q/k/v/output
//    -> self_attn.q/k/v/out_proj, attn_q/k_norm -> self_attn.q/k_layernorm,
//    ffn_gate/up/down -> feed_forward.w1/w3/w2, ffn_gate_inp ->
//    feed_forward.gate, exp_probs_b.bias -> feed_forward.expert_bias,
//    output -> lm_head).
//  * The short-conv kernel is [hidden, L] in both formats (HF [hidden,1,L]).
//  * MoE experts keep the file's layout: HF per-expert tensors stay separate,
//    model.layers.{i}.feed_forward.experts.{e}.w1/w3/w2.weight ([I,H],
//    [I,H], [H,I]); GGUF stacked tensors ffn_gate/up/down_exps become ONE
//    WeightRef each, model.layers.{i}.feed_forward.experts.w1/w3/w2.weight,
//    torch shape [E, I, H] / [E, I, H] / [E, H, I] (expert e = slice e).
//  * "lm_head.weight" is present iff the head is untied (HF:
//    tie_word_embeddings / tie_embedding false; GGUF: an output.weight
//    tensor); a tied HF checkpoint that also stores lm_head.weight has it
//    dropped. Otherwise the head is model.embed_tokens.weight.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Lfm2Model.h"

#include "liquid/Frontend/Gguf.h"
#include "liquid/Frontend/Safetensors.h"

#include "FileUtil.h"
#include "JsonFile.h"
#include "Lfm2Config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace liquid {

/// Owns one memory-mapped checkpoint file (safetensors or GGUF).
class MappedFile {
public:
  std::unique_ptr<SafetensorsFile> st;
  std::unique_ptr<GgufFile> gguf;
};

const char *weightTypeName(WeightType t) {
  switch (t) {
  case WeightType::F32: return "F32";
  case WeightType::F16: return "F16";
  case WeightType::BF16: return "BF16";
  case WeightType::Q8_0: return "Q8_0";
  case WeightType::Q4_0: return "Q4_0";
  case WeightType::Q4_1: return "Q4_1";
  case WeightType::Q5_0: return "Q5_0";
  case WeightType::Q5_1: return "Q5_1";
  case WeightType::Q4_K: return "Q4_K";
  case WeightType::Q5_K: return "Q5_K";
  case WeightType::Q6_K: return "Q6_K";
  }
  return "?";
}

bool isWidenOnly(WeightType t) {
  return t != WeightType::F32 && t != WeightType::F16 && t != WeightType::BF16 &&
         t != WeightType::Q8_0;
}

namespace {
/// The GGUF block format of a weight type (F32 for none).
GgmlType ggmlOf(WeightType t) {
  switch (t) {
  case WeightType::F32: return GgmlType::F32;
  case WeightType::F16: return GgmlType::F16;
  case WeightType::BF16: return GgmlType::BF16;
  case WeightType::Q8_0: return GgmlType::Q8_0;
  case WeightType::Q4_0: return GgmlType::Q4_0;
  case WeightType::Q4_1: return GgmlType::Q4_1;
  case WeightType::Q5_0: return GgmlType::Q5_0;
  case WeightType::Q5_1: return GgmlType::Q5_1;
  case WeightType::Q4_K: return GgmlType::Q4_K;
  case WeightType::Q5_K: return GgmlType::Q5_K;
  case WeightType::Q6_K: return GgmlType::Q6_K;
  }
  return GgmlType::F32;
}
} // namespace

std::vector<float> toF32(const WeightRef &w) {
  try {
    std::vector<float> out;
    if (!w.data) return out;
    int64_t n = w.numel();
    if (n < 0) return out;
    GgmlType gt = ggmlOf(w.type);
    const int64_t bs = ggmlBlockSize(gt);
    if (n % bs != 0) return out;
    size_t need = static_cast<size_t>(n / bs) * ggmlBlockBytes(gt);
    if (need > w.bytes) return out; // inconsistent ref: refuse to read past it
    out.resize(static_cast<size_t>(n));
    decodeToF32(gt, w.data, out.size(), out.data());
    return out;
  } catch (...) {
    return {};
  }
}

void dropPages(const WeightRef &w) {
  // Every checkpoint is mapped read-only (FileUtil.h's ReadOnlyMapping), so
  // dropped pages are read from the file again when touched: no data is lost.
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  if (!w.data || w.bytes == 0) return;
  uintptr_t begin = reinterpret_cast<uintptr_t>(w.data) & ~(page - 1);
  uintptr_t end = reinterpret_cast<uintptr_t>(w.data) + w.bytes;
  madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

bool toIntBlocks(const WeightRef &w, IntBlocks &out) {
  try {
    out = IntBlocks();
    int64_t n = w.numel();
    GgmlType gt = ggmlOf(w.type);
    const int64_t bs = ggmlBlockSize(gt);
    if (!w.data || n < 0 || n % bs != 0 ||
        static_cast<size_t>(n / bs) * ggmlBlockBytes(gt) > w.bytes)
      return false;
    return decomposeBlocks(gt, w.data, static_cast<size_t>(n), out);
  } catch (...) {
    out = IntBlocks();
    return false;
  }
}

namespace {

using json = nlohmann::json;

using detail::joinPath;
using detail::parseGgufConfig;
using detail::parseHfConfig;
using detail::keySuffix;
using detail::oneLine;
using detail::tensorSuffix;
using detail::isDir;
using detail::isFile;

/// Names are shown verbatim; loadLfm2Model makes the whole message one line.
constexpr detail::NameStyle kVerbatim{false};

bool startsWithGguf(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  char m[4] = {};
  return in.read(m, 4) && std::memcmp(m, "GGUF", 4) == 0;
}

//===----------------------------------------------------------------------===//
// GGUF <-> canonical names
//===----------------------------------------------------------------------===//

struct NamePair {
  const char *gguf, *hf;
};
constexpr NamePair kLayerNames[] = {
    {"attn_norm.weight", "operator_norm.weight"},
    {"ffn_norm.weight", "ffn_norm.weight"},
    {"shortconv.conv.weight", "conv.conv.weight"},
    {"shortconv.in_proj.weight", "conv.in_proj.weight"},
    {"shortconv.out_proj.weight", "conv.out_proj.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.out_proj.weight"},
    {"attn_q_norm.weight", "self_attn.q_layernorm.weight"},
    {"attn_k_norm.weight", "self_attn.k_layernorm.weight"},
    {"ffn_gate.weight", "feed_forward.w1.weight"},
    {"ffn_up.weight", "feed_forward.w3.weight"},
    {"ffn_down.weight", "feed_forward.w2.weight"},
    {"ffn_gate_inp.weight", "feed_forward.gate.weight"},
    {"exp_probs_b.bias", "feed_forward.expert_bias"},
    {"ffn_gate_exps.weight", "feed_forward.experts.w1.weight"},
    {"ffn_up_exps.weight", "feed_forward.experts.w3.weight"},
    {"ffn_down_exps.weight", "feed_forward.experts.w2.weight"},
};
constexpr NamePair kTopNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"token_embd_norm.weight", "model.embedding_norm.weight"},
    {"output_norm.weight", "model.embedding_norm.weight"}, // older converters
    {"output.weight", "lm_head.weight"},
};

/// Parses "<prefix><decimal>.<rest>"; false if it does not match.
bool splitLayer(const std::string &n, const std::string &prefix, int64_t &layer,
                std::string &rest) {
  if (n.compare(0, prefix.size(), prefix) != 0) return false;
  size_t i = prefix.size(), j = i;
  while (j < n.size() && j - i < 7 && n[j] >= '0' && n[j] <= '9') ++j;
  if (j == i || j >= n.size() || n[j] != '.') return false;
  if (n[i] == '0' && j - i > 1) return false; // no leading zeros
  layer = std::stoll(n.substr(i, j - i));
  rest = n.substr(j + 1);
  return true;
}

/// GGUF name -> canonical HF name ("" if unknown).
std::string canonicalFromGguf(const std::string &n) {
  for (const auto &p : kTopNames)
    if (n == p.gguf) return p.hf;
  int64_t l;
  std::string rest;
  if (!splitLayer(n, "blk.", l, rest)) return "";
  for (const auto &p : kLayerNames)
    if (rest == p.gguf)
      return "model.layers." + std::to_string(l) + "." + p.hf;
  return "";
}

/// Canonical HF name -> GGUF name (for messages).
std::string ggufFromCanonical(const std::string &n) {
  for (const auto &p : kTopNames)
    if (n == p.hf) return p.gguf;
  int64_t l;
  std::string rest;
  if (splitLayer(n, "model.layers.", l, rest))
    for (const auto &p : kLayerNames)
      if (rest == p.hf) return "blk." + std::to_string(l) + "." + p.gguf;
  return n;
}

//===----------------------------------------------------------------------===//
// Tensor collection and validation
//===----------------------------------------------------------------------===//

struct Entry {
  WeightRef ref;
  std::string nameInFile;
  bool used = false;
};

struct Collected {
  bool gguf = false;
  std::string primaryFile; ///< named for missing tensors
  std::map<std::string, Entry> t;

  std::string display(const std::string &canon) const {
    auto it = t.find(canon);
    if (it != t.end()) return it->second.nameInFile;
    return gguf ? ggufFromCanonical(canon) : canon;
  }
  std::string fileOf(const std::string &canon) const {
    auto it = t.find(canon);
    return it != t.end() ? it->second.ref.file : primaryFile;
  }
  std::string shapeStr(const std::vector<int64_t> &torch) const {
    if (!gguf) return formatShape(torch);
    return "(ggml ne) " +
           formatShape(std::vector<int64_t>(torch.rbegin(), torch.rend()));
  }
};

struct Validator {
  Collected &col;
  Lfm2Model &out;
  std::string &err;

  bool has(const std::string &n) const { return col.t.count(n) != 0; }
  const Entry *peek(const std::string &n) const {
    auto it = col.t.find(n);
    return it == col.t.end() ? nullptr : &it->second;
  }
  bool missing(const std::string &n) {
    err = col.primaryFile + ": missing tensor" +
          tensorSuffix(col.display(n), kVerbatim);
    return false;
  }
  /// Requires tensor `n` with torch shape `shape`; moves it into the model.
  /// `alt`: an alternative on-disk shape with the same bytes (normalized to
  /// `shape`).
  bool expect(const std::string &n, const std::vector<int64_t> &shape,
              const std::vector<int64_t> &alt = {}) {
    auto it = col.t.find(n);
    if (it == col.t.end()) return missing(n);
    Entry &e = it->second;
    if (e.ref.shape != shape && (alt.empty() || e.ref.shape != alt)) {
      err = e.ref.file + ": shape " + col.shapeStr(e.ref.shape) +
            " does not match the config, expected " + col.shapeStr(shape) +
            tensorSuffix(e.nameInFile, kVerbatim);
      return false;
    }
    e.used = true;
    WeightRef r = e.ref;
    r.name = n;
    r.shape = shape;
    out.tensors[n] = std::move(r);
    return true;
  }
  /// Marks a tolerated tensor as used without keeping it.
  void drop(const std::string &n) {
    auto it = col.t.find(n);
    if (it != col.t.end()) it->second.used = true;
  }
  /// First dimension of a 2-D tensor, or 0.
  int64_t rows(const std::string &n, size_t dim = 0, size_t rank = 2) const {
    const Entry *e = peek(n);
    return e && e->ref.shape.size() == rank ? e->ref.shape[dim] : 0;
  }
};

bool validate(Collected &col, Lfm2Config &c, bool tied, int64_t ffnMeta,
              Lfm2Model &out, std::string &err) {
  Validator v{col, out, err};
  const int64_t H = c.hidden, V = c.vocab, L = c.convL;
  const int64_t qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim;
  const bool moe = c.arch == "lfm2moe";
  auto layer = [](int64_t i, const char *rest) {
    return "model.layers." + std::to_string(i) + "." + rest;
  };
  auto isDense = [&](int64_t i) { return !moe || i < c.denseLayers; };

  // Widths: dense FFN from the first dense layer's w1 (GGUF: the metadata
  // value when present), expert FFN from the config or the first expert w1.
  int64_t firstDense = -1, firstMoe = -1;
  for (int64_t i = 0; i < c.layers; ++i) {
    if (isDense(i) && firstDense < 0) firstDense = i;
    if (!isDense(i) && firstMoe < 0) firstMoe = i;
  }
  auto notMatrix = [&](const std::string &n, const char *want) {
    const Entry *e = v.peek(n);
    err = e->ref.file + ": shape " + col.shapeStr(e->ref.shape) + " is not a " +
          want + tensorSuffix(e->nameInFile, kVerbatim);
    return false;
  };
  if (firstDense >= 0) {
    const std::string w1 = layer(firstDense, "feed_forward.w1.weight");
    if (!v.has(w1)) return v.missing(w1);
    if (v.rows(w1) == 0) return notMatrix(w1, "[ffn, hidden] matrix");
    c.ffn = ffnMeta > 0 ? ffnMeta : v.rows(w1);
  } else if (ffnMeta > 0) {
    c.ffn = ffnMeta;
  }
  bool stacked = false;
  if (firstMoe >= 0) {
    const std::string sw1 = layer(firstMoe, "feed_forward.experts.w1.weight");
    const std::string ew1 = layer(firstMoe, "feed_forward.experts.0.w1.weight");
    stacked = col.gguf || v.has(sw1);
    if (c.expertFfn == 0) {
      const std::string &w1 = stacked ? sw1 : ew1;
      if (!v.has(w1)) return v.missing(w1);
      c.expertFfn = stacked ? v.rows(w1, 1, 3) : v.rows(w1);
      if (c.expertFfn == 0)
        return notMatrix(w1, stacked ? "[experts, ffn, hidden] tensor"
                                     : "[ffn, hidden] matrix");
    }
    if (col.gguf) // GGUF: the expert bias is optional; its presence decides
      c.useExpertBias = v.has(layer(firstMoe, "feed_forward.expert_bias"));
  }

  if (!v.expect("model.embed_tokens.weight", {V, H}) ||
      !v.expect("model.embedding_norm.weight", {H}))
    return false;
  if (col.gguf ? v.has("lm_head.weight") : !tied) {
    if (!v.expect("lm_head.weight", {V, H})) return false;
  } else {
    v.drop("lm_head.weight"); // tied: the head is embed_tokens
  }

  for (int64_t i = 0; i < c.layers; ++i) {
    if (!v.expect(layer(i, "operator_norm.weight"), {H}) ||
        !v.expect(layer(i, "ffn_norm.weight"), {H}))
      return false;
    if (c.isAttention[static_cast<size_t>(i)]) {
      if (!v.expect(layer(i, "self_attn.q_proj.weight"), {qDim, H}) ||
          !v.expect(layer(i, "self_attn.k_proj.weight"), {kvDim, H}) ||
          !v.expect(layer(i, "self_attn.v_proj.weight"), {kvDim, H}) ||
          !v.expect(layer(i, "self_attn.out_proj.weight"), {H, qDim}) ||
          !v.expect(layer(i, "self_attn.q_layernorm.weight"), {c.headDim}) ||
          !v.expect(layer(i, "self_attn.k_layernorm.weight"), {c.headDim}))
        return false;
    } else {
      if (!v.expect(layer(i, "conv.in_proj.weight"), {3 * H, H}) ||
          !v.expect(layer(i, "conv.conv.weight"), {H, L}, {H, 1, L}) ||
          !v.expect(layer(i, "conv.out_proj.weight"), {H, H}))
        return false;
    }
    if (isDense(i)) {
      if (!v.expect(layer(i, "feed_forward.w1.weight"), {c.ffn, H}) ||
          !v.expect(layer(i, "feed_forward.w3.weight"), {c.ffn, H}) ||
          !v.expect(layer(i, "feed_forward.w2.weight"), {H, c.ffn}))
        return false;
      continue;
    }
    const int64_t E = c.experts, I = c.expertFfn;
    if (!v.expect(layer(i, "feed_forward.gate.weight"), {E, H})) return false;
    if (c.useExpertBias) {
      if (!v.expect(layer(i, "feed_forward.expert_bias"), {E})) return false;
    }
    if (stacked) {
      if (!v.expect(layer(i, "feed_forward.experts.w1.weight"), {E, I, H}) ||
          !v.expect(layer(i, "feed_forward.experts.w3.weight"), {E, I, H}) ||
          !v.expect(layer(i, "feed_forward.experts.w2.weight"), {E, H, I}))
        return false;
    } else {
      for (int64_t e = 0; e < E; ++e) {
        const std::string pe =
            "feed_forward.experts." + std::to_string(e) + ".";
        if (!v.expect(layer(i, (pe + "w1.weight").c_str()), {I, H}) ||
            !v.expect(layer(i, (pe + "w3.weight").c_str()), {I, H}) ||
            !v.expect(layer(i, (pe + "w2.weight").c_str()), {H, I}))
          return false;
      }
    }
  }
  for (const auto &kv : col.t)
    if (!kv.second.used) {
      err = kv.second.ref.file + ": unexpected tensor (not part of an " +
            c.arch + " model with this config)" +
            tensorSuffix(kv.second.nameInFile, kVerbatim);
      return false;
    }
  return true;
}

//===----------------------------------------------------------------------===//
// HF folder
//===----------------------------------------------------------------------===//

bool weightTypeOf(DType d, WeightType &t) {
  switch (d) {
  case DType::F32: t = WeightType::F32; return true;
  case DType::F16: t = WeightType::F16; return true;
  case DType::BF16: t = WeightType::BF16; return true;
  default: return false;
  }
}

bool addSafetensor(const std::shared_ptr<MappedFile> &mf, const TensorInfo &ti,
                   Collected &col, std::string &err) {
  const SafetensorsFile &sf = *mf->st;
  WeightRef r;
  if (!weightTypeOf(ti.dtype, r.type)) {
    err = sf.path() + ": dtype " + dtypeName(ti.dtype) +
          " is not supported (F32, F16, BF16)" +
          tensorSuffix(ti.name, kVerbatim);
    return false;
  }
  r.name = ti.name;
  r.file = sf.path();
  r.shape = ti.shape;
  r.data = sf.rawData(ti);
  r.bytes = static_cast<size_t>(ti.nbytes());
  Entry e;
  e.ref = std::move(r);
  e.nameInFile = ti.name;
  col.t[ti.name] = std::move(e);
  return true;
}

bool loadHf(const std::string &dir, const std::string &configPath,
            Lfm2Model &m, std::string &err) {
  json j;
  if (!detail::readJsonObject(configPath, j, err)) return false;
  bool tied = true;
  if (!parseHfConfig(j, configPath, m.config, tied, err)) return false;

  Collected col;
  const std::string single = joinPath(dir, "model.safetensors");
  const std::string index = joinPath(dir, "model.safetensors.index.json");
  if (isFile(single)) {
    auto mf = std::make_shared<MappedFile>();
    mf->st = SafetensorsFile::open(single, err);
    if (!mf->st) return false;
    m.files.push_back(mf);
    col.primaryFile = single;
    for (const auto &ti : mf->st->tensors())
      if (!addSafetensor(mf, ti, col, err)) return false;
  } else if (isFile(index)) {
    json ij;
    if (!detail::readJsonObject(index, ij, err)) return false;
    col.primaryFile = index;
    if (!ij.contains("weight_map") || !ij["weight_map"].is_object()) {
      err = index + ": missing or non-object 'weight_map'" +
            keySuffix("weight_map", kVerbatim);
      return false;
    }
    std::map<std::string, std::shared_ptr<MappedFile>> shards;
    for (auto it = ij["weight_map"].begin(); it != ij["weight_map"].end(); ++it) {
      const std::string &name = it.key();
      if (!it.value().is_string()) {
        err = index + ": weight_map entry is not a file name" +
              tensorSuffix(name, kVerbatim);
        return false;
      }
      const std::string fn = it.value().get<std::string>();
      if (fn.empty() || fn[0] == '/' || fn.find("..") != std::string::npos) {
        err = index + ": shard file name '" + fn +
              "' must be a plain relative name" + tensorSuffix(name, kVerbatim);
        return false;
      }
      auto sh = shards.find(fn);
      if (sh == shards.end()) {
        auto mf = std::make_shared<MappedFile>();
        std::string e2;
        mf->st = SafetensorsFile::open(joinPath(dir, fn), e2);
        if (!mf->st) {
          err = e2 + " (listed in " + index + " for tensor '" + name + "')";
          return false;
        }
        m.files.push_back(mf);
        sh = shards.emplace(fn, mf).first;
      }
      const TensorInfo *ti = sh->second->st->find(name);
      if (!ti) {
        err = sh->second->st->path() + ": tensor listed in " + index +
              " is not in this shard" + tensorSuffix(name, kVerbatim);
        return false;
      }
      if (!addSafetensor(sh->second, *ti, col, err)) return false;
    }
  } else {
    err = dir + ": no model.safetensors or model.safetensors.index.json";
    return false;
  }
  return validate(col, m.config, tied, 0, m, err);
}

//===----------------------------------------------------------------------===//
// GGUF
//===----------------------------------------------------------------------===//

bool loadGguf(const std::string &path, Lfm2Model &m, std::string &err) {
  auto mf = std::make_shared<MappedFile>();
  mf->gguf = GgufFile::open(path, err);
  if (!mf->gguf) return false;
  m.files.push_back(mf);
  const GgufFile &f = *mf->gguf;
  int64_t ffnMeta = 0;
  if (!parseGgufConfig(f, m.config, ffnMeta, err)) return false;

  Collected col;
  col.gguf = true;
  col.primaryFile = path;
  for (const auto &ti : f.tensors()) {
    std::string canon = canonicalFromGguf(ti.name);
    if (canon.empty()) {
      err = path + ": unexpected tensor (not an " + m.config.arch +
            " tensor name)" + tensorSuffix(ti.name, kVerbatim);
      return false;
    }
    if (col.t.count(canon)) {
      err = path + ": tensor given twice (also as '" + col.t[canon].nameInFile +
            "')" + tensorSuffix(ti.name, kVerbatim);
      return false;
    }
    WeightRef r;
    // the WeightType whose block format the tensor has (open() accepted it)
    for (int t = 0; t <= static_cast<int>(WeightType::Q6_K); ++t)
      if (ggmlOf(static_cast<WeightType>(t)) == ti.type()) r.type = static_cast<WeightType>(t);
    r.name = canon;
    r.file = path;
    r.shape = ti.torchShape();
    r.data = f.data(ti);
    r.bytes = static_cast<size_t>(ti.bytes);
    Entry e;
    e.ref = std::move(r);
    e.nameInFile = ti.name;
    col.t[canon] = std::move(e);
  }
  return validate(col, m.config, /*tied=*/true, ffnMeta, m, err);
}

} // namespace

bool loadLfm2Model(const std::string &path, Lfm2Model &out, std::string &err) {
  try {
    Lfm2Model m;
    m.path = path;
    bool ok;
    if (isDir(path)) {
      const std::string cfg = joinPath(path, "config.json");
      if (!isFile(cfg)) {
        err = path + ": no config.json in this folder";
        return false;
      }
      ok = loadHf(path, cfg, m, err);
    } else if (!isFile(path)) {
      err = path + ": no such file or folder";
      return false;
    } else if (startsWithGguf(path) ||
               (path.size() >= 5 &&
                path.compare(path.size() - 5, 5, ".gguf") == 0)) {
      ok = loadGguf(path, m, err);
    } else if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
      ok = loadHf(detail::parentDir(path, "."), path, m, err);
    } else {
      err = path + ": not a GGUF file, a config.json or a checkpoint folder";
      return false;
    }
    if (!ok) {
      err = oneLine(err);
      return false;
    }
    out = std::move(m);
    return true;
  } catch (...) {
    err = detail::exceptionMessage(path + ": cannot load checkpoint: ");
    return false;
  }
}

} // namespace liquid
