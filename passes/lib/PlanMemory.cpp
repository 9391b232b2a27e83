//===- PlanMemory.cpp - liquid-plan-memory ---------------------------------===//
//
// Static arena planning, one placement for both model kinds (Placement):
// persistent slots first (a cell's states and step input; a language
// model's conv and KV caches), then first-fit placement of every activation
// and scratch buffer over its live range. A cell's activations are vectors;
// a language model's are [max_rows, N].
//
//===----------------------------------------------------------------------===//
#include "MemoryPlan.h"
#include "liquid/Passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::liquid {
#define GEN_PASS_DEF_PLANMEMORY
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;
using namespace mlir::liquid;

namespace {

struct Interval {
  int64_t offset, size, lastUse;
};

/// First-fit placement: the lowest offset where [offset, offset+size) does not
/// overlap a slot that is still live at position `at`.
class Arena {
public:
  explicit Arena(int64_t reservedEnd) : top(reservedEnd), base(reservedEnd) {}

  int64_t place(int64_t size, int64_t at, int64_t lastUse) {
    SmallVector<Interval> live;
    for (const Interval &iv : slots)
      if (iv.lastUse >= at)
        live.push_back(iv);
    llvm::sort(live, [](const Interval &a, const Interval &b) { return a.offset < b.offset; });
    int64_t cand = base;
    for (const Interval &iv : live) {
      if (cand + size <= iv.offset)
        break;
      cand = std::max(cand, iv.offset + iv.size);
    }
    slots.push_back({cand, size, lastUse});
    top = std::max(top, cand + size);
    return cand;
  }
  int64_t size() const { return alignTo(top, kSlotAlign); }

private:
  SmallVector<Interval> slots;
  int64_t top, base;
};

int64_t vecLen(Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(0); }

/// Program positions of a block's ops and the last position each value is
/// used at (uses inside nested regions count at their ancestor in the block).
class Liveness {
public:
  explicit Liveness(Block &block) : block(block) {
    int64_t n = 0;
    for (Operation &op : block)
      positions[&op] = n++;
  }
  int64_t pos(Operation *op) const { return positions.lookup(op); }
  int64_t lastUse(Value v) const {
    int64_t last = -1;
    for (OpOperand &use : v.getUses())
      if (Operation *owner = block.findAncestorOpInBlock(*use.getOwner()))
        last = std::max(last, positions.lookup(owner));
    return last;
  }

private:
  Block &block;
  DenseMap<Operation *, int64_t> positions;
};

/// The one placement both model kinds use: every tensor result of the ops of
/// `block` (weights aside) and every op's scratch (ScratchOpInterface, for
/// calls of `rows` rows), first fit in program order by live range.
/// `fixed` gives a result's offset when it is already decided (a state slot;
/// -1 for the caller's output buffer), `size` its floats (or an error).
/// Records `liquid.offset`, `liquid.scratch` and `liquid.scratch_floats`.
struct Placement {
  Block &block;
  Arena &arena;
  const Liveness &live;
  int64_t rows;
  function_ref<FailureOr<int64_t>(Operation &, RankedTensorType)> size;
  function_ref<std::optional<int64_t>(Value)> fixed;

  LogicalResult run(DenseMap<Value, int64_t> &offset) {
    Builder b(block.getParentOp()->getContext());
    for (Operation &op : block) {
      if (op.hasTrait<OpTrait::IsTerminator>())
        continue;
      SmallVector<int64_t> offs;
      bool any = false;
      for (Value r : op.getResults()) {
        auto rt = dyn_cast<RankedTensorType>(r.getType());
        if (!rt || isWeight(r)) {
          offs.push_back(-1);
          continue;
        }
        FailureOr<int64_t> floats = size(op, rt);
        if (failed(floats))
          return failure();
        any = true;
        std::optional<int64_t> o = fixed(r);
        if (!o)
          o = arena.place(*floats, live.pos(&op), live.lastUse(r));
        offset[r] = *o;
        offs.push_back(*o);
      }
      if (any)
        writeAttr<OffsetAttrHelper>(&op, b.getDenseI64ArrayAttr(offs));
      auto scratchOp = dyn_cast<ScratchOpInterface>(op);
      if (int64_t s = scratchOp ? scratchOp.getScratchFloats(rows) : 0) {
        writeAttr<ScratchAttrHelper>(&op, b.getI64IntegerAttr(arena.place(s, live.pos(&op),
                                                                          live.pos(&op))));
        writeAttr<ScratchFloatsAttrHelper>(&op, b.getI64IntegerAttr(s));
      }
    }
    return success();
  }
};

struct PlanMemoryPass : mlir::liquid::impl::PlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    if (hasAttr<MaxRowsAttrHelper>(getOperation())) {
      if (failed(planLM(getOperation())))
        signalPassFailure();
      return;
    }
    getOperation().walk([&](ScanOp scan) {
      if (failed(plan(scan)))
        signalPassFailure();
    });
  }

  /// Language-model functions: every activation is [T, N] with T <= max_rows
  /// and gets max_rows x N floats; state buffers (conv and KV caches) come
  /// first and persist; the returned logits are written to the caller's
  /// buffer (offset -1), not to the arena.
  LogicalResult planLM(func::FuncOp f) {
    int64_t maxRows = readAttr<MaxRowsAttrHelper>(f).getInt();
    Block &body = f.getBody().front();
    Builder b(f.getContext());
    auto module = f->getParentOfType<ModuleOp>();
    int64_t cursor = 0;
    NamedAttrList states;
    if (module)
      for (auto sb : module.getOps<StateBufferOp>()) {
        auto t = cast<RankedTensorType>(sb.getType());
        states.append(sb.getSymName(), b.getI64IntegerAttr(cursor));
        cursor += alignTo(t.getNumElements(), kSlotAlign);
      }
    Liveness live(body);
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    Arena arena(cursor);
    DenseMap<Value, int64_t> offset;
    auto size = [&](Operation &op, RankedTensorType rt) -> FailureOr<int64_t> {
      if (rt.getRank() != 2 || rt.isDynamicDim(1))
        return op.emitOpError("liquid-plan-memory needs [T, N] activations, got ") << rt;
      return alignTo(maxRows * rt.getDimSize(1), kSlotAlign);
    };
    // the returned logits are written to the caller's buffer
    auto fixed = [&](Value r) -> std::optional<int64_t> {
      if (llvm::is_contained(ret.getOperands(), r))
        return -1;
      return std::nullopt;
    };
    if (failed(Placement{body, arena, live, maxRows, size, fixed}.run(offset)))
      return failure();
    writeAttr<ArenaAttrHelper>(f, ForwardArenaAttr::get(f.getContext(), arena.size(),
                                                 states.getDictionary(f.getContext())));
    return success();
  }

  LogicalResult plan(ScanOp scan) {
    Block &body = scan.getBody().front();
    Liveness live(body);
    auto lastUse = [&](Value v) { return live.lastUse(v); };
    auto pos = [&](Operation *op) { return live.pos(op); };

    auto yield = cast<YieldOp>(body.getTerminator());
    Builder b(scan.getContext());

    // 1. Persistent state slots, then the step input.
    int64_t cursor = 0;
    SmallVector<int64_t> stateOffsets;
    for (unsigned i = 0; i < scan.getInits().size(); ++i) {
      stateOffsets.push_back(cursor);
      cursor += slotFloats(vecLen(body.getArgument(2 + i)));
    }
    int64_t inputOffset = cursor;
    Value x = body.getArgument(0);
    int64_t inputSize = slotFloats(vecLen(x));
    Arena arena(cursor);
    // The input slot is placed like an activation defined before the first op.
    int64_t placedInput = arena.place(inputSize, -1, lastUse(x));
    (void)placedInput;
    assert(placedInput == inputOffset && "input goes first");

    // A new state may be computed directly into its state slot when the old
    // state is dead by then (no copy at the end of the step).
    DenseMap<Value, int64_t> inPlace;
    for (auto [i, v] : llvm::enumerate(yield.getValues().drop_front())) {
      Operation *def = v.getDefiningOp();
      if (!def || def->getBlock() != &body || inPlace.count(v))
        continue;
      if (lastUse(body.getArgument(2 + i)) < pos(def))
        inPlace[v] = stateOffsets[i];
    }

    // 2. Activations and scratch, first fit in program order.
    DenseMap<Value, int64_t> offset;
    offset[x] = inputOffset;
    for (auto [i, _] : llvm::enumerate(scan.getInits()))
      offset[body.getArgument(2 + i)] = stateOffsets[i];
    auto size = [&](Operation &op, RankedTensorType rt) -> FailureOr<int64_t> {
      if (!rt.hasStaticShape() || rt.getRank() != 1)
        return op.emitOpError("liquid-plan-memory needs static 1-D activations, got ") << rt;
      return slotFloats(rt.getDimSize(0));
    };
    auto fixed = [&](Value r) -> std::optional<int64_t> {
      if (auto it = inPlace.find(r); it != inPlace.end())
        return it->second;
      return std::nullopt;
    };
    if (failed(Placement{body, arena, live, /*rows=*/1, size, fixed}.run(offset)))
      return failure();

    Value y = yield.getValues().front();
    if (!offset.count(y))
      return scan.emitOpError("step output must be computed in the scan body");
    writeAttr<ArenaAttrHelper>(scan, StepArenaAttr::get(scan.getContext(), arena.size(), inputOffset,
                                                 offset[y], b.getDenseI64ArrayAttr(stateOffsets)));
    return success();
  }
};

} // namespace
