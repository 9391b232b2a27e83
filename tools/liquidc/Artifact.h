//===- Artifact.h - building exe / lib artifacts with the C runtime -*- C++ -*-===//
#ifndef LIQUIDC_ARTIFACT_H
#define LIQUIDC_ARTIFACT_H

#include <cstdint>
#include <string>
#include <vector>

namespace liquid {

struct TargetInfo;

/// What the runtime needs to know about a compiled kernel.
struct KernelInfo {
  std::string prefix, modelName;
  int64_t inputSize = 0, outputSize = 0, inputOffset = 0, outputOffset = 0, arenaFloats = 0;
  std::vector<int64_t> stateSizes, stateOffsets;
  int64_t weightsFloats = 0;
  std::string weightsHash; ///< "0x..." 16 hex digits
};

struct ArtifactRequest {
  enum Kind { Exe, Lib } kind = Exe;
  std::string output;       ///< exe path, or lib<name>.a path
  std::string kernelObject; ///< the compiled kernel (.o)
  const std::vector<float> *weights = nullptr;
  bool embedWeights = true;
  const TargetInfo *target = nullptr;
  std::string cc;            ///< overrides target->cc when not empty
  std::string extraCFlags;   ///< e.g. sanitizers, from $LIQUIDC_CFLAGS
  std::string workDir;       ///< temporary folder for intermediate files
  /// More code to link (the Halide kernels): objects as they are, C sources
  /// compiled with the target's compiler and `extraIncludes`.
  std::vector<std::string> extraObjects, extraSources, extraIncludes;
};

/// What the language-model runtime needs to know about a forward kernel.
struct LMKernelInfo {
  std::string prefix, modelName;
  int64_t maxRows = 0, maxContext = 0, vocab = 0, arenaFloats = 0, bos = 1, eos = 2;
  int64_t weightsFloats = 0;
  std::string weightsHash;
  int64_t decodeBytes = 0, flopsPerToken = 0; ///< for the program's --bench report
  int64_t headFlops = 0; ///< of flopsPerToken, the head's (prompt chunks: last row only)
};

/// Links a language-model executable (runtime/liquid_lm_main.c + the kernel);
/// with req.embedWeights the weights are compiled in, else the program maps
/// the .lqw file `output`.lqw at run time.
bool buildLMExecutable(const LMKernelInfo &k, const ArtifactRequest &req, std::string &err);

/// One relocatable object (`cc -r`) of the kernel object and the extra
/// objects and sources: --emit=obj with Halide kernels.
bool linkRelocatable(const ArtifactRequest &req, std::string &err);

/// Writes the .lqw weights file (64-byte header + floats) atomically.
bool writeWeightsFile(const std::string &path, const std::vector<float> &w, const std::string &hash,
                      std::string &err);

/// Builds the artifact; for Lib also writes the header <dir>/<prefix>.h.
/// Nothing is left at the output paths on failure.
bool buildArtifact(const KernelInfo &k, const ArtifactRequest &req, std::string &err);

} // namespace liquid

#endif
