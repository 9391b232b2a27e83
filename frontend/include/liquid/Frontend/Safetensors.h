//===- Safetensors.h - read-only safetensors reader (+ F32 writer) -*- C++ -*-===//
//
// A small, strict reader for the HF safetensors format:
//
//   [0, 8)      N: little-endian u64, byte length of the JSON header
//   [8, 8+N)    JSON object {name: {"dtype", "shape", "data_offsets"}, ...,
//               "__metadata__": {str: str}}
//   [8+N, EOF)  data section; a tensor's bytes are data[begin, end), little
//               endian, row-major.
//
// The file is mmap'ed read-only for the lifetime of the SafetensorsFile.
// Every structural property is validated by open(); nothing here throws:
// failures are reported as one line "<path>: <problem> (tensor '<name>')".
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_FRONTEND_SAFETENSORS_H
#define LIQUID_FRONTEND_SAFETENSORS_H

#include "liquid/Frontend/NcpsModel.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace liquid {

/// The element types of the safetensors format that the reader recognizes.
/// Any other dtype string in a header is rejected by SafetensorsFile::open.
enum class DType {
  BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64,
  I64, U64
};

/// "F32", "BF16", ...
const char *dtypeName(DType t);
/// Parses a dtype string; returns false if it is not a known dtype.
bool parseDType(const std::string &s, DType &out);
/// Size of one element in bytes.
size_t dtypeSize(DType t);
/// True for the dtypes readF32 converts: F32, F16, BF16, F64.
bool dtypeIsFloat(DType t);

/// IEEE binary16 / bfloat16 bit patterns to float (exact; keeps inf/NaN and
/// subnormals).
float halfToFloat(uint16_t h);
float bf16ToFloat(uint16_t b);

/// One entry of the header.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0; ///< byte offsets within the data section
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  uint64_t nbytes() const { return end - begin; }
};

/// Formats a shape as "[d0,d1,...]" ("[]" for a scalar).
std::string formatShape(const std::vector<int64_t> &shape);

class SafetensorsFile {
public:
  /// Maps and validates `path`. On failure returns null and sets `err`.
  static std::unique_ptr<SafetensorsFile> open(const std::string &path,
                                               std::string &err);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;

  const std::string &path() const { return path_; }
  /// All tensors, sorted by name.
  const std::vector<TensorInfo> &tensors() const { return tensors_; }
  /// The tensor called `name`, or null.
  const TensorInfo *find(const std::string &name) const;
  /// The "__metadata__" map (empty if the header has none).
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }
  /// The tensor's raw little-endian bytes (nbytes() of them; may be
  /// unaligned). `t` must come from this file.
  const uint8_t *rawData(const TensorInfo &t) const;

  /// Converts an F32/F16/BF16/F64 tensor to float32 (row-major, numel()
  /// values). Integer and other dtypes fail with an error naming the tensor.
  bool readF32(const TensorInfo &t, std::vector<float> &out,
               std::string &err) const;
  /// Reads an I32 tensor (e.g. a wiring adjacency matrix).
  bool readI32(const TensorInfo &t, std::vector<int32_t> &out,
               std::string &err) const;
  /// find + readF32 into a Tensor (name, shape and data filled in).
  bool readTensor(const std::string &name, Tensor &out,
                  std::string &err) const;

private:
  SafetensorsFile() = default;
  std::string path_;
  const uint8_t *map_ = nullptr;
  size_t mapSize_ = 0;
  size_t dataStart_ = 0; ///< 8 + N
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

/// Writes an F32 safetensors file: tensors in the given order (data laid out
/// contiguously), header padded with spaces to a multiple of 8 bytes.
/// Each Tensor's data size must equal the product of its shape; names must
/// be non-empty, unique and not "__metadata__". Returns false and sets `err`
/// on failure.
bool writeSafetensors(const std::string &path,
                      const std::vector<std::pair<std::string, Tensor>> &tensors,
                      std::string &err,
                      const std::map<std::string, std::string> &metadata = {});

} // namespace liquid

#endif // LIQUID_FRONTEND_SAFETENSORS_H
