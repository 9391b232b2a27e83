//===- Safetensors.cpp - read-only safetensors reader (+ F32 writer) ------===//
//
// See liquid/Frontend/Safetensors.h. The header is parsed with nlohmann::json;
// exceptions are caught here and never leave the API.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Safetensors.h"

#include "FileUtil.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

namespace liquid {

namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000; // 100 MB

struct DTypeDesc {
  DType type;
  const char *name;
  size_t size;
};

constexpr DTypeDesc kDTypes[] = {
    {DType::BOOL, "BOOL", 1},       {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},           {DType::F8_E5M2, "F8_E5M2", 1},
    {DType::F8_E4M3, "F8_E4M3", 1}, {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},         {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},       {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},         {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},         {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
};

using detail::bitsToDouble;
using detail::bitsToFloat;
using detail::loadLE16;
using detail::loadLE32;
using detail::loadLE64;
using detail::oneLine;
using detail::printable;
using detail::tensorSuffix;

/// A non-negative JSON integer. `what` is set to a reason on failure.
bool jsonToU64(const json &j, uint64_t &out, std::string &what) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) { // signed => negative here
    what = "is negative (" + std::to_string(j.get<int64_t>()) + ")";
    return false;
  }
  what = "is not an integer (" + printable(j.dump()) + ")";
  return false;
}

} // namespace

//===----------------------------------------------------------------------===//
// dtypes
//===----------------------------------------------------------------------===//

const char *dtypeName(DType t) {
  for (const auto &d : kDTypes)
    if (d.type == t) return d.name;
  return "?";
}

bool parseDType(const std::string &s, DType &out) {
  for (const auto &d : kDTypes)
    if (s == d.name) {
      out = d.type;
      return true;
    }
  return false;
}

size_t dtypeSize(DType t) {
  for (const auto &d : kDTypes)
    if (d.type == t) return d.size;
  return 0;
}

bool dtypeIsFloat(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 ||
         t == DType::F64;
}

float halfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exactly representable in float.
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) // inf / NaN (payload kept)
    return bitsToFloat(sign | 0x7f800000u | (mant << 13));
  return bitsToFloat(sign | ((exp + 112u) << 23) | (mant << 13));
}

float bf16ToFloat(uint16_t b) {
  return bitsToFloat(static_cast<uint32_t>(b) << 16);
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

//===----------------------------------------------------------------------===//
// SafetensorsFile
//===----------------------------------------------------------------------===//

SafetensorsFile::~SafetensorsFile() {
  detail::ReadOnlyMapping::unmap(map_, mapSize_);
}

const TensorInfo *SafetensorsFile::find(const std::string &name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t *SafetensorsFile::rawData(const TensorInfo &t) const {
  return map_ + dataStart_ + t.begin;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string &path,
                                                       std::string &err) {
  const std::string where = path + ": ";
  try {
    detail::ReadOnlyMapping file;
    if (!file.open(path, where, err)) return nullptr;
    const uint64_t fileSize = file.size();
    if (fileSize < 8) {
      err = where + "file is too short (" + std::to_string(fileSize) +
            " bytes; a safetensors file starts with an 8-byte header length)";
      return nullptr;
    }
    if (!file.map(where, err)) return nullptr;

    std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
    f->path_ = path;
    f->map_ = file.release();
    f->mapSize_ = static_cast<size_t>(fileSize);

    const uint64_t headerLen = loadLE64(f->map_);
    if (headerLen > kMaxHeaderBytes) {
      err = where + "header length " + std::to_string(headerLen) +
            " exceeds the 100 MB limit";
      return nullptr;
    }
    if (headerLen > fileSize - 8) {
      err = where + "header length " + std::to_string(headerLen) +
            " runs past the end of the file (" + std::to_string(fileSize) +
            " bytes)";
      return nullptr;
    }
    f->dataStart_ = static_cast<size_t>(8 + headerLen);
    const uint64_t dataSize = fileSize - 8 - headerLen;

    const char *hb = reinterpret_cast<const char *>(f->map_ + 8);
    json header;
    std::string dupKey;
    int dupDepth = -1;
    if (std::string deep = detail::jsonDepthError(hb, hb + headerLen); !deep.empty()) {
      err = where + "header " + deep;
      return nullptr;
    }
    try {
      header = detail::parseRejectingDuplicates<json>(hb, hb + headerLen,
                                                      dupKey, dupDepth);
    } catch (const json::exception &e) {
      err = where + "malformed header JSON: " + e.what();
      err = oneLine(err);
      return nullptr;
    }
    if (!header.is_object()) {
      err = where + "header JSON is not an object";
      return nullptr;
    }
    if (dupDepth == 1) {
      err = where + "duplicate tensor name in header" + tensorSuffix(dupKey);
      return nullptr;
    }
    if (dupDepth > 1) {
      err = where + "duplicate key '" + printable(dupKey) + "' in header JSON";
      return nullptr;
    }

    for (auto it = header.begin(); it != header.end(); ++it) {
      const std::string &name = it.key();
      const json &v = it.value();
      if (name == "__metadata__") {
        if (!v.is_object()) {
          err = where + "'__metadata__' is not a JSON object";
          return nullptr;
        }
        for (auto m2 = v.begin(); m2 != v.end(); ++m2) {
          if (!m2.value().is_string()) {
            err = where + "'__metadata__' value of key '" +
                  printable(m2.key()) + "' is not a string";
            return nullptr;
          }
          f->metadata_[m2.key()] = m2.value().get<std::string>();
        }
        continue;
      }
      const std::string sfx = tensorSuffix(name);
      if (!v.is_object()) {
        err = where + "header entry is not a JSON object" + sfx;
        return nullptr;
      }
      TensorInfo t;
      t.name = name;

      // dtype
      auto dt = v.find("dtype");
      if (dt == v.end()) {
        err = where + "missing field 'dtype'" + sfx;
        return nullptr;
      }
      if (!dt->is_string()) {
        err = where + "field 'dtype' is not a string" + sfx;
        return nullptr;
      }
      if (!parseDType(dt->get<std::string>(), t.dtype)) {
        err = where + "unknown dtype '" + printable(dt->get<std::string>()) +
              "'" + sfx;
        return nullptr;
      }

      // shape
      auto sh = v.find("shape");
      if (sh == v.end()) {
        err = where + "missing field 'shape'" + sfx;
        return nullptr;
      }
      if (!sh->is_array()) {
        err = where + "field 'shape' is not an array" + sfx;
        return nullptr;
      }
      bool zero = false;
      for (size_t i = 0; i < sh->size(); ++i) {
        uint64_t d = 0;
        std::string what;
        if (!jsonToU64((*sh)[i], d, what)) {
          err = where + "shape dimension " + std::to_string(i) + " " + what +
                sfx;
          return nullptr;
        }
        if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          err = where + "shape dimension " + std::to_string(i) +
                " is too large" + sfx;
          return nullptr;
        }
        if (d == 0) zero = true;
        t.shape.push_back(static_cast<int64_t>(d));
      }

      // data_offsets
      auto off = v.find("data_offsets");
      if (off == v.end()) {
        err = where + "missing field 'data_offsets'" + sfx;
        return nullptr;
      }
      if (!off->is_array() || off->size() != 2) {
        err = where + "field 'data_offsets' is not an array of 2 integers" +
              sfx;
        return nullptr;
      }
      std::string what;
      if (!jsonToU64((*off)[0], t.begin, what)) {
        err = where + "data_offsets begin " + what + sfx;
        return nullptr;
      }
      if (!jsonToU64((*off)[1], t.end, what)) {
        err = where + "data_offsets end " + what + sfx;
        return nullptr;
      }
      if (t.begin > t.end) {
        err = where + "data_offsets begin " + std::to_string(t.begin) +
              " > end " + std::to_string(t.end) + sfx;
        return nullptr;
      }
      if (t.end > dataSize) {
        err = where + "data_offsets [" + std::to_string(t.begin) + "," +
              std::to_string(t.end) + "] out of range (data section is " +
              std::to_string(dataSize) + " bytes)" + sfx;
        return nullptr;
      }

      // byte count == numel * element size (saturating arithmetic)
      const uint64_t elem = dtypeSize(t.dtype);
      uint64_t expected = 0;
      bool overflow = false;
      // The nonzero dimensions' product must fit even when another is zero
      // (numel() multiplies them in order).
      expected = elem;
      for (int64_t d : t.shape) {
        const uint64_t ud = static_cast<uint64_t>(d);
        if (ud == 0) continue;
        if (expected > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / ud) {
          overflow = true;
          break;
        }
        expected *= ud;
      }
      if (zero) expected = 0;
      if (overflow || expected != t.nbytes()) {
        err = where + "byte count " + std::to_string(t.nbytes()) +
              " does not match shape " + formatShape(t.shape) + " x " +
              dtypeName(t.dtype) + " (" +
              (overflow ? std::string("overflow")
                        : std::to_string(expected)) +
              " bytes)" + sfx;
        return nullptr;
      }
      f->tensors_.push_back(std::move(t));
    }

    // No two tensors may share bytes.
    std::vector<const TensorInfo *> byOffset;
    for (const auto &t : f->tensors_)
      if (t.nbytes() > 0) byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(),
              [](const TensorInfo *a, const TensorInfo *b) {
                return a->begin < b->begin;
              });
    for (size_t i = 1; i < byOffset.size(); ++i)
      if (byOffset[i]->begin < byOffset[i - 1]->end) {
        err = where + "data of tensors '" + printable(byOffset[i - 1]->name) +
              "' and '" + printable(byOffset[i]->name) + "' overlap" +
              tensorSuffix(byOffset[i]->name);
        return nullptr;
      }

    // header iteration order is sorted by name already (std::map)
    for (size_t i = 0; i < f->tensors_.size(); ++i)
      f->index_[f->tensors_[i].name] = i;
    return f;
  } catch (...) {
    err = detail::exceptionMessage(where + "cannot read safetensors file: ");
    return nullptr;
  }
}

bool SafetensorsFile::readF32(const TensorInfo &t, std::vector<float> &out,
                              std::string &err) const {
  try {
    const size_t n = static_cast<size_t>(t.numel());
    const uint8_t *p = rawData(t);
    out.resize(n);
    switch (t.dtype) {
    case DType::F32:
      for (size_t i = 0; i < n; ++i) out[i] = bitsToFloat(loadLE32(p + 4 * i));
      return true;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) out[i] = halfToFloat(loadLE16(p + 2 * i));
      return true;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) out[i] = bf16ToFloat(loadLE16(p + 2 * i));
      return true;
    case DType::F64:
      for (size_t i = 0; i < n; ++i)
        out[i] = static_cast<float>(bitsToDouble(loadLE64(p + 8 * i)));
      return true;
    default:
      out.clear();
      err = path_ + ": tensor has dtype " + dtypeName(t.dtype) +
            ", expected a float dtype (F32, F16, BF16, F64)" +
            tensorSuffix(t.name);
      return false;
    }
  } catch (const std::exception &e) {
    err = oneLine(path_ + ": cannot read tensor: " + e.what() +
                  tensorSuffix(t.name));
    return false;
  }
}

bool SafetensorsFile::readI32(const TensorInfo &t, std::vector<int32_t> &out,
                              std::string &err) const {
  if (t.dtype != DType::I32) {
    err = path_ + ": tensor has dtype " + dtypeName(t.dtype) +
          ", expected I32" + tensorSuffix(t.name);
    return false;
  }
  try {
    const size_t n = static_cast<size_t>(t.numel());
    const uint8_t *p = rawData(t);
    out.resize(n);
    for (size_t i = 0; i < n; ++i)
      out[i] = static_cast<int32_t>(loadLE32(p + 4 * i));
    return true;
  } catch (const std::exception &e) {
    err = oneLine(path_ + ": cannot read tensor: " + e.what() +
                  tensorSuffix(t.name));
    return false;
  }
}

bool SafetensorsFile::readTensor(const std::string &name, Tensor &out,
                                 std::string &err) const {
  const TensorInfo *t = find(name);
  if (!t) {
    err = path_ + ": tensor not found" + tensorSuffix(name);
    return false;
  }
  out.name = name;
  out.shape = t->shape;
  return readF32(*t, out.data, err);
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

bool writeSafetensors(const std::string &path,
                      const std::vector<std::pair<std::string, Tensor>> &tensors,
                      std::string &err,
                      const std::map<std::string, std::string> &metadata) {
  const std::string where = path + ": ";
  try {
    json header = json::object();
    std::set<std::string> seen;
    uint64_t offset = 0;
    for (const auto &[name, t] : tensors) {
      if (name.empty() || name == "__metadata__") {
        err = where + "invalid tensor name" + tensorSuffix(name);
        return false;
      }
      if (!seen.insert(name).second) {
        err = where + "duplicate tensor name" + tensorSuffix(name);
        return false;
      }
      int64_t numel = 1;
      for (int64_t d : t.shape) {
        if (d < 0) {
          err = where + "negative dimension in shape " + formatShape(t.shape) +
                tensorSuffix(name);
          return false;
        }
        numel *= d;
      }
      if (static_cast<uint64_t>(numel) != t.data.size()) {
        err = where + "shape " + formatShape(t.shape) + " needs " +
              std::to_string(numel) + " values, got " +
              std::to_string(t.data.size()) + tensorSuffix(name);
        return false;
      }
      const uint64_t bytes = 4ull * t.data.size();
      header[name] = {{"dtype", "F32"},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + bytes}}};
      offset += bytes;
    }
    if (!metadata.empty()) header["__metadata__"] = metadata;

    std::string h = header.dump();
    while (h.size() % 8 != 0) h += ' ';

    std::FILE *fp = std::fopen(path.c_str(), "wb");
    if (!fp) {
      err = where + "cannot create file: " + std::strerror(errno);
      return false;
    }
    bool ok = true;
    uint8_t len[8];
    uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    ok = ok && std::fwrite(len, 1, 8, fp) == 8;
    ok = ok && std::fwrite(h.data(), 1, h.size(), fp) == h.size();
    std::vector<uint8_t> buf;
    for (const auto &entry : tensors) {
      if (!ok) break;
      const std::vector<float> &d = entry.second.data;
      buf.resize(4 * d.size());
      for (size_t i = 0; i < d.size(); ++i) {
        uint32_t u;
        std::memcpy(&u, &d[i], 4);
        for (int b = 0; b < 4; ++b)
          buf[4 * i + b] = static_cast<uint8_t>(u >> (8 * b));
      }
      ok = std::fwrite(buf.data(), 1, buf.size(), fp) == buf.size();
    }
    const int writeErrno = errno;
    if (std::fclose(fp) != 0 && ok) {
      err = where + "cannot write file: " + std::strerror(errno);
      return false;
    }
    if (!ok) {
      err = where + "cannot write file: " + std::strerror(writeErrno);
      return false;
    }
    return true;
  } catch (const std::exception &e) {
    err = oneLine(where + "cannot write safetensors file: " + e.what());
    return false;
  }
}

} // namespace liquid
