//===- PackedWeights.cpp - the lowerings' view of the packed weights -------===//
#include "KernelBuilder.h"

using namespace mlir;
using namespace mlir::liquid;

LogicalResult PackedWeights::init(ModuleOp module) {
  if (lanes != 8 && lanes != 16)
    return module.emitError() << "vector-width must be 8 or 16, got " << lanes;
  auto blob = dyn_cast_or_null<WeightBlobAttr>(readAttr<WeightsAttrHelper>(module));
  if (!blob)
    return module.emitError("the weights are not packed; run liquid-pack-weights first");
  if (blob.getLanes() != lanes)
    return module.emitError() << "the weights are packed for " << blob.getLanes()
                              << "-float vectors, the kernels use " << lanes;
  size = blob.getSize();
  return success();
}

LogicalResult mlir::liquid::lowerKernelFunctions(
    ModuleOp module, ArrayRef<func::FuncOp> funcs, int64_t lanes,
    function_ref<LogicalResult(func::FuncOp, OpBuilder &, PackedWeights &)> lower) {
  if (funcs.empty())
    return success();
  PackedWeights packer(lanes);
  if (failed(packer.init(module)))
    return failure();
  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToEnd(module.getBody());
  for (func::FuncOp f : funcs)
    if (failed(lower(f, b, packer)))
      return failure();
  for (func::FuncOp f : funcs)
    f.erase();
  return success();
}

LogicalResult PackedWeights::collect(Block &block) {
  for (Operation &op : block) {
    auto reader = dyn_cast<WeightReaderOpInterface>(op);
    if (!reader)
      continue;
    SmallVector<WeightUse> uses;
    reader.getWeightUses(uses);
    ArrayAttr slots = readAttr<PackedAttrHelper>(&op);
    if (!slots && uses.empty())
      continue;
    if (!slots || slots.size() < uses.size())
      return op.emitOpError("has no packed weights; run liquid-pack-weights first");
    for (auto [i, slotAttr] : llvm::enumerate(slots)) {
      auto slot = cast<WeightSlotAttr>(slotAttr);
      if (i >= uses.size()) {
        extra[&op].push_back(slot.getOffset());
        continue;
      }
      Value v = op.getOperand(uses[i].operand);
      switch (slot.getLayout()) {
      case WeightLayout::BlocksTransposed:
      case WeightLayout::BlocksRows: {
        PackKey key = blocksKey(v, slot.getLayout() == WeightLayout::BlocksTransposed);
        index[key] = slot.getOffset();
        ::liquid::Occupancy &occ = blocks[key];
        occ.clear();
        for (Attribute row : slot.getBlocks()) {
          occ.emplace_back();
          for (char c : cast<StringAttr>(row).getValue())
            occ.back().push_back(c == '1');
        }
        break;
      }
      default:
        index[packKey(v, packFormat(slot))] = slot.getOffset();
      }
    }
  }
  return success();
}
