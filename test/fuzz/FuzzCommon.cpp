//===- FuzzCommon.cpp - scratch files and input splitting for the harnesses ===//
#include "FuzzCommon.h"

#include <algorithm>

#include <dirent.h>
#include <sys/stat.h>

namespace liquid_fuzz {
namespace {

std::string *gScratch = nullptr;

void removeScratch() {
  if (!gScratch) return;
  if (DIR *d = opendir(gScratch->c_str())) {
    while (dirent *e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      unlink((*gScratch + "/" + e->d_name).c_str());
    }
    closedir(d);
  }
  rmdir(gScratch->c_str());
}

} // namespace

const std::string &scratchDir() {
  if (!gScratch) {
    struct stat st;
    std::string base = (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) ? "/dev/shm" : "/tmp";
    if (const char *t = std::getenv("LIQUID_FUZZ_TMP")) base = t;
    std::string tmpl = base + "/liquid-fuzz-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      std::perror("liquid-fuzz: mkdtemp");
      std::abort();
    }
    gScratch = new std::string(buf.data());
    std::atexit(removeScratch);
  }
  return *gScratch;
}

std::string writeScratch(const char *name, const uint8_t *data, size_t n, bool removeIfEmpty) {
  std::string path = scratchDir() + "/" + name;
  if (n == 0 && removeIfEmpty) {
    unlink(path.c_str());
    return path;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();
  }
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd, data + done, n - done);
    if (w <= 0) {
      std::perror(path.c_str());
      std::abort();
    }
    done += static_cast<size_t>(w);
  }
  ::close(fd);
  return path;
}

std::vector<std::string> splitParts(const uint8_t *data, size_t size, size_t n) {
  std::string all(reinterpret_cast<const char *>(data), size);
  std::vector<std::string> parts;
  const size_t sepLen = std::strlen(kPartSeparator);
  size_t pos = 0;
  while (parts.size() + 1 < n) {
    size_t hit = all.find(kPartSeparator, pos);
    if (hit == std::string::npos) break;
    parts.push_back(all.substr(pos, hit - pos));
    pos = hit + sepLen;
  }
  parts.push_back(all.substr(std::min(pos, all.size())));
  parts.resize(n);
  return parts;
}

void checkError(const char *what, const std::string &err) {
  if (err.empty()) {
    std::fprintf(stderr, "liquid-fuzz: %s failed with an empty message\n", what);
    std::abort();
  }
  if (err.find('\n') != std::string::npos || err.find('\r') != std::string::npos) {
    std::fprintf(stderr, "liquid-fuzz: %s gave a message of more than one line: %s\n", what,
                 err.c_str());
    std::abort();
  }
}

} // namespace liquid_fuzz
