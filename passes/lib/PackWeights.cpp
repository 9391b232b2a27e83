//===- PackWeights.cpp - liquid-pack-weights --------------------------------===//
//
// Gives every (weight, layout, element) an op reads one slot of the packed
// blob, records the slots on the ops (`liquid.packed`) and the blob's layout
// on the module (`liquid.weights`), and, with the tensors at hand, packs the
// data into the module's `liquid.weight_data` resource or, slot by slot, to
// a WeightSink (liquidc's .lqw file). The lowerings only read the attributes.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"
#include "liquid/Passes/WeightSink.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Threading.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <functional>
#include <map>
#include <mutex>

namespace mlir::liquid {
#define GEN_PASS_DEF_PACKWEIGHTS
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;
using namespace mlir::liquid;
using ::liquid::PackElement;
using ::liquid::PackFormat;
using ::liquid::PackLayout;

namespace {

/// Block-sparse packing: when the tensors are at hand and at least a quarter
/// of a matrix's 8-wide blocks are zero (wiring masks), the kernel is
/// unrolled over the nonzero blocks only.
constexpr double kSparseThreshold = 0.25;
constexpr int64_t kMaxUnrolledBlocks = 8192;
using ::liquid::kLtcTileChunks;

static_assert(static_cast<int>(WeightFn::Neg) == static_cast<int>(::liquid::MapFn::Neg) &&
                  static_cast<int>(WeightFn::Softplus) == static_cast<int>(::liquid::MapFn::Softplus),
              "WeightFn is MapFn");

/// Lays out the blob and packs it: add() and addTable() give each slot its
/// place at once and queue the work of filling it, which finish() runs on
/// the context's threads, each job evaluating its weight expression over the
/// checkpoint (or the values the liquid.weight ops carry) by itself.
class Packer {
public:
  Packer(MLIRContext *ctx, const ::liquid::WeightStore *checkpoint, bool withData, int64_t lanes,
         ::liquid::WeightSink *sink)
      : ctx(ctx), checkpoint(checkpoint), withData(withData), lanes(lanes), sink(sink) {}

  /// The slot of `v` in format `f` (packed on first use).
  FailureOr<WeightSlotAttr> add(Value v, PackFormat f) {
    PackKey key = packKey(v, f);
    if (auto it = index.find(key); it != index.end())
      return it->second;
    auto shape = cast<RankedTensorType>(v.getType()).getShape();
    int64_t floats = ::liquid::packedFloats({shape.begin(), shape.end()}, f, lanes);
    WeightSlotAttr slot = append(describe(v), f, floats);
    if (withData)
      jobs.push_back(
          {slot, v.getLoc(), v, {}, [=](const ::liquid::Tensor &t, std::vector<float> &out) {
             if (!::liquid::canPack(t, f)) {
               Operation *def = v.getDefiningOp();
               return LogicalResult((def ? def->emitError() : emitError(v.getLoc()))
                                    << "this weight is not stored as the integer blocks its reader "
                                       "asks for ("
                                    << ::liquid::formatName(f) << ")");
             }
             ::liquid::packTensor(t, f, lanes, out);
             return success();
           }});
    return index[key] = slot;
  }

  /// The blocks of `v` that `occ` marks (::liquid::packBlocks).
  FailureOr<WeightSlotAttr> addBlocks(Value v, bool transposed, const ::liquid::Occupancy &occ,
                                      int64_t tileChunks, WeightStorage element) {
    PackKey key = blocksKey(v, transposed);
    if (auto it = index.find(key); it != index.end())
      return it->second;
    std::string bits;
    SmallVector<Attribute> rows;
    for (const auto &row : occ) {
      std::string r;
      for (bool b : row)
        r += b ? '1' : '0';
      bits += r;
      rows.push_back(StringAttr::get(ctx, r));
    }
    std::string desc =
        describe(v) + llvm::formatv(" [blocks {0:x16}]", ::liquid::fnv1a(bits)).str();
    bool q8c = element == WeightStorage::Q8C; // transposed only (a dense layer's)
    int64_t count = ::liquid::countBlocks(occ);
    int64_t floats = q8c ? ::liquid::q8c::blockFloats(
                               ::liquid::roundUp(cast<RankedTensorType>(v.getType()).getDimSize(0),
                                                 lanes),
                               count, lanes)
                         : lanes * count;
    WeightSlotAttr slot =
        append(desc, transposed ? WeightLayout::BlocksTransposed : WeightLayout::BlocksRows,
               element, floats, ArrayAttr::get(ctx, rows));
    jobs.push_back(
        {slot, v.getLoc(), v, {}, [=](const ::liquid::Tensor &t, std::vector<float> &out) {
           if (q8c)
             ::liquid::packBlocksQ8C(t, occ, tileChunks, lanes, out);
           else
             ::liquid::packBlocks(t, transposed, occ, tileChunks, lanes, out);
           return success();
         }});
    return index[key] = slot;
  }

  /// A table the compiler derives (RoPE's), keyed by its description.
  WeightSlotAttr addTable(const std::string &desc, ::liquid::Tensor t, PackFormat f, Location loc) {
    if (auto it = tables.find(desc); it != tables.end())
      return it->second;
    WeightSlotAttr slot = append(desc, f, ::liquid::packedFloats(t.shape, f, lanes));
    if (withData)
      jobs.push_back({slot, loc, Value(), std::move(t),
                      [=](const ::liquid::Tensor &table, std::vector<float> &out) {
                        ::liquid::packTensor(table, f, lanes, out);
                        return success();
                      }});
    return tables[desc] = slot;
  }

  /// Forgets the values tensor() evaluated (call between ops): the tensors
  /// read on demand are decoded again if a job reads them.
  void release() { cache.clear(); }

  /// Fills the slots: the blob, zero-padded, or the sink. Each job holds the
  /// tensors it reads until it is done, so memory holds about one tensor
  /// per thread.
  LogicalResult finish() {
    if (!sink)
      blob.assign(size, 0.0f);
    return failableParallelForEach(ctx, jobs, [&](const Job &j) -> LogicalResult {
      Cache cache;
      const ::liquid::Tensor *t = j.weight ? eval(j.weight, cache) : &j.table;
      std::vector<float> data;
      if (!t || failed(j.pack(*t, data)))
        return failure();
      if (!sink) {
        std::copy(data.begin(), data.end(), blob.begin() + j.slot.getOffset());
        return success();
      }
      std::string err;
      if (!sink->write(j.slot.getOffset(), data.data(), data.size(), err))
        return emitError(j.loc) << "cannot write the packed weights: " << err;
      return success();
    });
  }

  /// The value of a weight when the tensors are at hand, else nullptr.
  const ::liquid::Tensor *tensor(Value v) { return withData ? eval(v, cache) : nullptr; }

  /// The blob's layout: size, lanes, and a hash of every slot, which the
  /// runtime checks against the weights file.
  WeightBlobAttr layout() const {
    std::string key;
    for (Attribute a : slots) {
      auto s = cast<WeightSlotAttr>(a);
      std::string layout = !s.getBlocks() ? ::liquid::formatName(packFormat(s))
                           : s.getElement() == WeightStorage::F32 ? "block-sparse"
                                                                   : "block-sparse-q8c";
      key += s.getTensor().str() + "|" + layout + "|" + std::to_string(s.getOffset()) + "|" +
             std::to_string(s.getFloats()) + ";";
    }
    uint64_t hash = ::liquid::fnv1a(key + std::to_string(size) + "/lanes" + std::to_string(lanes));
    return WeightBlobAttr::get(ctx, size, lanes,
                               StringAttr::get(ctx, llvm::formatv("{0:x16}", hash).str()),
                               ArrayAttr::get(ctx, slots));
  }

  std::vector<float> blob;

private:
  /// A dense slot (packFormat's inverse: the enums share their values).
  WeightSlotAttr append(const std::string &desc, PackFormat f, int64_t floats) {
    return append(desc, static_cast<WeightLayout>(f.layout), static_cast<WeightStorage>(f.element),
                  floats, {});
  }
  WeightSlotAttr append(const std::string &desc, WeightLayout layout, WeightStorage element,
                        int64_t floats, ArrayAttr blocks) {
    int64_t off = size;
    size += alignTo(std::max<int64_t>(floats, blocks ? 1 : 0), kSlotAlign);
    auto slot = WeightSlotAttr::get(ctx, StringAttr::get(ctx, desc), layout, element, off, floats,
                                    blocks);
    slots.push_back(slot);
    return slot;
  }

  std::string describe(Value v) {
    Operation *def = v.getDefiningOp();
    if (auto w = dyn_cast<WeightOp>(def))
      return w.getName().str();
    std::string s;
    auto args = [&](ValueRange vs) {
      for (auto [i, a] : llvm::enumerate(vs))
        s += (i ? ", " : "") + describe(a);
      s += ")";
    };
    if (auto c = dyn_cast<WeightConcatOp>(def)) {
      s = "concat" + std::to_string(c.getDim()) + "(";
      args(c.getInputs());
    } else if (auto m = dyn_cast<WeightMulOp>(def)) {
      s = "mul(";
      args({m.getLhs(), m.getRhs()});
    } else if (auto m = dyn_cast<WeightMapOp>(def)) {
      s = stringifyWeightFn(m.getFn()).str() + "(";
      args(m.getInput());
    }
    return s;
  }

  /// Values evaluated, by the opaque pointer of their Value.
  using Cache = std::map<void *, ::liquid::Tensor>;
  /// The work of filling one slot: the value of `weight` (or `table`, when
  /// there is none) in `pack`'s format, appended to the vector.
  struct Job {
    WeightSlotAttr slot;
    Location loc;
    Value weight;
    ::liquid::Tensor table;
    std::function<LogicalResult(const ::liquid::Tensor &, std::vector<float> &)> pack;
  };

  const ::liquid::Tensor *eval(Value v, Cache &cache) const;
  const ::liquid::Tensor *leaf(WeightOp w, Cache &cache) const;
  const ::liquid::Tensor *readLeaf(WeightOp w, Cache &cache) const;

public:
  bool strict = false; ///< non-finite weights are errors, not warnings
  /// Whether a tensor had NaN or infinite values (an error when strict).
  bool sawNonFinite() const {
    std::lock_guard<std::mutex> lock(finiteMu);
    return !nonFinite.empty();
  }

private:
  mutable llvm::StringSet<> finiteChecked; ///< tensors whose values were checked
  mutable llvm::StringSet<> nonFinite;     ///< those with NaN or infinite values
  mutable std::mutex finiteMu;             ///< (jobs pack on several threads)
  /// Drops `v`'s value from `cache` if it is a checkpoint tensor read on
  /// demand (decoded again if needed): an expression's inputs, once used.
  void forgetIfReadOnDemand(Value v, Cache &cache) const;

  MLIRContext *ctx;
  const ::liquid::WeightStore *checkpoint;
  bool withData;
  int64_t lanes, size = 0;
  ::liquid::WeightSink *sink;
  SmallVector<Attribute> slots;
  std::map<PackKey, WeightSlotAttr> index;
  std::map<std::string, WeightSlotAttr> tables;
  Cache cache;
  std::vector<Job> jobs;
};

/// leaf's tensor, its values checked once: NaN or infinite values are a
/// warning naming the tensor (an error when strict).
const ::liquid::Tensor *Packer::leaf(WeightOp w, Cache &cache) const {
  const ::liquid::Tensor *t = readLeaf(w, cache);
  if (!t || w.getValueAttr())
    return t;
  {
    std::lock_guard<std::mutex> lock(finiteMu);
    if (!finiteChecked.insert(w.getName()).second)
      return strict && nonFinite.contains(w.getName()) ? nullptr : t;
  }
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < t->data.size(); ++i)
    if (!std::isfinite(t->data[i]) && bad++ == 0)
      first = static_cast<int64_t>(i);
  if (bad == 0)
    return t;
  {
    std::lock_guard<std::mutex> lock(finiteMu);
    nonFinite.insert(w.getName());
  }
  auto say = [&](InFlightDiagnostic d) {
    d << "tensor '" << w.getName() << "' has " << bad << " NaN or infinite value"
      << (bad == 1 ? "" : "s") << " (the first at element " << first << ")";
    if (!strict)
      d << "; --strict makes this an error";
  };
  if (strict) {
    say(w.emitError());
    return nullptr;
  }
  say(w.emitWarning());
  return t;
}

const ::liquid::Tensor *Packer::readLeaf(WeightOp w, Cache &cache) const {
  auto shape = cast<RankedTensorType>(w.getType()).getShape();
  ::liquid::Tensor t;
  if (DenseElementsAttr value = w.getValueAttr()) {
    t.shape.assign(shape.begin(), shape.end());
    for (APFloat x : value.getValues<APFloat>())
      t.data.push_back(x.convertToFloat());
    return &(cache[w.getResult().getAsOpaquePointer()] = std::move(t));
  }
  auto it = checkpoint ? checkpoint->find(w.getName().str()) : ::liquid::WeightStore::const_iterator();
  if (!checkpoint || it == checkpoint->end()) {
    w.emitError() << "the checkpoint has no tensor named '" << w.getName() << "'";
    return nullptr;
  }
  const ::liquid::Tensor &src = it->second;
  auto misfit = [&](const ::liquid::Tensor &t) {
    if (std::vector<int64_t>(shape.begin(), shape.end()) == t.shape &&
        t.numel() == static_cast<int64_t>(t.data.size()))
      return false;
    w.emitError() << "tensor '" << w.getName() << "' does not have the shape the IR expects";
    return true;
  };
  if (!src.load)
    return misfit(src) ? nullptr : &src; // not copied: the checkpoint outlives the pass
  // read on demand, kept as long as `cache` (the job, or until release())
  ::liquid::Tensor read;
  read.name = src.name;
  read.shape = src.shape;
  src.load(read);
  if (misfit(read))
    return nullptr;
  return &(cache[w.getResult().getAsOpaquePointer()] = std::move(read));
}

void Packer::forgetIfReadOnDemand(Value v, Cache &cache) const {
  auto w = v.getDefiningOp<WeightOp>();
  if (!w || !checkpoint)
    return;
  auto it = checkpoint->find(w.getName().str());
  if (it != checkpoint->end() && it->second.load)
    cache.erase(v.getAsOpaquePointer());
}

const ::liquid::Tensor *Packer::eval(Value v, Cache &cache) const {
  if (auto it = cache.find(v.getAsOpaquePointer()); it != cache.end())
    return &it->second;
  Operation *def = v.getDefiningOp();
  ::liquid::Tensor t;
  if (auto w = dyn_cast_or_null<WeightOp>(def)) {
    return leaf(w, cache);
  } else if (auto c = dyn_cast_or_null<WeightConcatOp>(def)) {
    std::vector<const ::liquid::Tensor *> parts;
    for (Value in : c.getInputs()) {
      const ::liquid::Tensor *p = eval(in, cache);
      if (!p)
        return nullptr;
      parts.push_back(p);
    }
    t = ::liquid::concatTensors(parts, c.getDim());
    for (Value in : c.getInputs())
      forgetIfReadOnDemand(in, cache); // MoE: the stacked experts, before packing
  } else if (auto m = dyn_cast_or_null<WeightMulOp>(def)) {
    const ::liquid::Tensor *a = eval(m.getLhs(), cache), *b = eval(m.getRhs(), cache);
    if (!a || !b)
      return nullptr;
    t = ::liquid::mulTensors(*a, *b);
  } else if (auto m = dyn_cast_or_null<WeightMapOp>(def)) {
    const ::liquid::Tensor *a = eval(m.getInput(), cache);
    if (!a)
      return nullptr;
    t = ::liquid::mapTensor(*a, static_cast<::liquid::MapFn>(m.getFn()));
  } else {
    (def ? def->emitError() : emitError(v.getLoc())) << "is not a weight";
    return nullptr;
  }
  return &(cache[v.getAsOpaquePointer()] = std::move(t));
}

/// The occupancy of the matrices of `op` to pack block-sparse, if it pays:
/// a dense layer's weight (transposed), an LTC's recurrent and sensory
/// synapse matrices (rows).
struct SparsePlan {
  ::liquid::Occupancy occ, sensoryOcc;
};
std::optional<SparsePlan> planSparsity(Operation *op, Packer &packer, int64_t lanes) {
  auto worth = [](const ::liquid::Occupancy &occ) {
    int64_t total = occ.empty() ? 0 : occ.size() * occ.front().size();
    return total > 0 && total <= kMaxUnrolledBlocks &&
           ::liquid::zeroFraction(occ) >= kSparseThreshold;
  };
  std::optional<SparsePlan> p;
  if (auto d = dyn_cast<DenseOp>(op)) {
    if (const ::liquid::Tensor *w = isWeight(d.getWeight()) ? packer.tensor(d.getWeight()) : nullptr)
      p = SparsePlan{::liquid::blockOccupancy(*w, /*transposed=*/true, lanes), {}};
  } else if (auto l = dyn_cast<LTCSolveOp>(op)) {
    if (!llvm::all_of(l.getParams(), isWeight))
      return std::nullopt;
    const ::liquid::Tensor *w = packer.tensor(l.getWEff()), *sw = packer.tensor(l.getSensoryWEff());
    if (w && sw)
      p = SparsePlan{::liquid::blockOccupancy(*w, false, lanes),
                     ::liquid::blockOccupancy(*sw, false, lanes)};
  }
  if (p && !worth(p->occ))
    return std::nullopt;
  return p;
}

/// RoPE's cos and sin tables of an attention ([cache length, head_dim / 2],
/// computed in double precision).
std::pair<std::string, ::liquid::Tensor> ropeTable(AttentionOp op, bool sine) {
  int64_t hd = op.getHeadDim(), half = hd / 2;
  auto sb = SymbolTable::lookupNearestSymbolFrom<StateBufferOp>(op, op.getStateAttr());
  int64_t len = cast<RankedTensorType>(sb.getType()).getDimSize(1);
  double theta = op.getRopeTheta().convertToDouble();
  ::liquid::Tensor t;
  t.shape = {len, half};
  t.data.resize(len * half);
  for (int64_t p = 0; p < len; ++p)
    for (int64_t i = 0; i < half; ++i) {
      double a = p * std::pow(theta, -2.0 * i / hd);
      t.data[p * half + i] = static_cast<float>(sine ? std::sin(a) : std::cos(a));
    }
  return {llvm::formatv("{0} rope(theta={1}, head_dim={2}, ctx={3})", sine ? "sin" : "cos", theta,
                        hd, len)
              .str(),
          std::move(t)};
}

struct PackWeightsPass : mlir::liquid::impl::PackWeightsBase<PackWeightsPass> {
  using Base::Base;
  PackWeightsPass(const PackWeightsOptions &o, const ::liquid::WeightStore *checkpoint,
                  ::liquid::WeightSink *sink)
      : Base(o), checkpoint(checkpoint), sink(sink) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (vectorWidth != 8 && vectorWidth != 16) {
      module.emitError() << "vector-width must be 8 or 16, got " << vectorWidth.getValue();
      return signalPassFailure();
    }
    // The data is packed when every tensor is at hand.
    bool withData = checkpoint != nullptr;
    if (!withData) {
      bool any = false, all = true;
      module.walk([&](WeightOp w) {
        any = true;
        all &= static_cast<bool>(w.getValueAttr());
      });
      withData = any && all;
    }
    Packer packer(&getContext(), checkpoint, withData, vectorWidth, withData ? sink : nullptr);
    packer.strict = strictWeights;
    for (auto f : module.getOps<func::FuncOp>()) {
      Block *body = loweredBlock(f);
      if (!body)
        continue;
      for (Operation &op : *body) {
        if (failed(packOp(op, packer)))
          return signalPassFailure();
        packer.release();
      }
    }
    if (withData && failed(packer.finish()))
      return signalPassFailure();
    if (strictWeights && packer.sawNonFinite())
      return signalPassFailure(); // said where it was found
    writeAttr<WeightsAttrHelper>(module, packer.layout());
    if (withData && !sink)
      writeAttr<WeightDataAttrHelper>(module, dataAttr(std::move(packer.blob)));
  }

  /// The block a lowering turns into a kernel: a language model's function
  /// body, or the body of a cell function's scan.
  static Block *loweredBlock(func::FuncOp f) {
    if (hasAttr<MaxRowsAttrHelper>(f))
      return &f.getBody().front();
    auto scans = f.getBody().getOps<ScanOp>();
    return scans.empty() ? nullptr : &(*scans.begin()).getBody().front();
  }

  LogicalResult packOp(Operation &op, Packer &packer) {
    auto reader = dyn_cast<WeightReaderOpInterface>(op);
    if (!reader)
      return success();
    SmallVector<WeightUse> uses;
    reader.getWeightUses(uses);
    std::optional<SparsePlan> plan;
    if (blockSparse)
      plan = planSparsity(&op, packer, vectorWidth);
    auto ltc = dyn_cast<LTCSolveOp>(op);
    SmallVector<Attribute> slots;
    for (const WeightUse &u : uses) {
      Value v = op.getOperand(u.operand);
      if (!isWeight(v))
        return op.emitOpError() << "reads operand #" << u.operand
                                << " as a weight, but it is not one (liquid.weight or liquid.weight_*)";
      FailureOr<WeightSlotAttr> slot;
      if (plan && u.layout == WeightLayout::Transposed)
        slot = packer.addBlocks(v, true, plan->occ, ::liquid::denseTile(vectorWidth) / vectorWidth,
                                u.element);
      else if (plan && u.layout == WeightLayout::Rows)
        slot = packer.addBlocks(v, false,
                                ltc && llvm::is_contained(ValueRange{ltc.getSigma(), ltc.getMu(),
                                                                     ltc.getWEff(), ltc.getWErev()},
                                                          v)
                                    ? plan->occ
                                    : plan->sensoryOcc,
                                kLtcTileChunks, WeightStorage::F32);
      else
        slot = packer.add(v, packFormat(u));
      if (failed(slot))
        return failure();
      slots.push_back(*slot);
    }
    if (auto a = dyn_cast<AttentionOp>(op))
      for (bool sine : {false, true}) {
        auto [desc, table] = ropeTable(a, sine);
        slots.push_back(packer.addTable(desc, std::move(table), PackLayout::Rows, a.getLoc()));
      }
    if (!slots.empty())
      writeAttr<PackedAttrHelper>(&op, ArrayAttr::get(&getContext(), slots));
    return success();
  }

  /// The blob as a resource the IR owns (no copy).
  DenseResourceElementsAttr dataAttr(std::vector<float> blob) {
    auto type = RankedTensorType::get({static_cast<int64_t>(blob.size())},
                                      Float32Type::get(&getContext()));
    auto *owned = new std::vector<float>(std::move(blob));
    AsmResourceBlob data(
        ArrayRef<char>(reinterpret_cast<const char *>(owned->data()), owned->size() * sizeof(float)),
        alignof(float), [owned](void *, size_t, size_t) { delete owned; },
        /*dataIsMutable=*/false);
    return DenseResourceElementsAttr::get(type, "liquid_weights", std::move(data));
  }

  const ::liquid::WeightStore *checkpoint = nullptr;
  ::liquid::WeightSink *sink = nullptr;
};

} // namespace

std::unique_ptr<Pass> mlir::liquid::createPackWeights(const PackWeightsOptions &options,
                                                      const ::liquid::WeightStore *checkpoint,
                                                      ::liquid::WeightSink *sink) {
  return std::make_unique<PackWeightsPass>(options, checkpoint, sink);
}

std::optional<ArrayRef<float>> mlir::liquid::packedWeightData(ModuleOp module) {
  auto attr = readAttr<WeightDataAttrHelper>(module);
  if (!attr)
    return std::nullopt;
  AsmResourceBlob *blob = attr.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  return blob->getDataAs<float>();
}
