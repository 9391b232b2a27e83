//===- Gguf.h - GGUF v2/v3 reader (mmap) and streaming writer ---*- C++ -*-===//
//
// GGUF (ggml's single-file checkpoint format), little-endian, versions 2/3:
//
//   u32 magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count
//   kv_count x { string key | u32 value_type | value }
//   tensor_count x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type
//                    | u64 offset }
//   zero padding to ALIGNMENT | tensor data (each tensor at `offset` from the
//   start of the data section, a multiple of ALIGNMENT)
//
// string = u64 length + bytes (no NUL). ALIGNMENT = general.alignment
// (default 32). ggml `ne[0]` is the fastest-varying dimension: the torch
// shape is `ne` reversed, the bytes are the same row-major array.
//
// GgufFile::open maps the file read-only and validates everything that a
// consumer would otherwise trust: every length, count and offset against the
// file size, value types, duplicate keys/tensors, the alignment, every
// tensor's type, byte size and range. Tensor data types F32, F16, BF16 and
// Q8_0 are supported; any other ggml type is rejected (naming the tensor and
// the type id). Nothing here throws; failures are one line:
//   "<file>: <problem> (tensor 'x')" or "<file>: <problem> (key 'y')".
//
// GgufWriter writes metadata and F32/F16/BF16/Q8_0 tensors (converted from
// float32) in a streaming fashion: the header is written by open(), the
// tensor data is appended chunk by chunk, in the order of addTensor().
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_FRONTEND_GGUF_H
#define LIQUID_FRONTEND_GGUF_H

#include "liquid/Frontend/NcpsModel.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace liquid {

/// GGUF metadata value types (on-disk u32 ids).
enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5,
  FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11,
  FLOAT64 = 12
};
const char *ggufTypeName(GgufType t);

/// ggml tensor types supported for data (on-disk u32 ids). The 4-, 5- and
/// 6-bit block formats are read (decodeToF32); the writer writes F32, F16,
/// BF16 and Q8_0 only.
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
  Q4_K = 12, Q5_K = 13, Q6_K = 14, BF16 = 30
};
/// Name of any ggml type id ("F32", "Q4_K", ...; "unknown" if not a ggml
/// type at all).
const char *ggmlTypeName(uint32_t typeId);
/// True for the ids of GgmlType.
bool ggmlTypeSupported(uint32_t typeId);
/// Elements per block (1 for F32/F16/BF16, 32 for Q4_0..Q8_0, 256 for the
/// K-quants) and bytes per block.
int64_t ggmlBlockSize(GgmlType t);
size_t ggmlBlockBytes(GgmlType t);

/// Q8_0 block: f16 scale d, then 32 int8 q; value = d * q.
constexpr int64_t kQ8_0Block = 32;
constexpr size_t kQ8_0BlockBytes = 34;

/// float32 -> IEEE binary16 / bfloat16, round to nearest even (inf/NaN kept).
uint16_t floatToHalf(float f);
uint16_t floatToBf16(float f);
/// The same for `n` values at a time (fast; the results of floatToHalf and
/// halfToFloat bit for bit). `src` holds little-endian halves.
void floatsToHalves(const float *src, size_t n, uint16_t *dst);
void halvesToFloats(const uint16_t *src, size_t n, float *dst);
/// Quantizes `n` floats (n a multiple of 32) to Q8_0 blocks (n/32*34 bytes).
void quantizeQ8_0(const float *src, size_t n, uint8_t *dst);
/// Quantizes `n` floats (a multiple of 32) to 4-bit blocks with Q4_0's
/// meaning (value = d * (q - 8), q in 0..15, d an f16 value per 32): d is
/// the block's value of largest magnitude over -8 (so it maps to q = 0),
/// q = clamp(round(x / d) + 8, 0, 15).
void quantizeQ4Blocks(const float *src, size_t n, IntBlocks &out);
/// Quantizes `n` floats (a multiple of 256) to Q4_K or Q6_K blocks
/// (KQuantize.cpp): per 32 (Q4_K) or 16 (Q6_K) values a scale covering their
/// range, every value within half a step of it.
void quantizeKBlocks(GgmlType t, const float *src, size_t n, uint8_t *dst);
/// Splits `n` values (a multiple of 32) of Q8_0 blocks into their int8
/// values `q` [n] and scales `d` [n / 32] (the f16 scale, exact in float).
void unpackQ8_0(const void *src, size_t n, int8_t *q, float *d);
/// Splits `n` values of a block type (Q4_0 ... Q8_0, the K-quants; n a
/// multiple of its block size) into the integers, scales and minimums of
/// IntBlocks, exactly: Q4_0 (4 bits, zero 8), Q4_1 / Q4_K (4 bits + min per
/// 32), Q5_0 / Q8_0 (int8 q - 16 / q, scale per 32), Q5_1 / Q5_K (5 bits +
/// min per 32), Q6_K (int8 q - 32, scale per 16). False for F32/F16/BF16.
bool decomposeBlocks(GgmlType t, const void *src, size_t n, IntBlocks &out);
/// Decodes `n` values of a supported type from little-endian `src` into
/// float32 (n a multiple of the type's block size). The block formats follow
/// ggml's published layouts (ggml-common.h): value = scale x stored integer
/// (+ the block minimum, for the types that have one).
void decodeToF32(GgmlType t, const void *src, size_t n, float *dst);

/// One metadata value. Scalars: integers (and BOOL) in `i` (UINT64 kept as
/// its bit pattern), floats in `f`, strings in `s`. Arrays (type ARRAY):
/// `elemType` and one of `ints` (integer/BOOL elements), `floats`,
/// `strings`, or `arrays` (arrays of arrays).
struct GgufValue {
  GgufType type = GgufType::UINT32;
  GgufType elemType = GgufType::UINT32;
  int64_t i = 0;
  double f = 0.0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  std::vector<GgufValue> arrays;

  static bool isIntegerType(GgufType t);
  static bool isFloatType(GgufType t);
  bool isInteger() const { return isIntegerType(type) || type == GgufType::BOOL; }
  bool isFloat() const { return isFloatType(type); }
  bool isString() const { return type == GgufType::STRING; }
  bool isArray() const { return type == GgufType::ARRAY; }
  /// Number of elements of an array (0 for scalars).
  size_t arraySize() const;
  /// "UINT32", "ARRAY/INT32", ...
  std::string typeName() const;

  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue f32(float v);
  static GgufValue boolean(bool v);
  static GgufValue str(std::string v);
  static GgufValue arrayI32(const std::vector<int32_t> &v);
  static GgufValue arrayF32(const std::vector<float> &v);
  static GgufValue arrayStr(std::vector<std::string> v);
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne; ///< ggml order (ne[0] fastest)
  uint32_t typeId = 0;     ///< a supported GgmlType after open()
  uint64_t offset = 0;     ///< from the start of the data section
  uint64_t bytes = 0;
  GgmlType type() const { return static_cast<GgmlType>(typeId); }
  std::vector<int64_t> torchShape() const {
    return std::vector<int64_t>(ne.rbegin(), ne.rend());
  }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    return n;
  }
};

class GgufFile {
public:
  /// Maps and validates `path`. On failure returns null and sets `err`.
  static std::unique_ptr<GgufFile> open(const std::string &path,
                                        std::string &err);
  ~GgufFile();
  GgufFile(const GgufFile &) = delete;
  GgufFile &operator=(const GgufFile &) = delete;

  const std::string &path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t fileSize() const { return mapSize_; }
  uint64_t dataStart() const { return dataStart_; } ///< file offset

  /// Tensors in file order.
  const std::vector<GgufTensorInfo> &tensors() const { return tensors_; }
  const GgufTensorInfo *findTensor(const std::string &name) const;
  /// Start of the tensor's bytes (aligned to alignment() in the file).
  const uint8_t *data(const GgufTensorInfo &t) const;

  /// Metadata, by key; `keys()` keeps the file order.
  const std::map<std::string, GgufValue> &metadata() const { return kv_; }
  const std::vector<std::string> &keys() const { return keyOrder_; }
  const GgufValue *find(const std::string &key) const;

  /// Typed getters. Return false with "<file>: <problem> (key 'k')" when the
  /// key is missing or has an incompatible type. getInt accepts any integer
  /// type or BOOL; getFloat any float or integer type; getIntArray an array
  /// of integers.
  bool getInt(const std::string &key, int64_t &out, std::string &err) const;
  bool getFloat(const std::string &key, double &out, std::string &err) const;
  bool getString(const std::string &key, std::string &out,
                 std::string &err) const;
  bool getIntArray(const std::string &key, std::vector<int64_t> &out,
                   std::string &err) const;

private:
  GgufFile() = default;
  std::string path_;
  const uint8_t *map_ = nullptr;
  size_t mapSize_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t dataStart_ = 0;
  std::map<std::string, GgufValue> kv_;
  std::vector<std::string> keyOrder_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> index_;
};

/// Streaming GGUF v3 writer.
///   GgufWriter w; w.set("general.architecture", GgufValue::str("lfm2")); ...
///   w.addTensor("token_embd.weight", {hidden, vocab}, GgmlType::F16, err);
///   w.open(path, err);             // writes header, kv, tensor infos
///   w.write(data, n, err) ...      // float32 values, tensors in order
///   w.close(err);                  // checks that every tensor is complete
/// For a Q8_0 tensor, write() must hand over whole blocks of 32 values.
class GgufWriter {
public:
  explicit GgufWriter(uint32_t alignment = 32);
  ~GgufWriter();
  GgufWriter(const GgufWriter &) = delete;
  GgufWriter &operator=(const GgufWriter &) = delete;

  /// Adds or replaces a metadata key (file order = first insertion).
  void set(const std::string &key, GgufValue v);
  /// `ne` in ggml order. Fails on a duplicate name, a bad shape, or Q8_0
  /// with ne[0] not a multiple of 32.
  bool addTensor(const std::string &name, const std::vector<int64_t> &ne,
                 GgmlType type, std::string &err);
  bool open(const std::string &path, std::string &err);
  /// Appends float32 values, converted to the current tensor's type; may
  /// span tensor boundaries except inside a Q8_0 block.
  bool write(const float *data, size_t n, std::string &err);
  /// Appends raw bytes already in the current tensor's encoding.
  bool writeRaw(const void *data, size_t bytes, std::string &err);
  bool close(std::string &err);
  /// Bytes of all tensors' data, with padding.
  uint64_t dataBytes() const { return dataBytes_; }

private:
  struct Pending {
    std::string name;
    std::vector<int64_t> ne;
    GgmlType type;
    uint64_t offset, bytes, numel;
  };
  bool advance(std::string &err);
  bool putBytes(const void *p, size_t n, std::string &err);
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Pending> tensors_;
  uint64_t dataBytes_ = 0;
  std::string path_;
  std::FILE *fp_ = nullptr;
  size_t cur_ = 0;        ///< tensor being written
  uint64_t curDone_ = 0;  ///< bytes of it written
  std::vector<uint8_t> buf_;
};

} // namespace liquid

#endif // LIQUID_FRONTEND_GGUF_H
