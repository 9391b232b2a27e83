//===- Lfm2Importer.cpp - LFM2 checkpoint -> liquid dialect ----------------===//
#include "liquid/Frontend/Lfm2Importer.h"

#include "liquid/Dialect/Liquid.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include "liquid/Frontend/Gguf.h"
#include "liquid/Frontend/Safetensors.h"

#include <cstring>

using namespace mlir;

namespace liquid {
namespace {

class Lfm2Builder {
public:
  Lfm2Builder(MLIRContext &ctx, const Lfm2Model &m, const Lfm2ImportOptions &o, WeightStore &store,
              std::string &err)
      : ctx(ctx), m(m), c(m.config), o(o), store(store), err(err), b(&ctx) {}

  OwningOpRef<ModuleOp> run() {
    Location loc = FileLineColLoc::get(&ctx, m.path, 1, 1);
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
    b.setInsertionPointToEnd(module->getBody());
    int64_t h = c.hidden, hd = c.headDim, kvw = c.kvHeads * c.headDim;
    for (int64_t i = 0; i < c.layers; ++i) {
      if (c.isAttention[i])
        mlir::liquid::StateBufferOp::create(b, loc, "kv" + std::to_string(i),
                                            mlir::liquid::StateKind::KVCache,
                                            tensor({2, o.maxContext, kvw}));
      else
        mlir::liquid::StateBufferOp::create(b, loc, "conv" + std::to_string(i),
                                            mlir::liquid::StateKind::ConvCache,
                                            tensor({c.convL - 1, h}));
    }
    auto ids = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
    auto logitsType = rows(c.vocab);
    auto fn = func::FuncOp::create(b, loc, o.name,
                                   b.getFunctionType({ids, b.getIndexType()}, {logitsType}));
    mlir::liquid::writeAttr<mlir::liquid::MaxRowsAttrHelper>(fn, b.getI64IntegerAttr(o.maxRows));
    mlir::liquid::writeAttr<mlir::liquid::MaxContextAttrHelper>(fn, b.getI64IntegerAttr(o.maxContext));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value pos = entry->getArgument(1);

    Value embed = W("model.embed_tokens.weight");
    if (!embed)
      return nullptr;
    if (o.weightType == "q8" || o.weightType == "q4") {
      Tensor &e = store["model.embed_tokens.weight"];
      e.load = [read = std::move(e.load), q4 = o.weightType == "q4"](Tensor &t) {
        read(t);
        q4 ? quantizeQ4InPlace(t) : quantizeInPlace(t);
      };
    }
    Value x = mlir::liquid::EmbeddingOp::create(b, loc, rows(h), entry->getArgument(0), embed);
    for (int64_t i = 0; i < c.layers; ++i) {
      std::string p = "model.layers." + std::to_string(i) + ".";
      Value hN = norm(x, p + "operator_norm.weight");
      if (!hN)
        return nullptr;
      Value mixed;
      if (c.isAttention[i]) {
        Value q = linear(hN, p + "self_attn.q_proj.weight");
        Value k = linear(hN, p + "self_attn.k_proj.weight");
        Value v = linear(hN, p + "self_attn.v_proj.weight");
        Value qn = W(p + "self_attn.q_layernorm.weight"), kn = W(p + "self_attn.k_layernorm.weight");
        if (!q || !k || !v || !qn || !kn)
          return nullptr;
        Value a = mlir::liquid::AttentionOp::create(
            b, loc, rows(c.heads * hd), q, k, v, qn, kn, pos,
            FlatSymbolRefAttr::get(&ctx, "kv" + std::to_string(i)), b.getI64IntegerAttr(c.heads),
            b.getI64IntegerAttr(c.kvHeads), b.getI64IntegerAttr(hd), b.getF64FloatAttr(c.ropeTheta),
            b.getF64FloatAttr(c.normEps));
        mixed = linear(a, p + "self_attn.out_proj.weight");
      } else {
        Value bcx = linear(hN, p + "conv.in_proj.weight");
        Value kernel = W(p + "conv.conv.weight");
        if (!bcx || !kernel)
          return nullptr;
        Value y = mlir::liquid::ShortConvMixOp::create(
            b, loc, rows(h), bcx, kernel, FlatSymbolRefAttr::get(&ctx, "conv" + std::to_string(i)));
        mixed = linear(y, p + "conv.out_proj.weight");
      }
      if (!mixed)
        return nullptr;
      x = arith::AddFOp::create(b, loc, x, mixed);
      Value f = norm(x, p + "ffn_norm.weight");
      if (!f)
        return nullptr;
      if (c.experts > 0 && i >= c.denseLayers) {
        Value y = moe(f, p + "feed_forward.");
        if (!y)
          return nullptr;
        x = arith::AddFOp::create(b, loc, x, y);
        continue;
      }
      Value gate = linear(f, p + "feed_forward.w1.weight");
      Value up = linear(f, p + "feed_forward.w3.weight");
      if (!gate || !up)
        return nullptr;
      Value g = mlir::liquid::SwiGLUOp::create(b, loc, gate.getType(), gate, up);
      Value down = linear(g, p + "feed_forward.w2.weight");
      if (!down)
        return nullptr;
      x = arith::AddFOp::create(b, loc, x, down);
    }
    Value fin = norm(x, "model.embedding_norm.weight");
    if (!fin)
      return nullptr;
    // Tied LM head unless the checkpoint has its own.
    Value head = linear(fin, m.find("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight");
    if (!head)
      return nullptr;
    func::ReturnOp::create(b, loc, head);
    return module;
  }

private:
  RankedTensorType tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  }
  RankedTensorType rows(int64_t n) { return tensor({ShapedType::kDynamic, n}); }

  /// The liquid.weight of a checkpoint tensor (decoded to float32 when the
  /// weights are packed: Tensor::load), created at the top of the function.
  Value W(const std::string &name) {
    if (auto it = weights.find(name); it != weights.end())
      return it->second;
    const WeightRef *w = m.find(name);
    if (!w) {
      err = m.path + ": tensor '" + name + "' not found";
      return nullptr;
    }
    Tensor t;
    t.shape = w->shape;
    t.load = [w](Tensor &t) { decode(*w, t); };
    return synthetic(name, std::move(t));
  }

  /// Reads `w` into `t`: float32 values, and integer blocks as stored.
  static void decode(const WeightRef &w, Tensor &t) {
    t.data = toF32(w);
    if (w.type == WeightType::Q8_0 || w.type == WeightType::Q5_0) {
      // keep the int8 values and scales as stored (Q5_0: q - 16, in int8)
      IntBlocks ib;
      if (toIntBlocks(w, ib)) {
        t.q8.assign(ib.q.begin(), ib.q.end());
        t.q8Scales = std::move(ib.scale);
      }
    } else if (isWidenOnly(w.type)) {
      toIntBlocks(w, t.blocks); // the 4/5/6-bit integers as stored
    }
    dropPages(w);
  }

  /// With --quantize=q8 the embedding table is quantized like the products
  /// (Q8_0), so the gather reads the same dequantized rows a Q8_0 GGUF gives.
  static void quantizeInPlace(Tensor &t) {
    if (!t.q8.empty() || t.shape.back() % kQ8_0Block)
      return;
    size_t n = t.data.size(), blocks = n / kQ8_0Block;
    std::vector<uint8_t> raw(blocks * kQ8_0BlockBytes);
    quantizeQ8_0(t.data.data(), n, raw.data());
    decodeToF32(GgmlType::Q8_0, raw.data(), n, t.data.data());
    t.q8.resize(n);
    t.q8Scales.resize(blocks);
    unpackQ8_0(raw.data(), n, t.q8.data(), t.q8Scales.data());
  }

  /// The same for --weight-type=q4 (4-bit blocks).
  static void quantizeQ4InPlace(Tensor &t) {
    bool isQ4 = t.blocks.bits == 4 && t.blocks.zero == 8 && t.blocks.min.empty();
    if (isQ4 || t.shape.back() % 32)
      return;
    quantizeQ4Blocks(t.data.data(), t.data.size(), t.blocks);
    for (size_t i = 0; i < t.data.size(); ++i)
      t.data[i] = static_cast<float>(t.blocks.q[i] - 8) * t.blocks.scale[i / 32];
  }

  /// Puts `t` into the store as `name` and returns its liquid.weight, created
  /// once at the top of the function.
  Value synthetic(const std::string &name, Tensor t) {
    auto type = tensor(t.shape);
    t.name = name;
    store[name] = std::move(t);
    OpBuilder::InsertionGuard g(b);
    Block *entry = b.getInsertionBlock();
    while (!isa<func::FuncOp>(entry->getParentOp()))
      entry = entry->getParentOp()->getBlock();
    b.setInsertionPointToStart(entry);
    Value v = mlir::liquid::WeightOp::create(b, NameLoc::get(StringAttr::get(&ctx, name)), type, name,
                                                 /*value=*/nullptr);
    weights[name] = v;
    return v;
  }

  /// Expert weights stacked [E, rows, cols]: the GGUF tensor as is, or the
  /// HF per-expert tensors `<p>experts.<e>.<w>.weight` stacked at compile time.
  Value experts(const std::string &p, const std::string &w) {
    std::string name = p + "experts." + w + ".weight";
    if (m.find(name))
      return W(name);
    if (auto it = weights.find(name); it != weights.end())
      return it->second;
    Tensor t;
    std::vector<const WeightRef *> parts;
    for (int64_t e = 0; e < c.experts; ++e) {
      std::string part = p + "experts." + std::to_string(e) + "." + w + ".weight";
      const WeightRef *r = m.find(part);
      if (!r) {
        err = m.path + ": tensor '" + part + "' not found";
        return nullptr;
      }
      if (e == 0)
        t.shape = {c.experts, r->shape[0], r->shape[1]};
      parts.push_back(r);
    }
    t.load = [parts](Tensor &t) {
      t.data.reserve(t.numel());
      for (const WeightRef *r : parts) {
        std::vector<float> d = toF32(*r);
        t.data.insert(t.data.end(), d.begin(), d.end());
        dropPages(*r);
      }
    };
    return synthetic(name, std::move(t));
  }

  Value moe(Value f, const std::string &p) {
    Value router = W(p + "gate.weight");
    Value bias;
    if (c.useExpertBias && m.find(p + "expert_bias")) {
      bias = W(p + "expert_bias");
    } else {
      Tensor zero;
      zero.shape = {c.experts};
      zero.data.assign(c.experts, 0.0f);
      bias = synthetic(p + "expert_bias (none: zeros)", std::move(zero));
    }
    Value w1 = experts(p, "w1"), w3 = experts(p, "w3"), w2 = experts(p, "w2");
    if (!router || !w1 || !w3 || !w2)
      return nullptr;
    Location loc = UnknownLoc::get(&ctx);
    auto f32 = b.getF32Type();
    int64_t rows = cast<RankedTensorType>(f.getType()).getDimSize(0), k = c.expertsPerToken;
    auto route = mlir::liquid::MoERouterOp::create(
        b, loc, RankedTensorType::get({rows, k}, b.getI32Type()), RankedTensorType::get({rows, k}, f32),
        f, router, bias, b.getI64IntegerAttr(k), b.getF64FloatAttr(c.routedScaling),
        c.normTopkProb ? b.getUnitAttr() : UnitAttr(),
        mlir::liquid::RouterScoreAttr::get(
            &ctx, *mlir::liquid::symbolizeRouterScore(c.expertScore))); // checked by checkConfig
    // gate and up of every expert as one [E, 2I, H] product (gate rows first)
    auto w1t = cast<RankedTensorType>(w1.getType());
    auto gateUp = mlir::liquid::WeightConcatOp::create(
        b, loc,
        RankedTensorType::get({w1t.getDimSize(0), 2 * w1t.getDimSize(1), w1t.getDimSize(2)}, f32),
        ValueRange{w1, w3}, b.getI64IntegerAttr(1));
    auto experts = mlir::liquid::MoEExpertsOp::create(b, loc, f.getType(), f, route.getExperts(),
                                                      route.getWeights(), gateUp, w2);
    // Expert weights in half precision or int8 as for the products (auto: as
    // the checkpoint stores all three of gate, up and down, else float32: one
    // type holds them all, and a Q8_0 value is not always an F16 one); int8
    // needs H and I in blocks of 32.
    auto storedAs = [&](WeightType t) {
      for (const char *w : {"w1", "w3", "w2"}) {
        const WeightRef *ref = m.find(p + "experts." + w + ".weight");
        if (!ref)
          ref = m.find(p + "experts.0." + w + ".weight");
        if (!ref || ref->type != t)
          return false;
      }
      return true;
    };
    if (o.weightType == "auto")
      for (const char *w : {"w1", "w3", "w2"}) {
        const WeightRef *ref = m.find(p + "experts." + w + ".weight");
        if (ref && isWidenOnly(ref->type) && ref->type != WeightType::Q5_0) {
          err = m.path + ": tensor '" + ref->name + "' is " + weightTypeName(ref->type) +
                ": MoE experts compute from f32, f16 or q8 only; --weight-type=f32 (exact), f16 "
                "or q8 widens them when compiling";
          return nullptr;
        }
      }
    bool blocks = w1t.getDimSize(1) % kQ8_0Block == 0 && w1t.getDimSize(2) % kQ8_0Block == 0;
    // (q4: experts have no 4-bit kernels yet; they take int8)
    if (blocks && (o.weightType == "q8" || o.weightType == "q4" ||
                   (o.weightType == "auto" && (storedAs(WeightType::Q8_0) ||
                                                                       storedAs(WeightType::Q5_0)))))
      experts.setWeightType(mlir::liquid::WeightStorage::Q8);
    else if (o.weightType == "f16" || (o.weightType == "auto" && storedAs(WeightType::F16)))
      experts.setWeightType(mlir::liquid::WeightStorage::F16);
    return experts;
  }

  Value norm(Value x, const std::string &weight) {
    Value w = W(weight);
    if (!w)
      return nullptr;
    return mlir::liquid::RMSNormOp::create(b, UnknownLoc::get(&ctx), x, w, APFloat(c.normEps));
  }

  Value linear(Value x, const std::string &weight) {
    Value w = W(weight);
    if (!w)
      return nullptr;
    int64_t out = cast<RankedTensorType>(w.getType()).getDimSize(0);
    auto l = mlir::liquid::LinearOp::create(b, UnknownLoc::get(&ctx), rows(out), x, w);
    const WeightRef *ref = m.find(weight);
    int64_t in = cast<RankedTensorType>(w.getType()).getDimSize(1);
    l.setWeightType(storageFor(ref ? ref->type : WeightType::F32, in));
    return l;
  }

  /// How a product stores a weight of type `t` with `in` inputs: auto keeps
  /// the checkpoint's type (its integer blocks as they are), --weight-type
  /// widens or quantizes all of them; blocks need whole blocks of 32 inputs
  /// (other products stay float32).
  mlir::liquid::WeightStorage storageFor(WeightType t, int64_t in) const {
    using mlir::liquid::WeightStorage;
    bool whole = in % kQ8_0Block == 0;
    if (o.weightType == "q8" && whole)
      return WeightStorage::Q8;
    if (o.weightType == "q4" && whole)
      return WeightStorage::Q4;
    if (o.weightType == "f16")
      return WeightStorage::F16;
    if (o.weightType != "auto")
      return WeightStorage::F32;
    switch (t) {
    case WeightType::F16: return WeightStorage::F16;
    case WeightType::Q8_0: case WeightType::Q5_0: return WeightStorage::Q8;
    case WeightType::Q4_0: return WeightStorage::Q4;
    case WeightType::Q4_1: return WeightStorage::Q4M;
    case WeightType::Q5_1: return WeightStorage::Q8M;
    case WeightType::Q4_K: return WeightStorage::Q4K; // (K types: in % 256 == 0)
    case WeightType::Q5_K: return WeightStorage::Q5K;
    case WeightType::Q6_K: return WeightStorage::Q6K;
    default: return WeightStorage::F32;
    }
  }

  MLIRContext &ctx;
  const Lfm2Model &m;
  const Lfm2Config &c;
  const Lfm2ImportOptions &o;
  WeightStore &store;
  std::string &err;
  OpBuilder b;
  std::map<std::string, Value> weights;
};

} // namespace

OwningOpRef<ModuleOp> importLfm2Model(MLIRContext &ctx, const Lfm2Model &model,
                                      const Lfm2ImportOptions &options, WeightStore &store,
                                      std::string &err) {
  ctx.loadDialect<mlir::liquid::LiquidDialect, func::FuncDialect, arith::ArithDialect>();
  if (model.config.arch != "lfm2" && model.config.arch != "lfm2moe") {
    err = model.path + ": architecture '" + model.config.arch + "' is not supported";
    return nullptr;
  }
  return Lfm2Builder(ctx, model, options, store, err).run();
}

} // namespace liquid
