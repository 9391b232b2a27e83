//===- Artifact.h - building exe / lib artifacts with the C runtime -*- C++ -*-===//
#ifndef LIQUIDC_ARTIFACT_H
#define LIQUIDC_ARTIFACT_H

#include "liquid/Passes/WeightSink.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
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
  std::optional<llvm::ArrayRef<float>> weights;
  /// Language models: the tokenizer image (empty: none); compiled in with
  /// the weights, else in the .lqw file.
  llvm::ArrayRef<uint8_t> tokenizer;
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
  /// The caches a state snapshot saves: (offset, floats) and (offset, floats per row).
  std::vector<std::pair<int64_t, int64_t>> convCaches, kvCaches;
};

/// What sets the runtimes of the model kinds apart; everything else about
/// building an artifact is shared (buildArtifact).
struct ModelRuntime {
  std::string prefix;
  std::string config;         ///< P_config.h: the model's #define lines
  std::vector<std::string> modelSources; ///< the API: liquid_model.c | liquid_lm*.c, tokenizer
  std::string mainSource;     ///< the program: liquid_main.c | liquid_lm_main.c
  std::string headerTemplate; ///< the lib's public header: liquid_model.h.in | liquid_lm.h.in
  std::vector<std::pair<std::string, std::string>> headerVars; ///< @NAME@ -> value
  std::vector<std::string> cflags, linkFlags;
  bool pic = true; ///< compile the runtime with -fPIC (not for bare metal)
};
/// The runtime of a cell (step API) and of a language model (forward API on
/// a thread pool).
ModelRuntime cellRuntime(const KernelInfo &k, bool embed);
ModelRuntime lmRuntime(const LMKernelInfo &k, bool embed);
/// A cell on a microcontroller `t`: the library is freestanding
/// (liquid_mcu.c, the caller's arena, the weights in flash); the executable
/// is the usual program on the target's C library, without threads.
ModelRuntime mcuCellRuntime(const KernelInfo &k, bool exe, const TargetInfo &t);

/// Writes `data` to a new file beside `path` (a unique name, created with
/// O_EXCL, so a planted file or link there is never written through) and
/// renames it over `path`, so readers never see half a file; `mode` is the
/// new file's permission bits.
bool writeAtomically(const std::string &path, llvm::StringRef data, std::string &err,
                     unsigned mode = 0644);
/// Copies the file `src` (in liquidc's private work folder) to `path` as
/// writeAtomically does, keeping its permission bits.
bool commitFile(const std::string &src, const std::string &path, std::string &err);

/// One relocatable object (`cc -r`) of the kernel object and the extra
/// objects and sources: --emit=obj with Halide kernels.
bool linkRelocatable(const ArtifactRequest &req, std::string &err);

/// Writes the .lqw weights file (64-byte header + floats [+ the tokenizer
/// image], runtime/liquid_lqw.h) atomically.
bool writeWeightsFile(const std::string &path, llvm::ArrayRef<float> w, const std::string &hash,
                      llvm::ArrayRef<uint8_t> tokenizer, std::string &err);

/// A .lqw file written while the weights are packed: the slots go to a
/// temporary file beside the final path, commit() adds the header and the
/// tokenizer and renames it into place (a second commit copies it). Destroyed
/// uncommitted, it removes the temporary file: nothing half-written remains.
class LqwStream : public WeightSink {
public:
  LqwStream() = default;
  LqwStream(const LqwStream &) = delete;
  LqwStream &operator=(const LqwStream &) = delete;
  ~LqwStream() override;
  /// Creates the temporary file for `path`.
  bool open(const std::string &path, std::string &err);
  bool write(int64_t offset, const float *data, size_t n, std::string &err) override;
  bool commit(const std::string &path, uint64_t floats, const std::string &hash,
              llvm::ArrayRef<uint8_t> tokenizer, std::string &err);

private:
  bool put(uint64_t at, const void *data, size_t bytes, std::string &err);
  /// lq_lqw_sum of the bytes after the header of the file, `end` bytes long.
  bool checksum(uint64_t end, uint64_t &sum, std::string &err);
  int fd = -1;
  std::string tmp, committed;
};

/// Builds the artifact: Exe links the model's runtime, its main, the kernel
/// and the extra objects; Lib archives all but the main and writes the header
/// <dir>/<prefix>.h. With req.embedWeights the weights are compiled in, else
/// the program loads a .lqw file at run time. Nothing is left at the output
/// paths on failure.
bool buildArtifact(const ModelRuntime &rt, const ArtifactRequest &req, std::string &err);

} // namespace liquid

#endif
