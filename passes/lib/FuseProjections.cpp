//===- FuseProjections.cpp - liquid-fuse-projections -----------------------===//
#include "liquid/Passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::liquid {
#define GEN_PASS_DEF_FUSEPROJECTIONS
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;
using namespace mlir::liquid;

namespace {

struct FuseProjectionsPass
    : mlir::liquid::impl::FuseProjectionsBase<FuseProjectionsPass> {
  void runOnOperation() override {
    // Groups in program order: (input, weight type) -> products.
    llvm::MapVector<std::pair<Value, WeightStorage>, SmallVector<LinearOp>> groups;
    getOperation().walk([&](LinearOp op) {
      if (isWeight(op.getWeight()))
        groups[{op.getInput(), op.getWeightType()}].push_back(op);
    });
    for (auto &[key, ops] : groups)
      if (ops.size() > 1)
        fuse(ops);
  }

  void fuse(ArrayRef<LinearOp> ops) {
    LinearOp first = ops.front();
    OpBuilder b(first);
    Location loc = first.getLoc();
    SmallVector<Value> weights;
    int64_t total = 0;
    for (LinearOp op : ops) {
      weights.push_back(op.getWeight());
      total += cast<RankedTensorType>(op.getType()).getDimSize(1);
    }
    auto wt = cast<RankedTensorType>(first.getWeight().getType());
    // The weights are defined at the top of the function: the concatenation
    // goes right after the last of them.
    Operation *lastWeight = nullptr;
    for (Value w : weights)
      if (!lastWeight || lastWeight->isBeforeInBlock(w.getDefiningOp()))
        lastWeight = w.getDefiningOp();
    OpBuilder wb(lastWeight->getBlock(), std::next(Block::iterator(lastWeight)));
    Value cat = WeightConcatOp::create(
        wb, loc, RankedTensorType::get({total, wt.getDimSize(1)}, wt.getElementType()), weights, 0);
    auto rows = cast<RankedTensorType>(first.getType()).getDimSize(0);
    auto fused = LinearOp::create(
        b, loc, RankedTensorType::get({rows, total}, wt.getElementType()), first.getInput(), cat,
        first.getWeightType());
    int64_t offset = 0;
    SmallVector<ColumnsOp> parts;
    for (LinearOp op : ops) {
      OpBuilder ob(op);
      auto part = ColumnsOp::create(ob, op.getLoc(), op.getType(), fused, offset);
      offset += cast<RankedTensorType>(op.getType()).getDimSize(1);
      op.replaceAllUsesWith(part.getResult());
      op.erase();
      parts.push_back(part);
    }
    // A SwiGLU of exactly the two halves reads the fused product directly.
    if (parts.size() == 2 && parts[0].getResult().hasOneUse() &&
        parts[1].getResult().hasOneUse())
      if (auto g = dyn_cast<SwiGLUOp>(*parts[0].getResult().getUsers().begin());
          g && g.getGate() == parts[0].getResult() && g.getUp() == parts[1].getResult() &&
          parts[0].getType() == parts[1].getType()) {
        OpBuilder gb(g);
        Value h = SwiGLUHalvesOp::create(gb, g.getLoc(), g.getType(), fused);
        g.replaceAllUsesWith(h);
        g.erase();
        parts[1].erase();
        parts[0].erase();
      }
  }
};

} // namespace
