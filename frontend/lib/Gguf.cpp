//===- Gguf.cpp - GGUF v2/v3 reader (mmap) -----------------------------------===//
//
// See liquid/Frontend/Gguf.h (the writer is GgufWriter.cpp). Written from the GGUF specification
// (ggml docs/gguf.md); every read is bounds-checked against the file size.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Gguf.h"

#include "liquid/Frontend/Safetensors.h" // halfToFloat, bf16ToFloat, formatShape

#include "FileUtil.h"
#include "GgufFormat.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

namespace liquid {

using namespace gguf;

namespace {

constexpr int kMaxArrayDepth = 8;
// Largest metadata array accepted (real files: tokenizer vocabularies and
// merges, < 1M entries); bounds the memory a hostile file can request.
constexpr uint64_t kMaxArrayElems = uint64_t(1) << 24;
constexpr uint64_t kMaxNestedElems = uint64_t(1) << 16;

using detail::bitsToDouble;
using detail::bitsToFloat;
using detail::keySuffix;
using detail::loadLE16;
using detail::loadLE32;
using detail::loadLE64;
using detail::oneLine;
using detail::shown;
using detail::tensorSuffix;


/// Size in bytes of a fixed-size scalar value type, 0 for STRING/ARRAY/
/// unknown.
size_t scalarSize(uint32_t t) {
  switch (static_cast<GgufType>(t)) {
  case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
  case GgufType::UINT16: case GgufType::INT16: return 2;
  case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
  case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
  default: return 0;
  }
}
bool knownValueType(uint32_t t) { return t <= 12; }

/// Bounds-checked little-endian cursor over the mapped file.
struct Cursor {
  const uint8_t *base;
  uint64_t size;
  uint64_t pos = 0;
  uint64_t left() const { return size - pos; }
  bool u32(uint32_t &v) {
    if (left() < 4) return false;
    v = loadLE32(base + pos);
    pos += 4;
    return true;
  }
  bool u64(uint64_t &v) {
    if (left() < 8) return false;
    v = loadLE64(base + pos);
    pos += 8;
    return true;
  }
  bool str(std::string &s) {
    uint64_t n;
    if (!u64(n) || n > left()) return false;
    s.assign(reinterpret_cast<const char *>(base + pos), static_cast<size_t>(n));
    pos += n;
    return true;
  }
};

/// Reads one scalar of fixed-size type `t` at the cursor into `v`.
void readScalar(Cursor &c, uint32_t t, GgufValue &v) {
  const uint8_t *p = c.base + c.pos;
  switch (static_cast<GgufType>(t)) {
  case GgufType::UINT8: v.i = p[0]; break;
  case GgufType::INT8: v.i = static_cast<int8_t>(p[0]); break;
  case GgufType::BOOL: v.i = p[0] != 0; break;
  case GgufType::UINT16: v.i = loadLE16(p); break;
  case GgufType::INT16: v.i = static_cast<int16_t>(loadLE16(p)); break;
  case GgufType::UINT32: v.i = loadLE32(p); break;
  case GgufType::INT32: v.i = static_cast<int32_t>(loadLE32(p)); break;
  case GgufType::UINT64:
  case GgufType::INT64: v.i = static_cast<int64_t>(loadLE64(p)); break;
  case GgufType::FLOAT32: v.f = bitsToFloat(loadLE32(p)); break;
  case GgufType::FLOAT64: v.f = bitsToDouble(loadLE64(p)); break;
  default: break;
  }
  c.pos += scalarSize(t);
}

/// Reads a value of type `t` (already consumed). Returns an empty string on
/// success, else the problem.
std::string readValue(Cursor &c, uint32_t t, GgufValue &v, int depth) {
  if (!knownValueType(t))
    return "unknown metadata value type " + std::to_string(t);
  v.type = static_cast<GgufType>(t);
  if (size_t sz = scalarSize(t)) {
    if (c.left() < sz) return "file truncated in a metadata value";
    readScalar(c, t, v);
    return "";
  }
  if (v.type == GgufType::STRING) {
    if (!c.str(v.s)) return "file truncated in a metadata string";
    return "";
  }
  // ARRAY
  if (depth >= kMaxArrayDepth) return "metadata arrays nested too deeply";
  uint32_t et;
  uint64_t n;
  if (!c.u32(et) || !c.u64(n)) return "file truncated in a metadata array header";
  if (!knownValueType(et))
    return "unknown metadata array element type " + std::to_string(et);
  v.elemType = static_cast<GgufType>(et);
  const size_t esz = scalarSize(et);
  // Every element needs at least 1 byte (scalars), 8 (strings) or 12
  // (arrays): reject counts that cannot fit before allocating anything.
  const uint64_t minElem = esz ? esz : (v.elemType == GgufType::STRING ? 8 : 12);
  if (n > c.left() / minElem)
    return "metadata array of " + std::to_string(n) + " " +
           ggufTypeName(v.elemType) +
           " elements runs past the end of the file (truncated or corrupt)";
  // Arrays of arrays cost a GgufValue per element: allow fewer of them.
  const uint64_t limit = esz || v.elemType == GgufType::STRING ? kMaxArrayElems
                                                               : kMaxNestedElems;
  if (n > limit)
    return "metadata array of " + std::to_string(n) +
           " elements exceeds the limit of " + std::to_string(limit);
  const size_t count = static_cast<size_t>(n);
  if (esz) {
    GgufValue tmp;
    if (GgufValue::isFloatType(v.elemType)) {
      v.floats.resize(count);
      for (size_t i = 0; i < count; ++i) {
        readScalar(c, et, tmp);
        v.floats[i] = tmp.f;
      }
    } else {
      v.ints.resize(count);
      for (size_t i = 0; i < count; ++i) {
        readScalar(c, et, tmp);
        v.ints[i] = tmp.i;
      }
    }
    return "";
  }
  if (v.elemType == GgufType::STRING) {
    v.strings.resize(count);
    for (size_t i = 0; i < count; ++i)
      if (!c.str(v.strings[i]))
        return "file truncated in metadata string array element " +
               std::to_string(i);
    return "";
  }
  v.arrays.resize(count);
  for (size_t i = 0; i < count; ++i) {
    std::string e = readValue(c, et, v.arrays[i], depth + 1);
    if (!e.empty()) return e;
  }
  return "";
}

} // namespace

//===----------------------------------------------------------------------===//
// GgufValue
//===----------------------------------------------------------------------===//

bool GgufValue::isIntegerType(GgufType t) {
  switch (t) {
  case GgufType::UINT8: case GgufType::INT8: case GgufType::UINT16:
  case GgufType::INT16: case GgufType::UINT32: case GgufType::INT32:
  case GgufType::UINT64: case GgufType::INT64:
    return true;
  default:
    return false;
  }
}

bool GgufValue::isFloatType(GgufType t) {
  return t == GgufType::FLOAT32 || t == GgufType::FLOAT64;
}

size_t GgufValue::arraySize() const {
  if (!isArray()) return 0;
  if (elemType == GgufType::STRING) return strings.size();
  if (elemType == GgufType::ARRAY) return arrays.size();
  if (isFloatType(elemType)) return floats.size();
  return ints.size();
}

std::string GgufValue::typeName() const {
  if (isArray()) return std::string("ARRAY/") + ggufTypeName(elemType);
  return ggufTypeName(type);
}

GgufValue GgufValue::u32(uint32_t v) {
  GgufValue r;
  r.type = GgufType::UINT32;
  r.i = v;
  return r;
}
GgufValue GgufValue::i32(int32_t v) {
  GgufValue r;
  r.type = GgufType::INT32;
  r.i = v;
  return r;
}
GgufValue GgufValue::u64(uint64_t v) {
  GgufValue r;
  r.type = GgufType::UINT64;
  r.i = static_cast<int64_t>(v);
  return r;
}
GgufValue GgufValue::f32(float v) {
  GgufValue r;
  r.type = GgufType::FLOAT32;
  r.f = v;
  return r;
}
GgufValue GgufValue::boolean(bool v) {
  GgufValue r;
  r.type = GgufType::BOOL;
  r.i = v;
  return r;
}
GgufValue GgufValue::str(std::string v) {
  GgufValue r;
  r.type = GgufType::STRING;
  r.s = std::move(v);
  return r;
}
GgufValue GgufValue::arrayI32(const std::vector<int32_t> &v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elemType = GgufType::INT32;
  r.ints.assign(v.begin(), v.end());
  return r;
}
GgufValue GgufValue::arrayF32(const std::vector<float> &v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elemType = GgufType::FLOAT32;
  r.floats.assign(v.begin(), v.end());
  return r;
}
GgufValue GgufValue::arrayStr(std::vector<std::string> v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elemType = GgufType::STRING;
  r.strings = std::move(v);
  return r;
}

//===----------------------------------------------------------------------===//
// GgufFile
//===----------------------------------------------------------------------===//

GgufFile::~GgufFile() {
  detail::ReadOnlyMapping::unmap(map_, mapSize_);
}

const GgufTensorInfo *GgufFile::findTensor(const std::string &name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t *GgufFile::data(const GgufTensorInfo &t) const {
  return map_ + dataStart_ + t.offset;
}

const GgufValue *GgufFile::find(const std::string &key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

bool GgufFile::getInt(const std::string &key, int64_t &out,
                      std::string &err) const {
  const GgufValue *v = find(key);
  if (!v) {
    err = path_ + ": missing metadata" + keySuffix(key, kShown);
    return false;
  }
  if (!v->isInteger()) {
    err = path_ + ": metadata has type " + v->typeName() +
          ", expected an integer" + keySuffix(key, kShown);
    return false;
  }
  if (v->type == GgufType::UINT64 && v->i < 0) {
    err = path_ + ": metadata value is too large" + keySuffix(key, kShown);
    return false;
  }
  out = v->i;
  return true;
}

bool GgufFile::getFloat(const std::string &key, double &out,
                        std::string &err) const {
  const GgufValue *v = find(key);
  if (!v) {
    err = path_ + ": missing metadata" + keySuffix(key, kShown);
    return false;
  }
  if (v->isFloat()) {
    out = v->f;
    return true;
  }
  if (GgufValue::isIntegerType(v->type)) {
    out = static_cast<double>(v->i);
    return true;
  }
  err = path_ + ": metadata has type " + v->typeName() +
        ", expected a number" + keySuffix(key, kShown);
  return false;
}

bool GgufFile::getString(const std::string &key, std::string &out,
                         std::string &err) const {
  const GgufValue *v = find(key);
  if (!v) {
    err = path_ + ": missing metadata" + keySuffix(key, kShown);
    return false;
  }
  if (!v->isString()) {
    err = path_ + ": metadata has type " + v->typeName() +
          ", expected a string" + keySuffix(key, kShown);
    return false;
  }
  out = v->s;
  return true;
}

bool GgufFile::getIntArray(const std::string &key, std::vector<int64_t> &out,
                           std::string &err) const {
  const GgufValue *v = find(key);
  if (!v) {
    err = path_ + ": missing metadata" + keySuffix(key, kShown);
    return false;
  }
  if (!v->isArray() || !(GgufValue::isIntegerType(v->elemType) ||
                         v->elemType == GgufType::BOOL)) {
    err = path_ + ": metadata has type " + v->typeName() +
          ", expected an array of integers" + keySuffix(key, kShown);
    return false;
  }
  out = v->ints;
  return true;
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string &path,
                                         std::string &err) {
  const std::string where = path + ": ";
  try {
    detail::ReadOnlyMapping file;
    if (!file.open(path, where, err)) return nullptr;
    const uint64_t fileSize = file.size();
    if (fileSize < 24) {
      err = where + "file is too short for a GGUF header (" +
            std::to_string(fileSize) + " bytes, need 24)";
      return nullptr;
    }
    if (!file.map(where, err)) return nullptr;
    std::unique_ptr<GgufFile> f(new GgufFile());
    f->path_ = path;
    f->map_ = file.release();
    f->mapSize_ = static_cast<size_t>(fileSize);

    Cursor c{f->map_, fileSize};
    uint32_t magic = 0, version = 0;
    uint64_t nTensors = 0, nKv = 0;
    c.u32(magic);
    c.u32(version);
    c.u64(nTensors);
    c.u64(nKv);
    if (magic != kMagic) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "bad magic 0x%08x (not a GGUF file)",
                    static_cast<unsigned>(magic));
      err = where + buf;
      return nullptr;
    }
    if (version != 2 && version != 3) {
      err = where + "unsupported GGUF version " + std::to_string(version) +
            (version == 1 ? " (only versions 2 and 3 are supported)"
             : (version & 0xffffu) == 0
                 ? " (a big-endian file? only little-endian v2/v3 are supported)"
                 : " (only versions 2 and 3 are supported)");
      return nullptr;
    }
    f->version_ = version;
    // A kv needs >= 13 bytes (key length, type, 1-byte value), a tensor info
    // >= 24 (name length, n_dims, type, offset).
    if (nKv > c.left() / 13) {
      err = where + "metadata count " + std::to_string(nKv) +
            " is impossible for a file of " + std::to_string(fileSize) +
            " bytes";
      return nullptr;
    }
    if (nTensors > c.left() / 24) {
      err = where + "tensor count " + std::to_string(nTensors) +
            " is impossible for a file of " + std::to_string(fileSize) +
            " bytes";
      return nullptr;
    }

    // Metadata.
    for (uint64_t k = 0; k < nKv; ++k) {
      std::string key;
      uint64_t keyLen = 0;
      if (c.left() >= 8) keyLen = loadLE64(c.base + c.pos);
      if (!c.str(key)) {
        err = where + "file truncated in the key of metadata entry " +
              std::to_string(k) + " (key length " + std::to_string(keyLen) +
              ", " + std::to_string(c.left()) + " bytes left)";
        return nullptr;
      }
      if (key.empty()) {
        err = where + "empty metadata key (entry " + std::to_string(k) + ")";
        return nullptr;
      }
      if (f->kv_.count(key)) {
        err = where + "duplicate metadata key" + keySuffix(key, kShown);
        return nullptr;
      }
      uint32_t vt;
      if (!c.u32(vt)) {
        err = where + "file truncated in a metadata type" +
              keySuffix(key, kShown);
        return nullptr;
      }
      GgufValue v;
      std::string problem = readValue(c, vt, v, 0);
      if (!problem.empty()) {
        err = where + problem + keySuffix(key, kShown);
        return nullptr;
      }
      f->keyOrder_.push_back(key);
      f->kv_.emplace(key, std::move(v));
    }

    if (const GgufValue *a = f->find("general.alignment")) {
      if (!GgufValue::isIntegerType(a->type) || a->i <= 0 ||
          (a->i & (a->i - 1)) != 0 || a->i > (1 << 30)) {
        err = where + "general.alignment must be a positive power of two "
                      "integer, got " +
              (a->isInteger() ? std::to_string(a->i) : a->typeName()) +
              keySuffix("general.alignment", kShown);
        return nullptr;
      }
      f->alignment_ = static_cast<uint64_t>(a->i);
    }

    // Tensor infos.
    f->tensors_.reserve(static_cast<size_t>(nTensors));
    for (uint64_t k = 0; k < nTensors; ++k) {
      GgufTensorInfo t;
      if (!c.str(t.name)) {
        err = where + "file truncated in the name of tensor info " +
              std::to_string(k);
        return nullptr;
      }
      const std::string sfx = tensorSuffix(t.name, kShown);
      if (t.name.empty()) {
        err = where + "empty tensor name (tensor info " + std::to_string(k) +
              ")";
        return nullptr;
      }
      uint32_t nd;
      if (!c.u32(nd)) {
        err = where + "file truncated in a tensor info" + sfx;
        return nullptr;
      }
      if (nd > kMaxDims) {
        err = where + "tensor has " + std::to_string(nd) +
              " dimensions (at most 4)" + sfx;
        return nullptr;
      }
      // numel() multiplies the dimensions in order (int64_t): the product of
      // the nonzero ones must fit even when another is zero.
      uint64_t numel = 1, nonzero = 1;
      bool overflow = false;
      for (uint32_t d = 0; d < nd; ++d) {
        uint64_t ne;
        if (!c.u64(ne)) {
          err = where + "file truncated in a tensor info" + sfx;
          return nullptr;
        }
        if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          err = where + "tensor dimension " + std::to_string(d) +
                " is negative or too large" + sfx;
          return nullptr;
        }
        if (!mulOk(numel, ne, numel)) overflow = true;
        if (ne != 0 && (!mulOk(nonzero, ne, nonzero) ||
                        nonzero > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))
          overflow = true;
        t.ne.push_back(static_cast<int64_t>(ne));
      }
      if (!c.u32(t.typeId) || !c.u64(t.offset)) {
        err = where + "file truncated in a tensor info" + sfx;
        return nullptr;
      }
      if (!ggmlTypeSupported(t.typeId)) {
        const char *n = ggmlTypeName(t.typeId);
        err = where +
              (std::strcmp(n, "unknown") == 0
                   ? "unknown tensor type " + std::to_string(t.typeId)
                   : "unsupported tensor type " + std::to_string(t.typeId) +
                         " (" + n +
                         "); supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, "
                         "Q5_K, Q6_K") +
              sfx;
        return nullptr;
      }
      const GgmlType gt = t.type();
      const int64_t blk = ggmlBlockSize(gt);
      if (blk > 1 && (t.ne.empty() || t.ne[0] % blk != 0)) {
        err = where + std::string(ggmlTypeName(t.typeId)) +
              " tensor needs ne[0] to be a multiple of " +
              std::to_string(blk) + ", shape (ggml ne) " +
              formatShape(t.ne) + sfx;
        return nullptr;
      }
      if (overflow || !mulOk(numel / blk, ggmlBlockBytes(gt), t.bytes)) {
        err = where + "tensor byte size overflows, shape (ggml ne) " +
              formatShape(t.ne) + sfx;
        return nullptr;
      }
      if (f->index_.count(t.name)) {
        err = where + "duplicate tensor name" + sfx;
        return nullptr;
      }
      f->index_[t.name] = f->tensors_.size();
      f->tensors_.push_back(std::move(t));
    }

    // Data section.
    const uint64_t dataStart = alignUp(c.pos, f->alignment_);
    f->dataStart_ = dataStart;
    if (dataStart > fileSize && !f->tensors_.empty()) {
      err = where + "file truncated before the tensor data section (data "
                    "starts at " +
            std::to_string(dataStart) + ", file is " +
            std::to_string(fileSize) + " bytes)";
      return nullptr;
    }
    const uint64_t dataSize = dataStart <= fileSize ? fileSize - dataStart : 0;
    for (const auto &t : f->tensors_) {
      const std::string sfx = tensorSuffix(t.name, kShown);
      if (t.offset % f->alignment_ != 0) {
        err = where + "tensor data offset " + std::to_string(t.offset) +
              " is not a multiple of the alignment " +
              std::to_string(f->alignment_) + sfx;
        return nullptr;
      }
      if (t.offset > dataSize || t.bytes > dataSize - t.offset) {
        err = where + "tensor data [" + std::to_string(t.offset) + ", " +
              std::to_string(t.offset) + "+" + std::to_string(t.bytes) +
              ") runs past the end of the file (data section is " +
              std::to_string(dataSize) + " bytes)" + sfx;
        return nullptr;
      }
    }
    std::vector<const GgufTensorInfo *> byOff;
    for (const auto &t : f->tensors_)
      if (t.bytes) byOff.push_back(&t);
    std::sort(byOff.begin(), byOff.end(),
              [](const GgufTensorInfo *a, const GgufTensorInfo *b) {
                return a->offset < b->offset;
              });
    for (size_t i = 1; i < byOff.size(); ++i)
      if (byOff[i]->offset < byOff[i - 1]->offset + byOff[i - 1]->bytes) {
        err = where + "data of tensors '" + shown(byOff[i - 1]->name, kShown) +
              "' and '" + shown(byOff[i]->name, kShown) + "' overlap" +
              tensorSuffix(byOff[i]->name, kShown);
        return nullptr;
      }
    return f;
  } catch (...) {
    err = detail::exceptionMessage(where + "cannot read GGUF file: ");
    return nullptr;
  }
}

} // namespace liquid
