//===- LowerLM.cpp - language-model functions -> a forward kernel ----------===//
//
// Lowers a planned LFM2 function to
//   func.func @<prefix>_kernel_forward(%weights: memref<Wxf32>, %arena: memref<Axf32>,
//       %ids: memref<Rxi32>, %rows: index, %pos: index, %logits: memref<R*Vxf32>,
//       %tid: index, %threads: index, %sync: memref<1xi8>,
//       %weights_f16: memref<2Wxf16>, %weights_i8: memref<4Wxi8>,
//       %logit_rows: index)
// which runs `rows` (<= R = max_rows) tokens at positions pos.. through the
// model, updating the conv and KV caches in the arena, and writes the logits
// of the last min(logit_rows, rows) of them (at their rows of %logits; the
// head skips the others: a prompt chunk needs only its last row's logits). Every thread of the runtime's pool calls it with its %tid: the
// products split their column tiles across threads, the other ops run on
// thread 0, and all threads meet at <prefix>_barrier(%sync) after each op.
// Activations are row-major [rows, N] at their planned offsets, N any width:
// an op whose rows are not a multiple of the vector width works on the widest
// vectors that divide them, and a product's last partial vector of outputs is
// a masked store. The last two arguments are the weights
// again, seen as halves and as bytes (F16 and int8 products). Products marked
// liquid.halide_kernel call that Halide kernel's C entry point instead.
//
//===----------------------------------------------------------------------===//
#include "Conversion/LMEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::liquid {
#define GEN_PASS_DEF_LOWERLM
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;
using namespace mlir::liquid;
using namespace mlir::liquid::lm;

namespace {

/// What a token costs, from the IR: 2 x the multiply-adds of its products
/// (the head's apart: a prompt chunk runs it on its last row only), and the
/// bytes of expert weights it does not read (the experts not routed to).
struct LMCost {
  int64_t flopsPerToken = 0, headFlops = 0, unreadExpertBytes = 0;
};
LMCost lmCost(func::FuncOp f) {
  LMCost c;
  f.walk([&](LinearOp l) {
    auto w = cast<RankedTensorType>(l.getWeight().getType());
    c.flopsPerToken += 2 * w.getDimSize(0) * w.getDimSize(1);
    if (llvm::any_of(l->getUsers(), [](Operation *u) { return isa<func::ReturnOp>(u); }))
      c.headFlops = 2 * w.getDimSize(0) * w.getDimSize(1);
  });
  f.walk([&](MoEExpertsOp m) {
    auto gu = cast<RankedTensorType>(m.getGateUp().getType());
    int64_t e = gu.getDimSize(0), h = gu.getDimSize(2), per = 3 * gu.getDimSize(1) / 2 * h;
    int64_t k = cast<RankedTensorType>(m.getExperts().getType()).getDimSize(1);
    c.flopsPerToken += 2 * e * h + 2 * k * per; // router + the k experts
    c.unreadExpertBytes += ::liquid::elementBytes(expertLayouts(m).second.element, (e - k) * per);
  });
  return c;
}

/// Lowers one language-model function to @<prefix>_kernel_forward.
LogicalResult lowerLMFunction(func::FuncOp f, OpBuilder &mb, PackedWeights &packer,
                              const std::string &prefix, const std::string &int8Dot,
                              bool softHalf) {
  auto plan = dyn_cast_or_null<ForwardArenaAttr>(readAttr<ArenaAttrHelper>(f));
  if (!plan)
    return f.emitOpError("has no memory plan; run liquid-plan-memory first");
  Block &body = f.getBody().front();
  LMCost cost = lmCost(f);
  if (failed(packer.collect(body)))
    return failure();
  for (Operation &op : body) {
    // Rows live in the arena: they start at liquid.embedding (which reads
    // the token ids argument); no other op may read an argument as rows.
    for (Value v : op.getOperands())
      if (isa<BlockArgument>(v) && isa<RankedTensorType>(v.getType()) && !isa<EmbeddingOp>(op))
        return op.emitOpError("reads a function argument as rows; a language model's rows "
                              "start at liquid.embedding of the token ids");
  }
  MLIRContext *ctx = f.getContext();
  int64_t maxRows = readAttr<MaxRowsAttrHelper>(f).getInt();
  auto resType = cast<RankedTensorType>(f.getFunctionType().getResult(0));
  int64_t vocab = resType.getDimSize(1), arena = plan.getSize();
  Type f32 = Float32Type::get(ctx);
  auto wType = MemRefType::get({std::max<int64_t>(packer.size, kSlotAlign)}, f32);
  auto fnType = FunctionType::get(
      ctx,
      {wType, MemRefType::get({arena}, f32), MemRefType::get({maxRows}, IntegerType::get(ctx, 32)),
       IndexType::get(ctx), IndexType::get(ctx), MemRefType::get({maxRows * vocab}, f32),
       IndexType::get(ctx), IndexType::get(ctx), MemRefType::get({1}, IntegerType::get(ctx, 8)),
       MemRefType::get({2 * std::max<int64_t>(packer.size, kSlotAlign)}, Float16Type::get(ctx)),
       MemRefType::get({4 * std::max<int64_t>(packer.size, kSlotAlign)}, IntegerType::get(ctx, 8)),
       IndexType::get(ctx)},
      {});
  // void <prefix>_barrier(void *sync), provided by the runtime.
  std::string barrierName = prefix + "_barrier";
  if (!mb.getBlock()->getParentOp()->hasTrait<OpTrait::SymbolTable>() ||
      !SymbolTable::lookupSymbolIn(mb.getBlock()->getParentOp(), barrierName)) {
    auto decl = func::FuncOp::create(
        mb, f.getLoc(), barrierName,
        FunctionType::get(ctx, {MemRefType::get({1}, IntegerType::get(ctx, 8))}, {}));
    decl.setPrivate();
  }
  auto kernel = func::FuncOp::create(mb, f.getLoc(), prefix + "_kernel_forward", fnType);
  Block *entry = kernel.addEntryBlock();
  OpBuilder kb = OpBuilder::atBlockBegin(entry);
  auto emitter = [&](OpBuilder &b, func::FuncOp fn) {
    LMEmitter em(b, f.getLoc(), packer, fn, plan.getCaches(), f->getParentOfType<ModuleOp>());
    em.barrierName = barrierName;
    em.maxRows = maxRows;
    em.int8Dot = int8Dot;
    em.softHalf = softHalf;
    return em;
  };
  LMEmitter kernelEm = emitter(kb, kernel);
  // Each op is a function of its own (never inlined) that the kernel calls,
  // then the barrier: LLVM optimizes and generates code for one op at a
  // time, and liquidc can do that for several at once (Codegen.h).
  int64_t index = 0;
  for (Operation &op : body) {
    if (isa<func::ReturnOp>(op) || (op.getNumResults() && isWeight(op.getResult(0))))
      continue;
    auto fn = func::FuncOp::create(mb, op.getLoc(),
                                   prefix + "_op" + std::to_string(index++) + "_" +
                                       op.getName().stripDialect().str(),
                                   fnType);
    fn.setPrivate();
    fn->setAttr("llvm.linkage", LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
    fn->setAttr("passthrough", ArrayAttr::get(ctx, {StringAttr::get(ctx, "noinline")}));
    OpBuilder ob = OpBuilder::atBlockBegin(fn.addEntryBlock());
    if (failed(emitter(ob, fn).emit(op)))
      return failure();
    func::ReturnOp::create(ob, f.getLoc());
    func::CallOp::create(kb, f.getLoc(), fn, entry->getArguments());
    kernelEm.barrier();
  }
  func::ReturnOp::create(kb, f.getLoc());
  auto maxContext = readAttr<MaxContextAttrHelper>(f);
  if (!maxContext)
    return f.emitOpError("has no liquid.max_context");
  // Where the caches are, for the runtime's state snapshots.
  SmallVector<int64_t> conv, kv;
  if (auto module = f->getParentOfType<ModuleOp>())
    for (auto sb : module.getOps<StateBufferOp>()) {
      auto at = dyn_cast_or_null<IntegerAttr>(plan.getCaches().get(sb.getSymName()));
      auto t = cast<RankedTensorType>(sb.getType());
      if (!at)
        return sb.emitOpError("has no place in the memory plan");
      if (sb.getKind() == StateKind::ConvCache)
        conv.append({at.getInt(), t.getNumElements()});
      else
        kv.append({at.getInt(), t.getDimSize(t.getRank() - 1)});
    }
  writeAttr<KernelAttrHelper>(
      kernel, ForwardKernelAttr::get(ctx, arena, maxRows, maxContext.getInt(), vocab,
                                     cost.flopsPerToken, cost.headFlops, cost.unreadExpertBytes,
                                     DenseI64ArrayAttr::get(ctx, conv),
                                     DenseI64ArrayAttr::get(ctx, kv)));
  return success();
}

struct LowerLMPass : mlir::liquid::impl::LowerLMBase<LowerLMPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> funcs;
    for (auto f : module.getOps<func::FuncOp>())
      if (hasAttr<MaxRowsAttrHelper>(f))
        funcs.push_back(f);
    auto lower = [&](func::FuncOp f, OpBuilder &b, PackedWeights &packer) {
      std::string prefix = kernelPrefix.empty() ? f.getSymName().str() : kernelPrefix.getValue();
      return lowerLMFunction(f, b, packer, prefix, int8Dot, softHalf);
    };
    if (failed(lowerKernelFunctions(module, funcs, vectorWidth, lower)))
      return signalPassFailure();
    for (auto sb : llvm::make_early_inc_range(module.getOps<StateBufferOp>()))
      sb.erase(); // placed in the arena by the plan
  }
};

} // namespace
