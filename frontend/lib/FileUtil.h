//===- FileUtil.h - helpers shared by the frontend readers ------*- C++ -*-===//
//
// Private to frontend/lib (not installed): one-line error messages about
// names read from untrusted files, little-endian loads, path joining, a
// read-only memory mapping of a whole file, and JSON parsing that reports
// duplicated keys. Everything is header-only, in liquid::detail.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_FRONTEND_LIB_FILEUTIL_H
#define LIQUID_FRONTEND_LIB_FILEUTIL_H

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace liquid {
namespace detail {

//===----------------------------------------------------------------------===//
// Messages
//===----------------------------------------------------------------------===//

/// `s` with control characters written as \xNN, so that a name read from a
/// file prints on one line. Once the result has reached `maxLen` characters
/// the rest is cut and "..." appended.
inline std::string printable(const std::string &s,
                             size_t maxLen = std::string::npos) {
  std::string r;
  r.reserve(std::min(s.size(), maxLen));
  for (unsigned char c : s) {
    if (r.size() >= maxLen) {
      r += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      r += buf;
    } else {
      r += static_cast<char>(c);
    }
  }
  return r;
}

/// Replaces line breaks so that every error stays on one line.
inline std::string oneLine(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

/// How a reader shows a key or tensor name in its messages: through
/// printable(name, maxLen), or verbatim (the caller then makes the whole
/// message one line).
struct NameStyle {
  bool escape = true;
  size_t maxLen = std::string::npos;
};

inline std::string shown(const std::string &name, NameStyle how = {}) {
  return how.escape ? printable(name, how.maxLen) : name;
}

/// " (key '<key>')", the tail of a message about one metadata/config key.
inline std::string keySuffix(const std::string &key, NameStyle how = {}) {
  return " (key '" + shown(key, how) + "')";
}

/// " (tensor '<name>')", the tail of a message about one tensor.
inline std::string tensorSuffix(const std::string &name, NameStyle how = {}) {
  return " (tensor '" + shown(name, how) + "')";
}

/// For use inside a catch (...) block: `prefix` followed by what the
/// exception in flight says, on one line, or by "unknown error" when it is
/// not a std::exception.
inline std::string exceptionMessage(const std::string &prefix) {
  try {
    throw;
  } catch (const std::exception &e) {
    return oneLine(prefix + e.what());
  } catch (...) {
    return prefix + "unknown error";
  }
}

//===----------------------------------------------------------------------===//
// Little-endian loads
//===----------------------------------------------------------------------===//

/// Whether the host stores integers little-endian (as the files do).
constexpr bool kLittleEndianHost = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

inline uint16_t loadLE16(const uint8_t *p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t loadLE32(const uint8_t *p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t loadLE64(const uint8_t *p) {
  return static_cast<uint64_t>(loadLE32(p)) |
         (static_cast<uint64_t>(loadLE32(p + 4)) << 32);
}
inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline double bitsToDouble(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

//===----------------------------------------------------------------------===//
// Paths
//===----------------------------------------------------------------------===//

/// The folder part of `path` ("/" for a file in the root); `noDir` when the
/// path has no '/'.
inline std::string parentDir(const std::string &path, const char *noDir) {
  size_t p = path.find_last_of('/');
  if (p == std::string::npos) return noDir;
  if (p == 0) return "/";
  return path.substr(0, p);
}

/// Whether `p` is a folder / a regular file (following links).
inline bool isDir(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
inline bool isFile(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// `rel` relative to `dir`; `rel` itself when it is empty or absolute or
/// `dir` is empty.
inline std::string joinPath(const std::string &dir, const std::string &rel) {
  if (rel.empty() || rel[0] == '/' || dir.empty()) return rel;
  if (dir.back() == '/') return dir + rel;
  return dir + "/" + rel;
}

//===----------------------------------------------------------------------===//
// Read-only mapping of a whole file
//===----------------------------------------------------------------------===//

/// A regular file opened read-only and then mapped whole. Each step reports
/// failure as `where` + a reason in `err`; the caller checks size() between
/// open() and map(). The descriptor is closed by map() or on destruction, the
/// mapping is unmapped on destruction unless release()d.
class ReadOnlyMapping {
public:
  ReadOnlyMapping() = default;
  ReadOnlyMapping(const ReadOnlyMapping &) = delete;
  ReadOnlyMapping &operator=(const ReadOnlyMapping &) = delete;
  ~ReadOnlyMapping() {
    closeFd();
    unmap(data_, static_cast<size_t>(size_));
  }

  /// Opens `path`; fails unless it is a regular file.
  bool open(const std::string &path, const std::string &where,
            std::string &err) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      err = where + "cannot open file: " + std::strerror(errno);
      return false;
    }
    struct stat st;
    if (fstat(fd_, &st) != 0) {
      err = where + "cannot stat file: " + std::strerror(errno);
      return false;
    }
    if (!S_ISREG(st.st_mode)) {
      err = where + "not a regular file";
      return false;
    }
    size_ = static_cast<uint64_t>(st.st_size);
    return true;
  }

  /// Size in bytes of the opened file.
  uint64_t size() const { return size_; }

  /// Maps the whole opened file and closes its descriptor.
  bool map(const std::string &where, std::string &err) {
    if (size_ > std::numeric_limits<size_t>::max()) {
      err = where + "file is too large to map";
      return false;
    }
    void *m = mmap(nullptr, static_cast<size_t>(size_), PROT_READ,
                   MAP_PRIVATE, fd_, 0);
    const int mmapErrno = errno;
    closeFd();
    if (m == MAP_FAILED) {
      err = where + "cannot mmap file: " + std::strerror(mmapErrno);
      return false;
    }
    data_ = static_cast<const uint8_t *>(m);
    return true;
  }

  /// Hands the mapping (size() bytes) over; the new owner frees it with
  /// unmap().
  const uint8_t *release() {
    const uint8_t *d = data_;
    data_ = nullptr;
    return d;
  }

  /// Frees a released mapping; nothing for nullptr.
  static void unmap(const uint8_t *data, size_t size) {
    if (data) munmap(const_cast<uint8_t *>(data), size);
  }

private:
  void closeFd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  uint64_t size_ = 0;
  const uint8_t *data_ = nullptr;
};

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

/// How deep the JSON of configs, specs, tokenizers and safetensors headers
/// may nest arrays and objects (theirs nest 4 or 5 deep). Deeper documents
/// are refused before they are parsed: the code that prints and converts
/// values recurses once a level (a million levels overflowed the stack).
constexpr int kMaxJsonDepth = 64;

/// "" if [begin, end) nests arrays and objects at most `limit` deep, else
/// "JSON nests deeper than <limit> levels (byte <offset>)".
inline std::string jsonDepthError(const char *begin, const char *end,
                                  int limit = kMaxJsonDepth) {
  int depth = 0;
  bool inString = false;
  for (const char *p = begin; p < end; ++p) {
    const char c = *p;
    if (inString) {
      if (c == '\\')
        ++p; // the escaped character
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit)
        return "JSON nests deeper than " + std::to_string(limit) + " levels (byte " +
               std::to_string(p - begin) + ")";
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return "";
}

/// Parses [begin, end) as JSON (`Json` is nlohmann::json, left a parameter so
/// that this header does not need it) and reports the first duplicated object
/// key, which nlohmann would silently drop, in `dupKey`, with its depth
/// (-1: none) in `dupDepth`. Throws Json's parse_error on bad syntax.
template <class Json>
Json parseRejectingDuplicates(const char *begin, const char *end,
                              std::string &dupKey, int &dupDepth) {
  std::vector<std::set<std::string>> open;
  dupKey.clear();
  dupDepth = -1;
  typename Json::parser_callback_t cb =
      [&](int depth, typename Json::parse_event_t ev, Json &parsed) {
        switch (ev) {
        case Json::parse_event_t::object_start:
          open.emplace_back();
          break;
        case Json::parse_event_t::object_end:
          if (!open.empty()) open.pop_back();
          break;
        case Json::parse_event_t::key:
          if (!open.empty() && parsed.is_string()) {
            const std::string &k =
                parsed.template get_ref<const std::string &>();
            if (!open.back().insert(k).second && dupDepth < 0) {
              dupKey = k;
              dupDepth = depth;
            }
          }
          break;
        default:
          break;
        }
        return true;
      };
  return Json::parse(begin, end, cb);
}

} // namespace detail
} // namespace liquid

#endif // LIQUID_FRONTEND_LIB_FILEUTIL_H
