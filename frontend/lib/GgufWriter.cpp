//===- GgufWriter.cpp - streaming GGUF v3 writer ---------------------------===//
//
// See liquid/Frontend/Gguf.h (GgufWriter): metadata and tensor infos first,
// then the tensors' data streamed in order, converted as they are written.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Gguf.h"

#include "liquid/Frontend/Safetensors.h"

#include "GgufFormat.h"

#include <cerrno>
#include <cmath>
#include <cstring>

namespace liquid {

using namespace gguf;
using detail::oneLine;
using detail::shown;
using detail::tensorSuffix;

//===----------------------------------------------------------------------===//
// GgufWriter
//===----------------------------------------------------------------------===//

namespace {

void put32(std::vector<uint8_t> &b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put64(std::vector<uint8_t> &b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void putStr(std::vector<uint8_t> &b, const std::string &s) {
  put64(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}
void putScalar(std::vector<uint8_t> &b, GgufType t, int64_t i, double f) {
  const uint64_t u = static_cast<uint64_t>(i);
  switch (t) {
  case GgufType::UINT8: case GgufType::INT8:
    b.push_back(static_cast<uint8_t>(u));
    break;
  case GgufType::BOOL: b.push_back(i ? 1 : 0); break;
  case GgufType::UINT16: case GgufType::INT16:
    b.push_back(static_cast<uint8_t>(u));
    b.push_back(static_cast<uint8_t>(u >> 8));
    break;
  case GgufType::UINT32: case GgufType::INT32: put32(b, static_cast<uint32_t>(u)); break;
  case GgufType::UINT64: case GgufType::INT64: put64(b, u); break;
  case GgufType::FLOAT32: {
    float x = static_cast<float>(f);
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    put32(b, bits);
    break;
  }
  case GgufType::FLOAT64: {
    uint64_t bits;
    std::memcpy(&bits, &f, 8);
    put64(b, bits);
    break;
  }
  default: break;
  }
}
void putValue(std::vector<uint8_t> &b, const GgufValue &v) {
  if (v.type == GgufType::STRING) {
    putStr(b, v.s);
    return;
  }
  if (v.type != GgufType::ARRAY) {
    putScalar(b, v.type, v.i, v.f);
    return;
  }
  put32(b, static_cast<uint32_t>(v.elemType));
  put64(b, v.arraySize());
  if (v.elemType == GgufType::STRING) {
    for (const auto &s : v.strings) putStr(b, s);
  } else if (v.elemType == GgufType::ARRAY) {
    for (const auto &a : v.arrays) putValue(b, a); // each: type, count, items
  } else if (GgufValue::isFloatType(v.elemType)) {
    for (double x : v.floats) putScalar(b, v.elemType, 0, x);
  } else {
    for (int64_t x : v.ints) putScalar(b, v.elemType, x, 0.0);
  }
}

} // namespace

GgufWriter::GgufWriter(uint32_t alignment)
    : alignment_(alignment && !(alignment & (alignment - 1)) ? alignment : 32) {}

GgufWriter::~GgufWriter() {
  if (fp_) std::fclose(fp_);
}

void GgufWriter::set(const std::string &key, GgufValue v) {
  for (auto &kv : kv_)
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  kv_.emplace_back(key, std::move(v));
}

bool GgufWriter::addTensor(const std::string &name,
                           const std::vector<int64_t> &ne, GgmlType type,
                           std::string &err) {
  const std::string sfx = tensorSuffix(name, kShown);
  if (fp_) {
    err = "GGUF writer: tensors must be added before open()" + sfx;
    return false;
  }
  if (name.empty() || ne.size() > kMaxDims) {
    err = "GGUF writer: bad tensor name or rank" + sfx;
    return false;
  }
  if (type != GgmlType::F32 && type != GgmlType::F16 && type != GgmlType::BF16 &&
      type != GgmlType::Q8_0 && type != GgmlType::Q4_K && type != GgmlType::Q6_K) {
    err = "GGUF writer: cannot write " + std::string(ggmlTypeName(uint32_t(type))) +
          " tensors (F32, F16, BF16, Q8_0, Q4_K, Q6_K only)" + sfx;
    return false;
  }
  for (const auto &t : tensors_)
    if (t.name == name) {
      err = "GGUF writer: duplicate tensor name" + sfx;
      return false;
    }
  uint64_t numel = 1;
  for (int64_t d : ne)
    if (d < 0 || !mulOk(numel, static_cast<uint64_t>(d), numel)) {
      err = "GGUF writer: bad shape " + formatShape(ne) + sfx;
      return false;
    }
  const int64_t blk = ggmlBlockSize(type);
  if (blk > 1 && (ne.empty() || ne[0] % blk != 0)) {
    err = "GGUF writer: " + std::string(ggmlTypeName(uint32_t(type))) +
          " needs ne[0] % " + std::to_string(blk) + " == 0, got " +
          formatShape(ne) + sfx;
    return false;
  }
  Pending p{name, ne, type, 0, numel / blk * ggmlBlockBytes(type), numel};
  p.offset = dataBytes_;
  dataBytes_ = alignUp(p.offset + p.bytes, alignment_);
  tensors_.push_back(std::move(p));
  return true;
}

bool GgufWriter::putBytes(const void *p, size_t n, std::string &err) {
  if (n && std::fwrite(p, 1, n, fp_) != n) {
    err = path_ + ": cannot write file: " + std::strerror(errno);
    return false;
  }
  return true;
}

bool GgufWriter::open(const std::string &path, std::string &err) {
  try {
    path_ = path;
    if (fp_) {
      err = path + ": GGUF writer already open";
      return false;
    }
    std::vector<uint8_t> h;
    put32(h, kMagic);
    put32(h, 3);
    put64(h, tensors_.size());
    bool hasAlign = false;
    for (const auto &kv : kv_) hasAlign |= kv.first == "general.alignment";
    put64(h, kv_.size() + (alignment_ != 32 && !hasAlign ? 1 : 0));
    for (const auto &kv : kv_) {
      putStr(h, kv.first);
      GgufValue v = kv.second;
      if (kv.first == "general.alignment") v = GgufValue::u32(alignment_);
      put32(h, static_cast<uint32_t>(v.type));
      putValue(h, v);
    }
    if (alignment_ != 32 && !hasAlign) {
      putStr(h, "general.alignment");
      put32(h, static_cast<uint32_t>(GgufType::UINT32));
      put32(h, alignment_);
    }
    for (const auto &t : tensors_) {
      putStr(h, t.name);
      put32(h, static_cast<uint32_t>(t.ne.size()));
      for (int64_t d : t.ne) put64(h, static_cast<uint64_t>(d));
      put32(h, static_cast<uint32_t>(t.type));
      put64(h, t.offset);
    }
    h.resize(alignUp(h.size(), alignment_), 0);
    fp_ = std::fopen(path.c_str(), "wb");
    if (!fp_) {
      err = path + ": cannot create file: " + std::strerror(errno);
      return false;
    }
    std::setvbuf(fp_, nullptr, _IOFBF, 1 << 20);
    cur_ = 0;
    curDone_ = 0;
    if (!putBytes(h.data(), h.size(), err)) return false;
    return advance(err);
  } catch (const std::exception &e) {
    err = oneLine(path + ": cannot write GGUF file: " + e.what());
    return false;
  }
}

/// Skips completed (and empty) tensors, writing their alignment padding.
bool GgufWriter::advance(std::string &err) {
  while (cur_ < tensors_.size() && curDone_ == tensors_[cur_].bytes) {
    const Pending &t = tensors_[cur_];
    const uint64_t next = cur_ + 1 < tensors_.size() ? tensors_[cur_ + 1].offset
                                                     : dataBytes_;
    static const uint8_t zeros[256] = {};
    uint64_t pad = next - (t.offset + t.bytes);
    while (pad) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(pad, sizeof zeros));
      if (!putBytes(zeros, n, err)) return false;
      pad -= n;
    }
    ++cur_;
    curDone_ = 0;
  }
  return true;
}

bool GgufWriter::write(const float *data, size_t n, std::string &err) {
  try {
    if (!fp_) {
      err = "GGUF writer: write() before open()";
      return false;
    }
    while (n) {
      if (cur_ >= tensors_.size()) {
        err = path_ + ": more tensor data than declared";
        return false;
      }
      const Pending &t = tensors_[cur_];
      const int64_t blk = ggmlBlockSize(t.type);
      const size_t bb = ggmlBlockBytes(t.type);
      const uint64_t leftElems = (t.bytes - curDone_) / bb * blk;
      size_t take = static_cast<size_t>(std::min<uint64_t>(n, leftElems));
      if (take % blk != 0) {
        err = path_ + ": " + ggmlTypeName(uint32_t(t.type)) +
              " data must be written in whole blocks of " + std::to_string(blk) +
              tensorSuffix(t.name, kShown);
        return false;
      }
      buf_.resize(take / blk * bb);
      switch (t.type) {
      case GgmlType::F32:
        for (size_t i = 0; i < take; ++i) {
          uint32_t u;
          std::memcpy(&u, &data[i], 4);
          for (int b = 0; b < 4; ++b)
            buf_[4 * i + b] = static_cast<uint8_t>(u >> (8 * b));
        }
        break;
      case GgmlType::F16:
      case GgmlType::BF16:
        for (size_t i = 0; i < take; ++i) {
          uint16_t h = t.type == GgmlType::F16 ? floatToHalf(data[i])
                                               : floatToBf16(data[i]);
          buf_[2 * i] = static_cast<uint8_t>(h);
          buf_[2 * i + 1] = static_cast<uint8_t>(h >> 8);
        }
        break;
      case GgmlType::Q8_0:
        quantizeQ8_0(data, take, buf_.data());
        break;
      case GgmlType::Q4_K:
      case GgmlType::Q6_K:
        quantizeKBlocks(t.type, data, take, buf_.data());
        break;
      default: // refused by addTensor
        err = path_ + ": cannot write this tensor type" + tensorSuffix(t.name, kShown);
        return false;
      }
      if (!putBytes(buf_.data(), buf_.size(), err)) return false;
      curDone_ += buf_.size();
      data += take;
      n -= take;
      if (!advance(err)) return false;
    }
    return true;
  } catch (const std::exception &e) {
    err = oneLine(path_ + ": cannot write GGUF file: " + e.what());
    return false;
  }
}

bool GgufWriter::writeRaw(const void *data, size_t bytes, std::string &err) {
  const uint8_t *p = static_cast<const uint8_t *>(data);
  if (!fp_) {
    err = "GGUF writer: writeRaw() before open()";
    return false;
  }
  while (bytes) {
    if (cur_ >= tensors_.size()) {
      err = path_ + ": more tensor data than declared";
      return false;
    }
    const Pending &t = tensors_[cur_];
    size_t take = static_cast<size_t>(std::min<uint64_t>(bytes, t.bytes - curDone_));
    if (!putBytes(p, take, err)) return false;
    curDone_ += take;
    p += take;
    bytes -= take;
    if (!advance(err)) return false;
  }
  return true;
}

bool GgufWriter::close(std::string &err) {
  if (!fp_) {
    err = "GGUF writer: close() before open()";
    return false;
  }
  bool ok = true;
  if (cur_ < tensors_.size()) {
    err = path_ + ": tensor data incomplete" +
          tensorSuffix(tensors_[cur_].name, kShown);
    ok = false;
  }
  const int e = std::fclose(fp_);
  fp_ = nullptr;
  if (e != 0 && ok) {
    err = path_ + ": cannot write file: " + std::strerror(errno);
    ok = false;
  }
  return ok;
}

} // namespace liquid

