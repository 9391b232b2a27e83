//===- KernelBuilder.h - shared by the kernel lowerings --------*- C++ -*-===//
//
// Where the packed weights are (PackedWeights, read from what
// liquid-pack-weights recorded) and a small builder of vector code (loads,
// stores, loops, activations), shared by the cell lowering (LowerCells.cpp)
// and the language-model lowering (LowerLM.cpp). Private to passes/lib.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_PASSES_KERNELBUILDER_H
#define LIQUID_PASSES_KERNELBUILDER_H

#include "MemoryPlan.h"
#include "WeightEval.h"
#include "liquid/Passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>
#include <optional>

namespace mlir::liquid {

using ::liquid::PackElement;
using ::liquid::PackFormat;
using ::liquid::PackLayout;

/// The packed element type of weights stored as `w` (an op's weight_type).
inline PackElement packElement(WeightStorage w) { return static_cast<PackElement>(w); }

/// The dialect's dense WeightLayouts are PackLayout's values (the block-sparse
/// ones come after them and have no PackLayout).
static_assert(static_cast<int>(WeightLayout::TransposedBatchedGLU) ==
                  static_cast<int>(PackLayout::TransposedBatchedGLU),
              "WeightLayout's dense layouts are PackLayout's");
static_assert(static_cast<int>(WeightStorage::F16) == static_cast<int>(PackElement::F16) &&
                  static_cast<int>(WeightStorage::Q8) == static_cast<int>(PackElement::Q8) &&
                  static_cast<int>(WeightStorage::Q4) == static_cast<int>(PackElement::Q4) &&
                  static_cast<int>(WeightStorage::Q8I) == static_cast<int>(PackElement::Q8I) &&
                  static_cast<int>(WeightStorage::Q6K) == static_cast<int>(PackElement::Q6K),
              "WeightStorage has PackElement's values");
/// The packed format of a dense layout and element type: what an op asks
/// for (WeightReaderOpInterface) or a slot records.
inline PackFormat packFormat(WeightLayout l, WeightStorage e) {
  assert(l != WeightLayout::BlocksTransposed && l != WeightLayout::BlocksRows &&
         "block-sparse layouts are not PackFormats");
  return {static_cast<PackLayout>(l), packElement(e)};
}
inline PackFormat packFormat(const WeightUse &u) { return packFormat(u.layout, u.element); }
inline PackFormat packFormat(WeightSlotAttr s) { return packFormat(s.getLayout(), s.getElement()); }

/// Index keys of packed weights: (weight, format), and (weight, transposed?)
/// for block-sparse ones.
using PackKey = std::pair<void *, int>;
inline PackKey packKey(Value v, PackFormat f) {
  return {v.getAsOpaquePointer(), static_cast<int>(f.layout) * 16 + static_cast<int>(f.element)};
}
inline PackKey blocksKey(Value v, bool transposed) {
  return {v.getAsOpaquePointer(), 100 + static_cast<int>(transposed)};
}

//===----------------------------------------------------------------------===//
// Packed weights, as liquid-pack-weights recorded them
//===----------------------------------------------------------------------===//

/// Where each weight an op reads lies in the blob: the module's
/// `liquid.weights` and the ops' `liquid.packed` slots, indexed by (value,
/// format).
class PackedWeights {
public:
  explicit PackedWeights(int64_t lanes) : lanes(lanes) {}
  const int64_t lanes;
  /// Floats in the blob.
  int64_t size = 0;

  /// Checks the vector width (8 or 16) and reads the blob's layout; fails
  /// (with an error) if the weights were not packed, or packed for another
  /// vector width.
  LogicalResult init(ModuleOp module);
  /// Indexes the slots of the ops of `block` (fails on an op that reads
  /// weights but has none).
  LogicalResult collect(Block &block);

  int64_t lookup(Value v, PackFormat l) const { return at(packKey(v, l)); }
  int64_t lookupBlocks(Value v, bool transposed) const { return at(blocksKey(v, transposed)); }
  /// The kept blocks of `v` if it was packed block-sparse, else nullptr.
  const ::liquid::Occupancy *occupancy(Value v, bool transposed) const {
    auto it = blocks.find(blocksKey(v, transposed));
    return it == blocks.end() ? nullptr : &it->second;
  }
  /// Offsets of the tables `op` reads that are not operands (RoPE's cos and
  /// sin for an attention), in the order liquid-pack-weights gave them.
  ArrayRef<int64_t> tables(Operation *op) const {
    auto it = extra.find(op);
    return it == extra.end() ? ArrayRef<int64_t>() : ArrayRef<int64_t>(it->second);
  }

private:
  int64_t at(PackKey key) const {
    auto it = index.find(key);
    assert(it != index.end() && "weight read that liquid-pack-weights did not pack");
    return it->second;
  }
  std::map<PackKey, int64_t> index;
  std::map<PackKey, ::liquid::Occupancy> blocks;
  DenseMap<Operation *, SmallVector<int64_t>> extra;
};

/// The frame of the kernel lowerings: reads the packed weights' layout, has
/// `lower` turn each of `funcs` into a kernel at the end of the module (with
/// a builder there), then erases them.
LogicalResult lowerKernelFunctions(
    ModuleOp module, ArrayRef<func::FuncOp> funcs, int64_t lanes,
    function_ref<LogicalResult(func::FuncOp, OpBuilder &, PackedWeights &)> lower);

/// A place in memory: a memref (weights or arena) and a float offset.
struct Buf {
  Value mem;
  int64_t off;
};

/// Builds vector code of `lanes` floats per vector.
class VecBuilder {
public:
  VecBuilder(OpBuilder &b, Location loc, int64_t lanes)
      : b(b), loc(loc), lanes(lanes), v8(VectorType::get({lanes}, b.getF32Type())) {}

  Value idx(int64_t i) { return arith::ConstantIndexOp::create(b, loc, i); }
  Value at(Value base, int64_t off) {
    if (!base)
      return idx(off);
    return off ? arith::AddIOp::create(b, loc, base, idx(off)).getResult() : base;
  }
  Value splat(float f) {
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v8, ArrayRef<float>{f}));
  }
  Value scalar(float f) { return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(f)); }
  Value bcast(Value s) { return vector::BroadcastOp::create(b, loc, v8, s); }
  template <typename OpT> Value fp(Value x, Value y) {
    auto op = OpT::create(b, loc, x, y);
    op.setFastmath(arith::FastMathFlags::contract);
    return op;
  }
  Value add(Value x, Value y) { return fp<arith::AddFOp>(x, y); }
  Value sub(Value x, Value y) { return fp<arith::SubFOp>(x, y); }
  Value mul(Value x, Value y) { return fp<arith::MulFOp>(x, y); }
  Value div(Value x, Value y) { return fp<arith::DivFOp>(x, y); }
  Value ld(Buf p, Value dyn, int64_t off) {
    return vector::LoadOp::create(b, loc, v8, p.mem, ValueRange{at(dyn, p.off + off)});
  }
  void st(Value v, Buf p, Value dyn, int64_t off) {
    vector::StoreOp::create(b, loc, v, p.mem, ValueRange{at(dyn, p.off + off)});
  }
  /// A constant mask whose first `valid` lanes are set.
  Value mask(int64_t valid) {
    auto type = VectorType::get({lanes}, b.getI1Type());
    SmallVector<bool> bits(lanes, false);
    for (int64_t i = 0; i < std::min(valid, lanes); ++i)
      bits[i] = true;
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, ArrayRef<bool>(bits)));
  }
  /// The first `valid` lanes at `p` (the rest read as zero; nothing past
  /// them is touched): the last vector of a row that is not a multiple of
  /// the vector width.
  Value ldPart(Buf p, Value dyn, int64_t off, int64_t valid) {
    if (valid >= lanes)
      return ld(p, dyn, off);
    return vector::MaskedLoadOp::create(b, loc, v8, p.mem, ValueRange{at(dyn, p.off + off)},
                                        mask(valid), splat(0.0f));
  }
  /// Stores the first `valid` lanes of `v` (all of them when valid >= lanes).
  void stPart(Value v, Buf p, Value dyn, int64_t off, int64_t valid) {
    if (valid >= lanes)
      return st(v, p, dyn, off);
    vector::MaskedStoreOp::create(b, loc, p.mem, ValueRange{at(dyn, p.off + off)}, mask(valid), v);
  }
  /// `lanes` int8 weights (q8c) as floats: those at byte 4 * (p.off + dyn) +
  /// offBytes of the float memref (offBytes a multiple of 4).
  Value ldQ8(Buf p, Value dyn, int64_t offBytes) {
    assert(offBytes % 4 == 0 && lanes % 4 == 0 && "int8 vectors are whole floats");
    if (compact) {
      // 4 int8 at a time, converted and joined: what 4-lane vector units
      // (Helium) widen in one load, instead of moving 16-bit lanes about.
      SmallVector<Value> parts;
      auto f1 = VectorType::get({1}, b.getF32Type());
      auto i4 = VectorType::get({4}, b.getIntegerType(8));
      auto f4 = VectorType::get({4}, b.getF32Type());
      for (int64_t i = 0; i < lanes / 4; ++i) {
        Value w = vector::LoadOp::create(b, loc, f1, p.mem, ValueRange{at(dyn, p.off + offBytes / 4 + i)});
        parts.push_back(arith::SIToFPOp::create(b, loc, f4, vector::BitCastOp::create(b, loc, i4, w)));
      }
      while (parts.size() > 1) {
        SmallVector<Value> next;
        for (size_t i = 0; i < parts.size(); i += 2) {
          int64_t n = cast<VectorType>(parts[i].getType()).getDimSize(0);
          SmallVector<int64_t> mask;
          for (int64_t j = 0; j < 2 * n; ++j)
            mask.push_back(j);
          next.push_back(vector::ShuffleOp::create(b, loc, parts[i], parts[i + 1], mask));
        }
        parts = next;
      }
      return parts.front();
    }
    auto packed = VectorType::get({lanes / 4}, b.getF32Type());
    Value w = vector::LoadOp::create(b, loc, packed, p.mem, ValueRange{at(dyn, p.off + offBytes / 4)});
    Value q = vector::BitCastOp::create(b, loc, VectorType::get({lanes}, b.getIntegerType(8)), w);
    return arith::SIToFPOp::create(b, loc, v8, q);
  }
  Value ldScalar(Buf p, Value dyn, int64_t off) {
    return memref::LoadOp::create(b, loc, p.mem, ValueRange{at(dyn, p.off + off)});
  }
  /// The byte address of float `p.off` of `p.mem`, as an index (what the C
  /// entry points of the Halide kernels take for a pointer).
  Value address(Buf p) {
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, p.mem);
    Value off = idx(p.off * 4);
    if (!cast<MemRefType>(p.mem.getType()).getLayout().isIdentity()) {
      // A view (one row's arena in a batched kernel): its offset is not in
      // the aligned pointer.
      Value elems = memref::ExtractStridedMetadataOp::create(b, loc, p.mem).getOffset();
      off = arith::AddIOp::create(b, loc, off,
                                  arith::MulIOp::create(b, loc, elems, idx(4)).getResult());
    }
    return arith::AddIOp::create(b, loc, base, off).getResult();
  }
  /// Calls the external function `name` of `module`, declaring it (private,
  /// no results, the argument types of `args`) the first time.
  void callExternal(ModuleOp module, StringRef name, ValueRange args) {
    if (!SymbolTable::lookupSymbolIn(module, name)) {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(module.getBody());
      func::FuncOp::create(b, loc, name, b.getFunctionType(TypeRange(args), {})).setPrivate();
    }
    func::CallOp::create(b, loc, name, TypeRange{}, args);
  }
  /// exp(x) for the sigmoids: 2^n * p(f) with t = x log2(e) clamped to
  /// [-126, 126], n = round(t), f = t - n in [-1/2, 1/2] and p the degree-6
  /// Taylor polynomial of 2^f (relative error < 2e-7 plus the rounding of t,
  /// ~|x| 6e-8). About half the instructions of the general approximation.
  Value expForSigmoid(Value x) {
    Value t = mul(x, splat(1.44269504088896341f));
    t = arith::MinimumFOp::create(b, loc, arith::MaximumFOp::create(b, loc, t, splat(-126.0f)),
                                  splat(126.0f));
    // Compact kernels (microcontrollers) round to nearest even by adding and
    // subtracting 1.5 * 2^23 (exact for |t| < 2^22): math.roundeven would
    // call roundevenf on targets without a rounding instruction (Cortex-M4,
    // RV32F). Elsewhere math.roundeven: the conversion below then folds into
    // one (on RVV qemu 7.2 mistranslates the rtz conversion the other gives).
    Value n;
    if (compact) {
      Value magic = splat(12582912.0f);
      n = sub(add(t, magic), magic);
    } else {
      n = math::RoundEvenOp::create(b, loc, t);
    }
    Value f = sub(t, n);
    static const float c[] = {1.0f,          0.693147181f,   0.240226507f,  0.0555041087f,
                              0.00961812911f, 0.00133335581f, 0.000154035304f};
    Value p = splat(c[6]);
    for (int i = 5; i >= 0; --i)
      p = add(mul(p, f), splat(c[i]));
    auto i32 = VectorType::get({lanes}, b.getI32Type());
    Value ni = arith::FPToSIOp::create(b, loc, i32, n);
    Value bias = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i32, ArrayRef<int32_t>{127}));
    Value sh = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i32, ArrayRef<int32_t>{23}));
    Value bits = arith::ShLIOp::create(b, loc, arith::AddIOp::create(b, loc, ni, bias), sh);
    return mul(p, arith::BitcastOp::create(b, loc, v8, bits));
  }
  Value sigmoid(Value x) {
    Value e = expForSigmoid(fp<arith::SubFOp>(splat(0.0f), x));
    return div(splat(1.0f), add(splat(1.0f), e));
  }
  Value tanh(Value x) { return math::TanhOp::create(b, loc, x); }
  Value activation(Activation kind, Value x) {
    switch (kind) {
    case Activation::None:
      return x;
    case Activation::Relu:
      return arith::MaximumFOp::create(b, loc, x, splat(0.0f));
    case Activation::Tanh:
      return tanh(x);
    case Activation::LecunTanh:
      return mul(splat(1.7159f), tanh(mul(splat(0.666f), x)));
    case Activation::Sigmoid:
      return sigmoid(x);
    case Activation::Silu:
      return mul(x, sigmoid(x));
    case Activation::Gelu: {
      // exact: 0.5 x (1 + erf(x / sqrt 2))
      Value e = math::ErfOp::create(b, loc, mul(x, splat(0.70710678118654752f)));
      return mul(mul(splat(0.5f), x), add(splat(1.0f), e));
    }
    }
    llvm_unreachable("unknown activation");
  }

  /// Runs `body(offset)` for each vector-sized chunk of `n` elements: unrolled for a
  /// few chunks, as an scf.for otherwise.
  /// Small code over speed (microcontrollers): forChunks always loops, dense
  /// products keep one accumulator, exp rounds without math.roundeven.
  bool compact = false;
  /// Compact kernels: floats per vector of element-wise loops (0: lanes).
  int64_t elementLanes = 0;

  void forChunks(int64_t n, function_ref<void(Value dyn, int64_t off)> body) {
    int64_t chunks = ::liquid::roundUp(n, lanes) / lanes;
    if (chunks <= (compact ? 1 : 8)) {
      for (int64_t c = 0; c < chunks; ++c)
        body(Value(), c * lanes);
      return;
    }
    loop(0, chunks * lanes, lanes, {}, [&](Value iv, ValueRange) -> SmallVector<Value> {
      body(iv, 0);
      return {};
    });
  }

  SmallVector<Value> loop(int64_t lb, int64_t ub, int64_t step, ValueRange init,
                          function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    return loop(idx(lb), idx(ub), step, init, body);
  }
  /// The same with bounds computed at run time.
  SmallVector<Value> loop(Value lb, Value ub, int64_t step, ValueRange init,
                          function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(
        b, loc, lb, ub, idx(step), init,
        [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          SmallVector<Value> next = body(iv, args);
          scf::YieldOp::create(b, loc, next);
        });
    return SmallVector<Value>(forOp.getResults());
  }

  OpBuilder &b;
  Location loc;
  int64_t lanes; ///< floats per vector
  VectorType v8; ///< vector<lanes x f32>
};

/// Narrows a VecBuilder's vectors to `l` lanes while it lives: ops whose
/// rows are not a multiple of the full width work on shorter vectors
/// (packed weight layouts keep the packer's width).
class LanesScope {
public:
  LanesScope(VecBuilder &vb, int64_t l) : vb(vb), lanes(vb.lanes), v8(vb.v8) {
    vb.lanes = l;
    vb.v8 = VectorType::get({l}, vb.b.getF32Type());
  }
  ~LanesScope() {
    vb.lanes = lanes;
    vb.v8 = v8;
  }
  LanesScope(const LanesScope &) = delete;
  LanesScope &operator=(const LanesScope &) = delete;

private:
  VecBuilder &vb;
  int64_t lanes;
  VectorType v8;
};

/// The widest vector of at most `lanes` floats (a power of two) that divides
/// every width in `widths`.
inline int64_t fitLanes(int64_t lanes, ArrayRef<int64_t> widths) {
  for (int64_t w : widths)
    while (lanes > 1 && w % lanes)
      lanes /= 2;
  return lanes;
}

} // namespace mlir::liquid

#endif
