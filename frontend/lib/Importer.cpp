//===- Importer.cpp - ncps model -> liquid dialect -------------------------===//
#include "liquid/Frontend/Importer.h"

#include "liquid/Dialect/Liquid.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <map>

using namespace mlir;

namespace liquid {
namespace {

class Builder {
public:
  Builder(MLIRContext &ctx, const NcpsModel &m) : ctx(ctx), m(m), b(&ctx) {}

  OwningOpRef<ModuleOp> run() {
    Location loc = FileLineColLoc::get(&ctx, m.specPath, 1, 1);
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
    b.setInsertionPointToEnd(module->getBody());
    bool lstm = m.mixedMemory;
    int64_t n = m.stateSize;
    SmallVector<Type> stateTypes = {vec(n)};
    if (lstm)
      stateTypes.push_back(vec(n));
    auto xsType = RankedTensorType::get({ShapedType::kDynamic, m.inputSize}, b.getF32Type());
    auto tsType = RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
    auto ysType = RankedTensorType::get({ShapedType::kDynamic, m.outputSize}, b.getF32Type());
    SmallVector<Type> args = {xsType, tsType};
    args.append(stateTypes);
    SmallVector<Type> results = {ysType};
    results.append(stateTypes);
    auto fn = func::FuncOp::create(b, loc, m.name, b.getFunctionType(args, results));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    weightBlock = entry;

    auto scan = mlir::liquid::ScanOp::create(b, loc, results, entry->getArgument(0),
                                       entry->getArgument(1), entry->getArguments().drop_front(2));
    Block *body = b.createBlock(&scan.getBody());
    SmallVector<Type> bodyArgs = {vec(m.inputSize), b.getF32Type()};
    bodyArgs.append(stateTypes);
    for (Type t : bodyArgs)
      body->addArgument(t, loc);
    b.setInsertionPointToStart(body);
    Value x = body->getArgument(0), t = body->getArgument(1), h = body->getArgument(2);
    Value c = lstm ? body->getArgument(3) : Value();
    SmallVector<Value> yields;
    if (lstm) {
      auto cell = mlir::liquid::LSTMCellOp::create(b, loc, x, h, c, W(m.lstmInW), W(m.lstmInB),
                                             W(m.lstmRecW));
      h = cell.getHNext();
      c = cell.getCNext();
    }
    Value out, hNew;
    switch (m.kind) {
    case CellKind::CfC: {
      Value z = concat({x, h});
      for (const DenseLayer &l : m.backbone)
        z = dense(z, l, *mlir::liquid::symbolizeActivation(m.activation)); // checked by the loader
      hNew = out = cfcCell(m.layers.front(), z, t);
      break;
    }
    case CellKind::WiredCfC: {
      Value in = x;
      SmallVector<Value> states;
      int64_t off = 0;
      for (const CfCLayer &l : m.layers) {
        Value hl = mlir::liquid::SliceOp::create(b, loc, vec(l.hidden), h, off);
        off += l.hidden;
        in = cfcCell(l, concat({in, hl}), t);
        states.push_back(in);
      }
      out = in;
      hNew = states.size() == 1 ? states.front() : concat(states);
      break;
    }
    case CellKind::LTC: {
      Value xm = mapAffine(x, m.inputW, m.inputB);
      SmallVector<Value> params;
      for (const Tensor *p : {&m.gleak, &m.vleak, &m.cm, &m.sigma, &m.mu, &m.w, &m.erev,
                              &m.sparsityMask, &m.sensorySigma, &m.sensoryMu, &m.sensoryW,
                              &m.sensoryErev, &m.sensorySparsityMask})
        params.push_back(W(*p));
      hNew = mlir::liquid::LTCCellOp::create(b, loc, vec(n), xm, h, t, params, m.odeUnfolds,
                                       APFloat(m.epsilon), m.implicitConstraints);
      out = m.motorSize == n ? hNew : mlir::liquid::SliceOp::create(b, loc, vec(m.motorSize), hNew, 0);
      out = mapAffine(out, m.outputW, m.outputB);
      break;
    }
    }
    if (m.hasProj)
      out = dense(out, m.proj, mlir::liquid::Activation::None);
    yields = {out, hNew};
    if (lstm)
      yields.push_back(c);
    mlir::liquid::YieldOp::create(b, loc, yields);
    b.setInsertionPointToEnd(entry);
    func::ReturnOp::create(b, loc, scan.getResults());
    return module;
  }

private:
  RankedTensorType vec(int64_t n) { return RankedTensorType::get({n}, b.getF32Type()); }

  /// The liquid.weight of a checkpoint tensor, created once at function scope.
  Value W(const Tensor &t) {
    auto it = weights.find(t.name);
    if (it != weights.end())
      return it->second;
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(weightBlock, weightBlock->end());
    if (!weightBlock->empty())
      b.setInsertionPoint(&weightBlock->back()); // before the scan
    auto type = RankedTensorType::get(t.shape, b.getF32Type());
    // The tensor's name is its location: diagnostics about it name it.
    Location loc = NameLoc::get(StringAttr::get(&ctx, t.name));
    Value v = mlir::liquid::WeightOp::create(b, loc, type, t.name, /*value=*/nullptr);
    weights[t.name] = v;
    return v;
  }

  Value concat(ArrayRef<Value> parts) {
    int64_t n = 0;
    for (Value p : parts)
      n += cast<RankedTensorType>(p.getType()).getDimSize(0);
    return mlir::liquid::ConcatOp::create(b, UnknownLoc::get(&ctx), vec(n), parts);
  }

  Value dense(Value x, const DenseLayer &l, mlir::liquid::Activation act) {
    return mlir::liquid::DenseOp::create(b, UnknownLoc::get(&ctx), vec(l.weight.shape[0]), x,
                                   W(l.weight), W(l.bias), act);
  }

  Value mapAffine(Value x, const Tensor &w, const Tensor &bias) {
    if (w.empty())
      return x;
    Value shift = bias.empty() ? Value() : W(bias);
    return mlir::liquid::ScaleShiftOp::create(b, UnknownLoc::get(&ctx), x.getType(), x, W(w), shift);
  }

  Value cfcCell(const CfCLayer &l, Value z, Value t) {
    SmallVector<Value> ws = {W(l.ff1W), W(l.ff1B)};
    if (m.mode == "pure") {
      ws.append({W(l.wTau), W(l.A)});
    } else {
      ws.append({W(l.ff2W), W(l.ff2B), W(l.taW), W(l.taB), W(l.tbW), W(l.tbB)});
    }
    bool masked = !l.mask.empty();
    if (masked)
      ws.push_back(W(l.mask));
    return mlir::liquid::CfCCellOp::create(b, UnknownLoc::get(&ctx), vec(l.hidden),
                                           *mlir::liquid::symbolizeCfCMode(m.mode), z, t, ws,
                                     masked);
  }

  MLIRContext &ctx;
  const NcpsModel &m;
  OpBuilder b;
  Block *weightBlock = nullptr;
  std::map<std::string, Value> weights;
};

} // namespace

OwningOpRef<ModuleOp> importNcpsModel(MLIRContext &ctx, const NcpsModel &model) {
  ctx.loadDialect<mlir::liquid::LiquidDialect, func::FuncDialect>();
  return Builder(ctx, model).run();
}

} // namespace liquid
