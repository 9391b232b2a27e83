//===- liquid-lfm2-gen.cpp - random-weight LFM2 / LFM2-MoE checkpoints ----===//
//
// Writes a checkpoint of any LFM2 / LFM2-MoE shape with random weights, in
// both formats the frontend reads:
//
//   DIR/config.json           transformers Lfm2Config / Lfm2MoeConfig fields
//   DIR/model.safetensors     HF tensor names (per-expert MoE tensors), F32
//                             (or --hf-dtype f16|bf16)
//   DIR/model-<type>.gguf     llama.cpp arch lfm2 / lfm2moe metadata, tensor
//                             names (stacked experts) and a synthetic
//                             tokenizer; type f32, f16 or q8_0
//
// Both files hold the same weights (up to the encoding) and are written in
// one streaming pass: each tensor is drawn once, chunk by chunk, and
// appended to both files, so memory stays small even for 1B-parameter
// shapes. Init (as the shared fixtures): embed ~ N(0, 0.05^2), every linear
// [out, in] ~ N(0, 1/in), conv kernel [H,1,L] ~ N(0, 1/L), norms
// 1 + 0.1 N(0,1), router ~ N(0, 1/H), expert bias ~ N(0, 0.1^2). Each tensor
// has its own random stream (seed, tensor index), xoshiro256** + polar
// Box-Muller, so the output depends only on the options.
//
// Plain C++17; no LLVM/MLIR.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Gguf.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

using namespace liquid;
using json = nlohmann::json;

namespace {

const char *kTool = "liquid-lfm2-gen";

struct GenConfig {
  std::string preset;
  bool moe = false;
  int64_t vocab = 0, hidden = 0, layers = 0, heads = 0, kvHeads = 0, ffn = 0;
  int64_t convL = 3, context = 4096;
  std::vector<int64_t> attn;
  int64_t experts = 0, topK = 0, expertFfn = 0, denseLayers = 0;
  double ropeTheta = 1e6, normEps = 1e-5;
  bool tied = true, expertBias = true;
  int64_t bos = 1, eos = 7, pad = 0;
};

bool preset(const std::string &name, GenConfig &c) {
  const std::vector<int64_t> attn16 = {2, 5, 8, 10, 12, 14};
  c = GenConfig();
  c.preset = name;
  if (name == "350m" || name == "700m" || name == "1.2b") {
    c.vocab = 65536;
    c.layers = 16;
    c.kvHeads = 8;
    c.attn = attn16;
    c.context = 128000;
    if (name == "350m") c.hidden = 1024, c.heads = 16, c.ffn = 4608;
    if (name == "700m") c.hidden = 1536, c.heads = 24, c.ffn = 6912;
    if (name == "1.2b") c.hidden = 2048, c.heads = 32, c.ffn = 8192;
    return true;
  }
  if (name == "small") { // = shared/fixtures/lfm2-small
    c.vocab = 1024, c.hidden = 256, c.layers = 6, c.heads = 4, c.kvHeads = 2;
    c.ffn = 768, c.attn = {2, 4};
    return true;
  }
  if (name == "moe-small") { // = shared/fixtures/lfm2moe-small
    c.moe = true;
    c.vocab = 1024, c.hidden = 128, c.layers = 6, c.heads = 4, c.kvHeads = 2;
    c.ffn = 384, c.attn = {2, 4};
    c.experts = 8, c.topK = 2, c.expertFfn = 96, c.denseLayers = 2;
    return true;
  }
  if (name == "moe-mid") {
    c.moe = true;
    c.vocab = 65536, c.hidden = 1024, c.layers = 16, c.heads = 16, c.kvHeads = 8;
    c.ffn = 3584, c.attn = attn16, c.context = 128000;
    c.experts = 16, c.topK = 4, c.expertFfn = 512, c.denseLayers = 2;
    return true;
  }
  return false;
}

void usage(std::FILE *to) {
  std::fprintf(to,
"usage: %s --preset NAME --out DIR [options]\n"
"\n"
"Writes a random-weight LFM2 / LFM2-MoE checkpoint: DIR/config.json,\n"
"DIR/model.safetensors (HF names) and DIR/model-<type>.gguf (llama.cpp\n"
"lfm2 / lfm2moe), holding the same weights.\n"
"\n"
"presets:\n"
"  350m       hidden 1024, 16 layers (attention at 2,5,8,10,12,14), 16/8 heads,\n"
"             ffn 4608, vocab 65536, conv L 3\n"
"  700m       as 350m with hidden 1536, 24 heads, ffn 6912\n"
"  1.2b       as 350m with hidden 2048, 32 heads, ffn 8192\n"
"  small      the lfm2-small fixture shape: hidden 256, 6 layers, 4/2 heads,\n"
"             ffn 768, vocab 1024\n"
"  moe-small  the lfm2moe-small fixture shape: hidden 128, 6 layers, 8 experts\n"
"             top-2, expert ffn 96, dense ffn 384, 2 dense layers\n"
"  moe-mid    hidden 1024, 16 layers (attention as 350m), 16/8 heads,\n"
"             16 experts top-4, expert ffn 512, first 2 layers dense (ffn 3584)\n"
"\n"
"options:\n"
"  --out DIR            output folder (created if needed)        [required]\n"
"  --seed N             random seed                               [0]\n"
"  --gguf TYPE          f32 | f16 | q8_0 | q4_k_m | none          [f32]\n"
"  --hf-dtype TYPE      f32 | f16 | bf16 | none                   [f32]\n"
"  --vocab N  --hidden N  --layers N  --heads N  --kv-heads N  --ffn N\n"
"  --conv-l N  --context N  --rope-theta X  --norm-eps X\n"
"  --attn-layers LIST   comma-separated attention layer indices, or 'none'\n"
"  --experts N  --top-k N  --expert-ffn N  --dense-layers N   (MoE presets)\n"
"  --untied             write a separate lm_head.weight (GGUF output.weight)\n"
"  --no-expert-bias     MoE without the router's expert bias\n"
"  --quiet              no progress summary\n"
"  --help               this text\n"
"\n"
"F16 / Q8_0 / Q4_K_M GGUFs keep 1-D tensors, the conv kernel and the router\n"
"in F32 (Q8_0 falls back to F16 for rows that are not a multiple of 32).\n"
"Q4_K_M (liquidc's own quantizer, llama-quantize's mix): Q6_K for the head\n"
"and for attn_v / ffn_down in the first and last eighth of the layers and\n"
"every third between, Q4_K for the rest; rows not a multiple of 256 Q8_0.\n"
"exit status: 0 ok, 1 write error, 2 bad usage\n",
               kTool);
}

[[noreturn]] void die(int code, const std::string &msg) {
  std::fprintf(stderr, "%s: %s\n", kTool, msg.c_str());
  std::exit(code);
}

int64_t parseInt(const std::string &opt, const std::string &s, int64_t lo,
                 int64_t hi) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || errno || v < lo || v > hi)
    die(2, opt + ": expected an integer in [" + std::to_string(lo) + ", " +
               std::to_string(hi) + "], got '" + s + "'");
  return v;
}
double parseFloat(const std::string &opt, const std::string &s) {
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || !std::isfinite(v) || v <= 0)
    die(2, opt + ": expected a positive number, got '" + s + "'");
  return v;
}

//===----------------------------------------------------------------------===//
// Random numbers
//===----------------------------------------------------------------------===//

struct Rng {
  uint64_t s[4];
  bool haveSpare = false;
  double spare = 0;
  static uint64_t splitmix(uint64_t &x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t x = seed * 0x9e3779b97f4a7c15ull ^ (stream + 1) * 0xd1b54a32d192ed03ull;
    for (auto &v : s) v = splitmix(x);
  }
  static uint64_t rotl(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }
  uint64_t next() {
    const uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
  }
  double uniform11() { return static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0; }
  double normal() {
    if (haveSpare) {
      haveSpare = false;
      return spare;
    }
    double u, v, q;
    do {
      u = uniform11();
      v = uniform11();
      q = u * u + v * v;
    } while (q >= 1.0 || q == 0.0);
    const double m = std::sqrt(-2.0 * std::log(q) / q);
    spare = v * m;
    haveSpare = true;
    return u * m;
  }
};

//===----------------------------------------------------------------------===//
// Tensor plan
//===----------------------------------------------------------------------===//

enum class HfType { F32, F16, BF16 };

struct GgufTensor {
  std::string name;
  std::vector<int64_t> ne;
  GgmlType type;
};

struct PlanTensor {
  std::string hfName;
  std::vector<int64_t> shape; ///< torch order
  double mean = 0, std = 1;   ///< value = mean + std * N(0,1)
  bool keepF32 = false;       ///< HF: stays F32 (the expert-bias buffer)
  int gguf = -1;              ///< index into the GGUF list
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

struct Plan {
  std::vector<PlanTensor> t;
  std::vector<GgufTensor> g;
};

/// Q4_K_M's tensors of 6 bits (as llama-quantize's mix): the head (the
/// tied embedding), and attn_v / ffn_down in the first and last eighth of
/// the layers and every third one between.
bool moreBits(const GenConfig &c, const std::string &name) {
  if (name == "output.weight" || (name == "token_embd.weight" && c.tied))
    return true;
  int64_t layer = -1;
  if (std::sscanf(name.c_str(), "blk.%lld.", reinterpret_cast<long long *>(&layer)) != 1)
    return false;
  bool v = name.find(".attn_v.") != std::string::npos,
       down = name.find(".ffn_down") != std::string::npos;
  int64_t n = c.layers;
  return (v || down) && (layer < n / 8 || layer >= 7 * n / 8 || (layer - n / 8) % 3 == 2);
}

Plan makePlan(const GenConfig &c, const std::string &ggufType) {
  Plan p;
  const int64_t H = c.hidden, hd = c.hidden / c.heads;
  auto ggufTypeFor = [&](const std::string &name, const std::vector<int64_t> &ne,
                         bool keepF32) {
    if (ggufType == "f32" || keepF32 || ne.size() < 2) return GgmlType::F32;
    if (ggufType == "q4_k_m" && ne[0] % 256 == 0)
      return moreBits(c, name) ? GgmlType::Q6_K : GgmlType::Q4_K;
    if ((ggufType == "q8_0" || ggufType == "q4_k_m") && ne[0] % 32 == 0) return GgmlType::Q8_0;
    return GgmlType::F16;
  };
  // Adds an HF tensor; a new GGUF tensor unless `ggufName` is the last one
  // (then the HF tensor is the next slice of a stacked GGUF tensor).
  auto add = [&](const std::string &hf, std::vector<int64_t> shape, double mean,
                 double sd, const std::string &ggufName,
                 std::vector<int64_t> ggufTorchShape = {}, bool ggufF32 = false,
                 bool hfF32 = false) {
    PlanTensor t;
    t.hfName = hf;
    t.shape = shape;
    t.mean = mean;
    t.std = sd;
    t.keepF32 = hfF32;
    if (p.g.empty() || p.g.back().name != ggufName) {
      if (ggufTorchShape.empty()) ggufTorchShape = shape;
      std::vector<int64_t> ne(ggufTorchShape.rbegin(), ggufTorchShape.rend());
      p.g.push_back({ggufName, ne, ggufTypeFor(ggufName, ne, ggufF32)});
    }
    t.gguf = static_cast<int>(p.g.size()) - 1;
    p.t.push_back(std::move(t));
  };
  auto lin = [](int64_t in) { return 1.0 / std::sqrt(static_cast<double>(in)); };

  add("model.embed_tokens.weight", {c.vocab, H}, 0, 0.05, "token_embd.weight");
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string hp = "model.layers." + std::to_string(i) + ".";
    const std::string gp = "blk." + std::to_string(i) + ".";
    bool attn = false;
    for (int64_t a : c.attn) attn |= a == i;
    add(hp + "operator_norm.weight", {H}, 1, 0.1, gp + "attn_norm.weight");
    add(hp + "ffn_norm.weight", {H}, 1, 0.1, gp + "ffn_norm.weight");
    if (attn) {
      add(hp + "self_attn.q_proj.weight", {c.heads * hd, H}, 0, lin(H), gp + "attn_q.weight");
      add(hp + "self_attn.k_proj.weight", {c.kvHeads * hd, H}, 0, lin(H), gp + "attn_k.weight");
      add(hp + "self_attn.v_proj.weight", {c.kvHeads * hd, H}, 0, lin(H), gp + "attn_v.weight");
      add(hp + "self_attn.out_proj.weight", {H, c.heads * hd}, 0, lin(c.heads * hd),
          gp + "attn_output.weight");
      add(hp + "self_attn.q_layernorm.weight", {hd}, 1, 0.1, gp + "attn_q_norm.weight");
      add(hp + "self_attn.k_layernorm.weight", {hd}, 1, 0.1, gp + "attn_k_norm.weight");
    } else {
      add(hp + "conv.in_proj.weight", {3 * H, H}, 0, lin(H), gp + "shortconv.in_proj.weight");
      add(hp + "conv.conv.weight", {H, 1, c.convL}, 0, lin(c.convL),
          gp + "shortconv.conv.weight", {H, c.convL}, /*ggufF32=*/true);
      add(hp + "conv.out_proj.weight", {H, H}, 0, lin(H), gp + "shortconv.out_proj.weight");
    }
    if (!c.moe || i < c.denseLayers) {
      add(hp + "feed_forward.w1.weight", {c.ffn, H}, 0, lin(H), gp + "ffn_gate.weight");
      add(hp + "feed_forward.w3.weight", {c.ffn, H}, 0, lin(H), gp + "ffn_up.weight");
      add(hp + "feed_forward.w2.weight", {H, c.ffn}, 0, lin(c.ffn), gp + "ffn_down.weight");
      continue;
    }
    const int64_t E = c.experts, I = c.expertFfn;
    add(hp + "feed_forward.gate.weight", {E, H}, 0, lin(H), gp + "ffn_gate_inp.weight", {},
        /*ggufF32=*/true);
    if (c.expertBias)
      add(hp + "feed_forward.expert_bias", {E}, 0, 0.1, gp + "exp_probs_b.bias", {}, true,
          /*hfF32=*/true);
    struct {
      const char *w, *g;
      bool down;
    } kinds[] = {{"w1", "ffn_gate_exps.weight", false},
                 {"w3", "ffn_up_exps.weight", false},
                 {"w2", "ffn_down_exps.weight", true}};
    for (const auto &k : kinds)
      for (int64_t e = 0; e < E; ++e) {
        std::vector<int64_t> s = k.down ? std::vector<int64_t>{H, I}
                                        : std::vector<int64_t>{I, H};
        add(hp + "feed_forward.experts." + std::to_string(e) + "." + k.w + ".weight", s, 0,
            lin(s[1]), gp + k.g, {E, s[0], s[1]});
      }
  }
  add("model.embedding_norm.weight", {H}, 1, 0.1, "token_embd_norm.weight");
  if (!c.tied) add("lm_head.weight", {c.vocab, H}, 0, lin(H), "output.weight");
  return p;
}

//===----------------------------------------------------------------------===//
// Outputs
//===----------------------------------------------------------------------===//

json hfConfig(const GenConfig &c, uint64_t seed, const std::string &hfDtype) {
  json j;
  std::vector<std::string> types;
  for (int64_t i = 0; i < c.layers; ++i) {
    bool a = false;
    for (int64_t x : c.attn) a |= x == i;
    types.push_back(a ? "full_attention" : "conv");
  }
  j["architectures"] = {c.moe ? "Lfm2MoeForCausalLM" : "Lfm2ForCausalLM"};
  j["model_type"] = c.moe ? "lfm2_moe" : "lfm2";
  j["vocab_size"] = c.vocab;
  j["hidden_size"] = c.hidden;
  j["intermediate_size"] = c.ffn;
  j["num_hidden_layers"] = c.layers;
  j["num_attention_heads"] = c.heads;
  j["num_key_value_heads"] = c.kvHeads;
  j["max_position_embeddings"] = c.context;
  j["norm_eps"] = c.normEps;
  j["conv_bias"] = false;
  j["conv_L_cache"] = c.convL;
  j["layer_types"] = types;
  j["full_attn_idxs"] = c.attn;
  j["rope_theta"] = c.ropeTheta;
  j["tie_word_embeddings"] = c.tied;
  j["bos_token_id"] = c.bos;
  j["eos_token_id"] = c.eos;
  j["pad_token_id"] = c.pad;
  j["torch_dtype"] = hfDtype == "bf16" ? "bfloat16" : hfDtype == "f16" ? "float16" : "float32";
  if (c.moe) {
    j["moe_intermediate_size"] = c.expertFfn;
    j["num_experts"] = c.experts;
    j["num_experts_per_tok"] = c.topK;
    j["num_dense_layers"] = c.denseLayers;
    j["use_expert_bias"] = c.expertBias;
    j["norm_topk_prob"] = true;
    j["routed_scaling_factor"] = 1.0;
  } else {
    j["block_auto_adjust_ff_dim"] = false; // intermediate_size is the width
  }
  j["generator"] = std::string(kTool) + " --preset " + c.preset;
  j["seed"] = seed;
  return j;
}

void ggufMetadata(GgufWriter &w, const GenConfig &c, uint64_t seed,
                  const std::string &type) {
  const std::string a = c.moe ? "lfm2moe" : "lfm2";
  auto k = [&](const char *s) { return a + "." + s; };
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  w.set("general.architecture", GgufValue::str(a));
  w.set("general.name", GgufValue::str(std::string(kTool) + "-" + c.preset + "-s" +
                                       std::to_string(seed)));
  w.set(k("block_count"), u32(c.layers));
  w.set(k("context_length"), u32(c.context));
  w.set(k("embedding_length"), u32(c.hidden));
  w.set(k("feed_forward_length"), u32(c.ffn));
  w.set(k("attention.head_count"), u32(c.heads));
  std::vector<int32_t> kv(static_cast<size_t>(c.layers), 0);
  for (int64_t x : c.attn) kv[static_cast<size_t>(x)] = static_cast<int32_t>(c.kvHeads);
  w.set(k("attention.head_count_kv"), GgufValue::arrayI32(kv));
  w.set(k("rope.freq_base"), GgufValue::f32(static_cast<float>(c.ropeTheta)));
  w.set(k("attention.layer_norm_rms_epsilon"), GgufValue::f32(static_cast<float>(c.normEps)));
  if (c.moe) {
    w.set(k("expert_count"), u32(c.experts));
    w.set(k("expert_used_count"), u32(c.topK));
    w.set(k("expert_feed_forward_length"), u32(c.expertFfn));
    w.set(k("leading_dense_block_count"), u32(c.denseLayers));
    w.set(k("expert_gating_func"), u32(2)); // sigmoid
  }
  w.set(k("vocab_size"), u32(c.vocab));
  w.set(k("shortconv.l_cache"), u32(c.convL));
  w.set("general.file_type",
        u32(type == "f32" ? 0 : type == "f16" ? 1 : type == "q8_0" ? 7 : 15 /* Q4_K_M */));
  if (type == "q8_0" || type == "q4_k_m") w.set("general.quantization_version", u32(2));

  // Synthetic SentencePiece-style vocabulary (as the fixtures): specials,
  // byte tokens, then filler pieces.
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  const char *specials[] = {"<|pad|>",     "<|startoftext|>", "<|endoftext|>",
                            "<|fim_pre|>", "<|fim_mid|>",     "<|fim_suf|>",
                            "<|im_start|>", "<|im_end|>",     "<unk>"};
  for (int i = 0; i < 9; ++i) {
    tokens.push_back(specials[i]);
    types.push_back(i == 8 ? 2 : 3); // UNKNOWN / CONTROL
  }
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    types.push_back(6); // BYTE
  }
  scores.assign(tokens.size(), 0.f);
  const std::string chars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (int64_t i = static_cast<int64_t>(tokens.size()); i < c.vocab; ++i) {
    const int64_t j = i - 265;
    std::string piece;
    if (j == 0) piece = "\xe2\x96\x81"; // U+2581
    else if (j <= static_cast<int64_t>(chars.size())) piece = chars.substr(j - 1, 1);
    else piece = "\xe2\x96\x81t" + std::to_string(j);
    tokens.push_back(piece);
    scores.push_back(-static_cast<float>(j));
    types.push_back(1); // NORMAL
  }
  tokens.resize(static_cast<size_t>(c.vocab));
  scores.resize(tokens.size());
  types.resize(tokens.size());
  w.set("tokenizer.ggml.model", GgufValue::str("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::arrayStr(std::move(tokens)));
  w.set("tokenizer.ggml.scores", GgufValue::arrayF32(scores));
  w.set("tokenizer.ggml.token_type", GgufValue::arrayI32(types));
  w.set("tokenizer.ggml.bos_token_id", u32(c.bos));
  w.set("tokenizer.ggml.eos_token_id", u32(c.eos));
  w.set("tokenizer.ggml.padding_token_id", u32(c.pad));
  w.set("tokenizer.ggml.unknown_token_id", u32(8));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(false));
}

/// Streaming safetensors writer: header from the plan, then data in plan
/// order.
struct StWriter {
  std::FILE *fp = nullptr;
  std::string path;
  std::vector<uint8_t> buf;
  bool open(const std::string &p, const Plan &plan, HfType dt, std::string &err) {
    path = p;
    json h = json::object();
    uint64_t off = 0;
    for (const auto &t : plan.t) {
      const bool f32 = dt == HfType::F32 || t.keepF32;
      const uint64_t bytes = static_cast<uint64_t>(t.numel()) * (f32 ? 4 : 2);
      h[t.hfName] = {{"dtype", f32 ? "F32" : dt == HfType::F16 ? "F16" : "BF16"},
                     {"shape", t.shape},
                     {"data_offsets", {off, off + bytes}}};
      off += bytes;
    }
    h["__metadata__"] = {{"format", "pt"}, {"generator", kTool}};
    std::string s = h.dump();
    while (s.size() % 8) s += ' ';
    fp = std::fopen(p.c_str(), "wb");
    if (!fp) {
      err = p + ": cannot create file: " + std::strerror(errno);
      return false;
    }
    std::setvbuf(fp, nullptr, _IOFBF, 1 << 20);
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(uint64_t(s.size()) >> (8 * i));
    return put(len, 8, err) && put(s.data(), s.size(), err);
  }
  bool put(const void *p, size_t n, std::string &err) {
    if (std::fwrite(p, 1, n, fp) != n) {
      err = path + ": cannot write file: " + std::strerror(errno);
      return false;
    }
    return true;
  }
  bool write(const float *x, size_t n, bool f32, HfType dt, std::string &err) {
    if (f32) {
      buf.resize(4 * n);
      for (size_t i = 0; i < n; ++i) {
        uint32_t u;
        std::memcpy(&u, &x[i], 4);
        for (int b = 0; b < 4; ++b) buf[4 * i + b] = static_cast<uint8_t>(u >> (8 * b));
      }
    } else {
      buf.resize(2 * n);
      for (size_t i = 0; i < n; ++i) {
        uint16_t h = dt == HfType::F16 ? floatToHalf(x[i]) : floatToBf16(x[i]);
        buf[2 * i] = static_cast<uint8_t>(h);
        buf[2 * i + 1] = static_cast<uint8_t>(h >> 8);
      }
    }
    return put(buf.data(), buf.size(), err);
  }
  bool close(std::string &err) {
    const int e = std::fclose(fp);
    fp = nullptr;
    if (e != 0) {
      err = path + ": cannot write file: " + std::strerror(errno);
      return false;
    }
    return true;
  }
};

std::vector<int64_t> parseList(const std::string &opt, const std::string &s) {
  std::vector<int64_t> r;
  if (s == "none") return r;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    r.push_back(parseInt(opt, s.substr(i, j - i), 0, 1 << 20));
    i = j + 1;
  }
  return r;
}

} // namespace

int run(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string presetName, out, ggufType = "f32", hfDtype = "f32";
  uint64_t seed = 0;
  bool quiet = false;
  // First pass: --help and --preset (overrides apply on top of the preset).
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      usage(stdout);
      return 0;
    }
    if (args[i] == "--preset") {
      if (i + 1 >= args.size()) die(2, "--preset needs a value (see --help)");
      presetName = args[i + 1];
    }
  }
  if (presetName.empty()) die(2, "missing --preset (see --help)");
  GenConfig c;
  if (!preset(presetName, c))
    die(2, "unknown preset '" + presetName +
               "' (350m, 700m, 1.2b, small, moe-small, moe-mid)");
  bool moeOpt = false;
  const int64_t kBig = int64_t(1) << 24;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= args.size()) die(2, a + " needs a value (see --help)");
      return args[++i];
    };
    if (a == "--preset") val();
    else if (a == "--out") out = val();
    else if (a == "--seed") seed = static_cast<uint64_t>(parseInt(a, val(), 0, std::numeric_limits<int64_t>::max()));
    else if (a == "--gguf") ggufType = val();
    else if (a == "--hf-dtype") hfDtype = val();
    else if (a == "--vocab") c.vocab = parseInt(a, val(), 1, kBig);
    else if (a == "--hidden") c.hidden = parseInt(a, val(), 1, kBig);
    else if (a == "--layers") c.layers = parseInt(a, val(), 1, 4096);
    else if (a == "--heads") c.heads = parseInt(a, val(), 1, kBig);
    else if (a == "--kv-heads") c.kvHeads = parseInt(a, val(), 1, kBig);
    else if (a == "--ffn") c.ffn = parseInt(a, val(), 1, kBig);
    else if (a == "--conv-l") c.convL = parseInt(a, val(), 1, 64);
    else if (a == "--context") c.context = parseInt(a, val(), 1, 1 << 30);
    else if (a == "--rope-theta") c.ropeTheta = parseFloat(a, val());
    else if (a == "--norm-eps") c.normEps = parseFloat(a, val());
    else if (a == "--attn-layers") c.attn = parseList(a, val());
    else if (a == "--experts") c.experts = parseInt(a, val(), 1, 4096), moeOpt = true;
    else if (a == "--top-k") c.topK = parseInt(a, val(), 1, 4096), moeOpt = true;
    else if (a == "--expert-ffn") c.expertFfn = parseInt(a, val(), 1, kBig), moeOpt = true;
    else if (a == "--dense-layers") c.denseLayers = parseInt(a, val(), 0, 4096), moeOpt = true;
    else if (a == "--untied") c.tied = false;
    else if (a == "--no-expert-bias") c.expertBias = false, moeOpt = true;
    else if (a == "--quiet") quiet = true;
    else die(2, "unknown option '" + a + "' (see --help)");
  }
  if (out.empty()) die(2, "missing --out DIR (see --help)");
  if (ggufType != "f32" && ggufType != "f16" && ggufType != "q8_0" && ggufType != "q4_k_m" &&
      ggufType != "none")
    die(2, "--gguf: expected f32, f16, q8_0, q4_k_m or none, got '" + ggufType + "'");
  if (hfDtype != "f32" && hfDtype != "f16" && hfDtype != "bf16" && hfDtype != "none")
    die(2, "--hf-dtype: expected f32, f16, bf16 or none, got '" + hfDtype + "'");
  if (moeOpt && !c.moe)
    die(2, "MoE options need a MoE preset (moe-small, moe-mid)");
  if (c.hidden % c.heads != 0)
    die(2, "--heads " + std::to_string(c.heads) + " does not divide --hidden " +
               std::to_string(c.hidden));
  if (c.kvHeads > c.heads || c.heads % c.kvHeads != 0)
    die(2, "--kv-heads " + std::to_string(c.kvHeads) + " does not divide --heads " +
               std::to_string(c.heads));
  for (size_t i = 0; i < c.attn.size(); ++i) {
    if (c.attn[i] >= c.layers)
      die(2, "attention layer " + std::to_string(c.attn[i]) + " is out of range for " +
                 std::to_string(c.layers) + " layers (set --attn-layers)");
    for (size_t j = 0; j < i; ++j)
      if (c.attn[j] == c.attn[i])
        die(2, "--attn-layers: layer " + std::to_string(c.attn[i]) + " given twice");
  }
  if (c.moe) {
    if (c.topK > c.experts)
      die(2, "--top-k " + std::to_string(c.topK) + " exceeds --experts " +
                 std::to_string(c.experts));
    if (c.denseLayers > c.layers)
      die(2, "--dense-layers " + std::to_string(c.denseLayers) + " exceeds --layers " +
                 std::to_string(c.layers));
  }
  if (c.vocab <= std::max({c.bos, c.eos, c.pad, int64_t(8)}))
    die(2, "--vocab must be at least 9 (ids 0-8 are special tokens)");

  const auto t0 = std::chrono::steady_clock::now();
  std::string err;
  try {
    std::filesystem::create_directories(out);
  } catch (const std::exception &e) {
    die(1, out + ": cannot create folder: " + e.what());
  }
  const HfType hdt = hfDtype == "f16" ? HfType::F16 : hfDtype == "bf16" ? HfType::BF16 : HfType::F32;
  const Plan plan = makePlan(c, ggufType == "none" ? "f32" : ggufType);

  {
    const std::string cfgPath = out + "/config.json";
    std::ofstream cf(cfgPath);
    cf << hfConfig(c, seed, hfDtype == "none" ? "f32" : hfDtype).dump(1) << "\n";
    cf.close();
    if (!cf) die(1, cfgPath + ": cannot write file");
  }
  StWriter st;
  const bool writeHf = hfDtype != "none", writeGguf = ggufType != "none";
  const std::string stPath = out + "/model.safetensors";
  const std::string ggPath = out + "/model-" + ggufType + ".gguf";
  if (writeHf && !st.open(stPath, plan, hdt, err)) die(1, err);
  GgufWriter gw;
  if (writeGguf) {
    ggufMetadata(gw, c, seed, ggufType);
    for (const auto &g : plan.g)
      if (!gw.addTensor(g.name, g.ne, g.type, err)) die(1, err);
    if (!gw.open(ggPath, err)) die(1, err);
  }

  // One pass: draw each tensor in chunks of whole rows, append to both.
  std::vector<float> chunk;
  uint64_t params = 0;
  for (size_t ti = 0; ti < plan.t.size(); ++ti) {
    const PlanTensor &t = plan.t[ti];
    Rng rng(seed, ti);
    const int64_t n = t.numel();
    const int64_t row = t.shape.back();
    const int64_t step = std::max<int64_t>(1, (int64_t(1) << 20) / row) * row;
    for (int64_t done = 0; done < n; done += step) {
      const size_t m = static_cast<size_t>(std::min(step, n - done));
      chunk.resize(m);
      for (size_t k = 0; k < m; ++k)
        chunk[k] = static_cast<float>(t.mean + t.std * rng.normal());
      if (writeHf && !st.write(chunk.data(), m, hdt == HfType::F32 || t.keepF32, hdt, err))
        die(1, err);
      if (writeGguf && !gw.write(chunk.data(), m, err)) die(1, err);
    }
    params += static_cast<uint64_t>(n);
  }
  if (writeHf && !st.close(err)) die(1, err);
  if (writeGguf && !gw.close(err)) die(1, err);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet)
    std::fprintf(stderr, "%s: %s preset '%s': %llu parameters, %zu HF / %zu GGUF tensors "
                         "-> %s%s%s in %.1f s\n",
                 kTool, c.moe ? "lfm2moe" : "lfm2", c.preset.c_str(),
                 static_cast<unsigned long long>(params), plan.t.size(), plan.g.size(),
                 (out + "/config.json").c_str(), writeHf ? (", " + stPath).c_str() : "",
                 writeGguf ? (", " + ggPath).c_str() : "", secs);
  return 0;
}

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    die(1, std::string("internal error: ") + e.what());
  }
}
