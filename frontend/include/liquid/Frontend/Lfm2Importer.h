//===- Lfm2Importer.h - LFM2 checkpoint -> liquid dialect -------*- C++ -*-===//
#ifndef LIQUID_FRONTEND_LFM2IMPORTER_H
#define LIQUID_FRONTEND_LFM2IMPORTER_H

#include "liquid/Frontend/Lfm2Model.h"
#include "liquid/Frontend/NcpsModel.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace liquid {

struct Lfm2ImportOptions {
  std::string name = "lfm2";
  int64_t maxContext = 4096; ///< KV cache rows
  int64_t maxRows = 64;      ///< tokens per forward call (prefill chunk)
  /// Element type of the products' weights in the artifact: "auto" keeps F16
  /// checkpoint tensors in half precision and Q8_0 tensors as int8 with their
  /// scales (everything else float32); "f32", "f16" or "q8" force one (q8
  /// where the inputs are a multiple of 32). Marked on each liquid.linear as
  /// liquid.weight_type.
  std::string weightType = "auto";
};

/// Builds one module: a `liquid.state_buffer` per conv layer (conv cache) and
/// per attention layer (KV cache), and
///   func.func @<name>(%ids: tensor<?xi32>, %pos: index) -> tensor<?xVxf32>
/// computing the logits of every given token at positions pos, pos+1, ...
/// Weights are `liquid.weight` ops with the checkpoint's canonical names;
/// `store` receives them as float32 (the packer reads them from there).
mlir::OwningOpRef<mlir::ModuleOp> importLfm2Model(mlir::MLIRContext &ctx, const Lfm2Model &model,
                                                  const Lfm2ImportOptions &options,
                                                  WeightStore &store, std::string &err);

} // namespace liquid

#endif
