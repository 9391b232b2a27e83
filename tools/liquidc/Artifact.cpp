//===- Artifact.cpp - exe / lib artifacts -----------------------------------===//
#include "Artifact.h"

#include "liquid/Targets/Targets.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <unistd.h>

#include "liquid_lqw.h"

#include "RuntimeSources.inc"

namespace liquid {

static bool writeFile(const std::string &path, llvm::StringRef data, std::string &err) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    err = path + ": " + ec.message();
    return false;
  }
  os << data;
  os.close();
  if (os.has_error()) {
    err = path + ": write failed";
    return false;
  }
  return true;
}

/// Writes `bytes` at `data` to `fd` from offset `at` on, through
/// interruptions and short writes; "" or why it failed.
static std::string pwriteAll(int fd, uint64_t at, const void *data, size_t bytes) {
  const char *p = static_cast<const char *>(data);
  while (bytes > 0) {
    ssize_t k = ::pwrite(fd, p, bytes, static_cast<off_t>(at));
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return k < 0 ? std::strerror(errno) : "nothing written";
    p += k, at += k, bytes -= static_cast<size_t>(k);
  }
  return "";
}

bool writeAtomically(const std::string &path, llvm::StringRef data, std::string &err,
                     unsigned mode) {
  llvm::SmallString<256> tmp;
  int fd = -1;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(path + "-%%%%%%.tmp", fd, tmp,
                                                           llvm::sys::fs::OF_None, mode)) {
    err = path + ": cannot create a file beside it: " + ec.message();
    return false;
  }
  llvm::sys::RemoveFileOnSignal(tmp);
  bool ok = true;
  if (std::string why = pwriteAll(fd, 0, data.data(), data.size()); !why.empty()) {
    err = path + ": write failed: " + why;
    ok = false;
  }
  if (::close(fd) != 0 && ok) {
    err = path + ": write failed: " + std::strerror(errno);
    ok = false;
  }
  if (ok) {
    if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
      err = path + ": " + ec.message();
      ok = false;
    }
  }
  if (!ok)
    llvm::sys::fs::remove(tmp);
  llvm::sys::DontRemoveFileOnSignal(tmp);
  return ok;
}

bool commitFile(const std::string &src, const std::string &path, std::string &err) {
  auto buf = llvm::MemoryBuffer::getFile(src, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  llvm::sys::fs::file_status st;
  if (!buf || llvm::sys::fs::status(src, st)) {
    err = src + ": cannot read the linked output";
    return false;
  }
  return writeAtomically(path, (*buf)->getBuffer(), err, st.permissions() & 0777);
}

/// The .lqw header of `n` floats (runtime/liquid_lqw.h's layout, which the
/// runtime checks).
static std::string lqwHeader(uint64_t n, const std::string &hash, uint64_t tokBytes) {
  std::string buf(LQ_LQW_HEADER_BYTES, '\0');
  std::memcpy(&buf[0], "LQWEIGHT", 8);
  uint32_t version = tokBytes == 0 ? 1 : LQ_LQW_VERSION;
  std::memcpy(&buf[8], &version, 4);
  uint64_t h = std::stoull(hash, nullptr, 16);
  std::memcpy(&buf[16], &h, 8);
  std::memcpy(&buf[24], &n, 8);
  uint64_t tokOff = lq_lqw_tokenizer_offset(n);
  if (tokBytes != 0) {
    std::memcpy(&buf[32], &tokOff, 8);
    std::memcpy(&buf[40], &tokBytes, 8);
  }
  return buf;
}

bool writeWeightsFile(const std::string &path, llvm::ArrayRef<float> w, const std::string &hash,
                      llvm::ArrayRef<uint8_t> tokenizer, std::string &err) {
  std::string buf = lqwHeader(w.size(), hash, tokenizer.size());
  uint64_t tokOff = lq_lqw_tokenizer_offset(w.size());
  buf.append(reinterpret_cast<const char *>(w.data()), w.size() * sizeof(float));
  if (!tokenizer.empty()) {
    buf.resize(tokOff, '\0');
    buf.append(reinterpret_cast<const char *>(tokenizer.data()), tokenizer.size());
  }
  uint64_t sum = lq_lqw_sum(reinterpret_cast<const unsigned char *>(buf.data()) + LQ_LQW_HEADER_BYTES,
                            buf.size() - LQ_LQW_HEADER_BYTES);
  std::memcpy(&buf[48], &sum, 8);
  return writeAtomically(path, buf, err);
}

/// The temporary .lqw files not yet committed: removed when liquidc exits
/// after an error (fail() calls exit, which runs no destructors) or is killed.
static std::set<std::string> &pendingWeights() {
  static auto *files = new std::set<std::string>;
  return *files;
}

static void removePendingWeights() {
  for (const std::string &f : pendingWeights())
    ::unlink(f.c_str());
}

LqwStream::~LqwStream() {
  if (fd >= 0)
    ::close(fd);
  if (!tmp.empty()) {
    llvm::sys::fs::remove(tmp);
    llvm::sys::DontRemoveFileOnSignal(tmp);
    pendingWeights().erase(tmp);
  }
}

bool LqwStream::open(const std::string &path, std::string &err) {
  static const bool cleanup = std::atexit(removePendingWeights) == 0;
  (void)cleanup;
  llvm::SmallString<256> model(path + "-%%%%%%.tmp");
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, model)) {
    err = path + ": cannot create a temporary file beside it: " + ec.message();
    return false;
  }
  tmp = std::string(model);
  pendingWeights().insert(tmp);
  llvm::sys::RemoveFileOnSignal(tmp);
  return true;
}

bool LqwStream::put(uint64_t at, const void *data, size_t bytes, std::string &err) {
  std::string why = pwriteAll(fd, at, data, bytes);
  if (!why.empty())
    err = tmp + ": " + why;
  return why.empty();
}

bool LqwStream::write(int64_t offset, const float *data, size_t n, std::string &err) {
  return put(LQ_LQW_HEADER_BYTES + 4 * static_cast<uint64_t>(offset), data, 4 * n, err);
}

bool LqwStream::checksum(uint64_t end, uint64_t &sum, std::string &err) {
  constexpr uint64_t kPiece = 32u << 20; // a multiple of the sum's 32-byte blocks
  std::vector<unsigned char> buf(kPiece);
  lq_lqw_sum_state s;
  lq_lqw_sum_begin(&s);
  const uint64_t n = end - LQ_LQW_HEADER_BYTES;
  for (uint64_t at = 0; at < n;) {
    uint64_t want = std::min<uint64_t>(kPiece, n - at);
    ssize_t k = ::pread(fd, buf.data(), want, static_cast<off_t>(LQ_LQW_HEADER_BYTES + at));
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      err = tmp + ": cannot read back the weights: " + (k < 0 ? std::strerror(errno) : "end of file");
      return false;
    }
    uint64_t got = static_cast<uint64_t>(k);
    if (got % 32 && at + got < n) { // keep whole blocks; read the rest again
      got -= got % 32;
      if (got == 0)
        continue;
    }
    lq_lqw_sum_add(&s, buf.data(), got / 32);
    if (at + got == n)
      sum = lq_lqw_sum_end(&s, buf.data() + got / 32 * 32, n);
    at += got;
  }
  if (n == 0)
    sum = lq_lqw_sum_end(&s, buf.data(), 0);
  return true;
}

bool LqwStream::commit(const std::string &path, uint64_t floats, const std::string &hash,
                       llvm::ArrayRef<uint8_t> tokenizer, std::string &err) {
  if (!committed.empty()) {
    // a second copy (--weights-out and the program's OUT.lqw)
    return commitFile(committed, path, err);
  }
  // the slots' padding and the gap before the tokenizer are holes: zeros
  uint64_t end = tokenizer.empty() ? LQ_LQW_HEADER_BYTES + 4 * floats
                                   : lq_lqw_tokenizer_offset(floats) + tokenizer.size();
  std::string header = lqwHeader(floats, hash, tokenizer.size());
  if (!tokenizer.empty() &&
      !put(lq_lqw_tokenizer_offset(floats), tokenizer.data(), tokenizer.size(), err))
    return false;
  if (::ftruncate(fd, static_cast<off_t>(end)) != 0) {
    err = tmp + ": " + std::strerror(errno);
    return false;
  }
  // the checksum of everything after the header, read back in pieces (the
  // file may be larger than the memory liquidc keeps)
  uint64_t sum = 0;
  if (!checksum(end, sum, err))
    return false;
  std::memcpy(&header[48], &sum, 8);
  if (!put(0, header.data(), header.size(), err))
    return false;
  if (::close(fd) != 0) {
    fd = -1;
    err = tmp + ": " + std::strerror(errno);
    return false;
  }
  fd = -1;
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    err = path + ": " + ec.message();
    return false;
  }
  llvm::sys::DontRemoveFileOnSignal(tmp);
  pendingWeights().erase(tmp);
  tmp.clear();
  committed = path;
  return true;
}

static bool run(const std::vector<std::string> &argv, const std::string &what, std::string &err) {
  auto prog = llvm::sys::findProgramByName(argv[0]);
  if (!prog) {
    err = "cannot find '" + argv[0] + "' (needed to " + what + ")";
    return false;
  }
  std::vector<llvm::StringRef> args(argv.begin(), argv.end());
  std::string msg;
  int rc = llvm::sys::ExecuteAndWait(*prog, args, std::nullopt, {}, 0, 0, &msg);
  if (rc != 0) {
    err = "'" + llvm::join(argv, " ") + "' failed" + (msg.empty() ? "" : ": " + msg) +
          " (exit " + std::to_string(rc) + ")";
    return false;
  }
  return true;
}

static std::vector<std::string> splitFlags(const std::string &s) {
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(s).split(parts, ' ', -1, false);
  return std::vector<std::string>(parts.begin(), parts.end());
}

/// The weights' and names' part every model kind shares, then the kind's own.
template <typename Info>
static void addCommon(ModelRuntime &rt, const Info &k, bool embed) {
  std::string own = rt.config;
  rt.config = "/* generated by liquidc for model " + k.modelName + " */\n" +
              "#define LQ_PREFIX " + k.prefix + "\n" + "#define LQ_MODEL_NAME \"" +
              k.modelName + "\"\n" + "#define LQ_ARENA_FLOATS " +
              std::to_string(k.arenaFloats) + "\n" + "#define LQ_WEIGHTS_FLOATS " +
              std::to_string(k.weightsFloats) + "\n" + "#define LQ_WEIGHTS_HASH " +
              k.weightsHash + "ULL\n" + own;
  rt.headerVars.insert(rt.headerVars.begin(),
                       {{"P", k.prefix},
                        {"MODEL_NAME", "\"" + k.modelName + "\""},
                        {"WEIGHTS_FLOATS", std::to_string(k.weightsFloats)},
                        {"WEIGHTS_HASH", k.weightsHash + "ULL"},
                        {"EMBEDDED_WEIGHTS", embed ? "1" : "0"}});
}

ModelRuntime cellRuntime(const KernelInfo &k, bool embed) {
  ModelRuntime rt;
  rt.prefix = k.prefix;
  llvm::raw_string_ostream os(rt.config);
  int64_t states = k.stateSizes.size();
  os << "#define LQ_INPUT_SIZE " << k.inputSize << "\n"
     << "#define LQ_OUTPUT_SIZE " << k.outputSize << "\n"
     << "#define LQ_NUM_STATES " << states << "\n"
     << "#define LQ_STATE0_SIZE " << k.stateSizes[0] << "\n"
     << "#define LQ_STATE1_SIZE " << (states > 1 ? k.stateSizes[1] : 0) << "\n"
     << "#define LQ_STATE0_OFFSET " << k.stateOffsets[0] << "\n"
     << "#define LQ_STATE1_OFFSET " << (states > 1 ? k.stateOffsets[1] : 0) << "\n"
     << "#define LQ_INPUT_OFFSET " << k.inputOffset << "\n"
     << "#define LQ_OUTPUT_OFFSET " << k.outputOffset << "\n";
  rt.modelSources = {"liquid_model.c"};
  rt.mainSource = "liquid_main.c";
  rt.cflags = {"-pthread"}; // batch contexts' worker threads
  rt.linkFlags = {"-pthread"};
  rt.headerTemplate = "liquid_model.h.in";
  rt.headerVars = {
      {"INPUT_SIZE", std::to_string(k.inputSize)},
      {"OUTPUT_SIZE", std::to_string(k.outputSize)},
      {"NUM_STATES", std::to_string(k.stateSizes.size())},
      {"STATE_SIZE", std::to_string(k.stateSizes[0])},
      {"CELL_STATE_SIZE", std::to_string(k.stateSizes.size() > 1 ? k.stateSizes[1] : 0)},
  };
  addCommon(rt, k, embed);
  return rt;
}

ModelRuntime lmRuntime(const LMKernelInfo &k, bool embed) {
  ModelRuntime rt;
  rt.prefix = k.prefix;
  llvm::raw_string_ostream os(rt.config);
  os << "#define LQ_MAX_ROWS " << k.maxRows << "\n"
     << "#define LQ_MAX_CONTEXT " << k.maxContext << "\n"
     << "#define LQ_VOCAB " << k.vocab << "\n"
     << "#define LQ_BOS " << k.bos << "\n"
     << "#define LQ_EOS " << k.eos << "\n"
     << "#define LQ_DECODE_BYTES " << k.decodeBytes << "LL\n"
     << "#define LQ_FLOPS_PER_TOKEN " << k.flopsPerToken << "LL\n"
     << "#define LQ_HEAD_FLOPS " << k.headFlops << "LL\n";
  os << "#define LQ_NUM_CONV_CACHES " << k.convCaches.size() << "\n#define LQ_CONV_CACHES";
  for (auto &c : k.convCaches)
    os << " {" << c.first << ", " << c.second << "},";
  os << "\n#define LQ_NUM_KV_CACHES " << k.kvCaches.size() << "\n#define LQ_KV_CACHES";
  for (auto &c : k.kvCaches)
    os << " {" << c.first << ", " << c.second << "},";
  os << "\n";
  rt.modelSources = {"liquid_lm.c", "liquid_lm_text.c", "liquid_lm_state.c", "liquid_tokenizer.c",
                     "liquid_tokenizer_out.c"};
  rt.mainSource = "liquid_lm_main.c";
  rt.headerTemplate = "liquid_lm.h.in";
  rt.headerVars = {
      {"MAX_ROWS", std::to_string(k.maxRows)}, {"MAX_CONTEXT", std::to_string(k.maxContext)},
      {"VOCAB", std::to_string(k.vocab)},      {"BOS", std::to_string(k.bos)},
      {"EOS", std::to_string(k.eos)},
  };
  rt.cflags = {"-pthread"};
  rt.linkFlags = {"-pthread"};
  addCommon(rt, k, embed);
  return rt;
}

ModelRuntime mcuCellRuntime(const KernelInfo &k, bool exe, const TargetInfo &t) {
  ModelRuntime rt = cellRuntime(k, /*embed=*/true);
  rt.pic = false;
  if (exe) {
    rt.cflags = {"-DLQ_NO_THREADS", "-DLQ_BARE_METAL"};
    rt.linkFlags = t.exeFlags;
    return rt;
  }
  rt.modelSources = {"liquid_mcu.c"};
  rt.headerTemplate = "liquid_mcu.h.in";
  rt.cflags = {"-ffreestanding", "-fno-tree-loop-distribute-patterns"};
  rt.headerVars.push_back({"ARENA_FLOATS", std::to_string(k.arenaFloats)});
  rt.headerVars.push_back({"TARGET", t.name});
  return rt;
}

/// The template `name` of the runtime files with every @NAME@ replaced.
static std::string fillTemplate(const std::string &name,
                                const std::vector<std::pair<std::string, std::string>> &vars) {
  std::string text;
  for (const auto &f : kRuntimeFiles)
    if (name == f.name)
      text = f.text;
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t end = text[i] == '@' ? text.find('@', i + 1) : std::string::npos;
    if (end != std::string::npos) {
      std::string key = text.substr(i + 1, end - i - 1);
      auto it = llvm::find_if(vars, [&](const auto &v) { return v.first == key; });
      if (it != vars.end()) {
        out += it->second;
        i = end + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

namespace {

/// One artifact build in the work folder: the runtime sources written there,
/// compiled with the target's C compiler, linked there and copied to OUT
/// (writeAtomically) only when everything succeeded.
class RuntimeBuild {
public:
  RuntimeBuild(const ArtifactRequest &req, std::string &err)
      : req(req), err(err), cc(req.cc.empty() ? req.target->cc : req.cc),
        extra(splitFlags(req.extraCFlags)), tmpOut(path("artifact.out")) {}

  std::string path(const std::string &name) const {
    llvm::SmallString<256> p(req.workDir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  }
  bool writeSources() {
    for (const auto &f : kRuntimeFiles)
      if (!writeFile(path(f.name), f.text, err))
        return false;
    return true;
  }
  /// Compiles the runtime source `src` with the model's configuration header.
  bool compile(const std::string &src, const std::string &config, const std::string &obj,
               std::vector<std::string> flags) {
    std::vector<std::string> argv = {cc};
    argv.insert(argv.end(), req.target->ccFlags.begin(), req.target->ccFlags.end());
    argv.insert(argv.end(), {"-std=c11", "-O2"});
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"-include", config, "-c", path(src), "-o", obj});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv, "compile the runtime", err);
  }
  /// Compiles the request's extra C sources; appends their objects to `objs`.
  bool compileExtra(std::vector<std::string> &objs) {
    // the generated Halide entry points include liquid_halide_prelude.h and
    // liquid_halide_shims.h
    if (!req.extraSources.empty() && !writeSources())
      return false;
    for (const std::string &src : req.extraSources) {
      std::string obj = path(llvm::sys::path::stem(src).str() + ".extra.o");
      std::vector<std::string> argv = {cc};
      argv.insert(argv.end(), req.target->ccFlags.begin(), req.target->ccFlags.end());
      argv.insert(argv.end(), {"-std=c11", "-O2", "-fPIC"});
      argv.insert(argv.end(), {"-I", req.workDir});
      for (const std::string &inc : req.extraIncludes)
        argv.insert(argv.end(), {"-I", inc});
      argv.insert(argv.end(), {"-c", src, "-o", obj});
      if (!run(argv, "compile " + src, err))
        return false;
      objs.push_back(obj);
    }
    objs.insert(objs.end(), req.extraObjects.begin(), req.extraObjects.end());
    return true;
  }
  /// Links `objs` into the work folder's artifact.out.
  bool link(std::vector<std::string> objs, std::vector<std::string> flags) {
    std::vector<std::string> argv = {cc};
    argv.insert(argv.end(), req.target->ccFlags.begin(), req.target->ccFlags.end());
    argv.insert(argv.end(), objs.begin(), objs.end());
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"-o", tmpOut});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("-lm");
    return run(argv, "link the executable", err);
  }
  /// Puts the work folder's artifact.out at OUT.
  bool finish() { return commitFile(tmpOut, req.output, err); }

  const ArtifactRequest &req;
  std::string &err;
  std::string cc;
  std::vector<std::string> extra;
  std::string tmpOut;
};

} // namespace

bool linkRelocatable(const ArtifactRequest &req, std::string &err) {
  RuntimeBuild build(req, err);
  std::vector<std::string> objs = {req.kernelObject};
  if (!build.compileExtra(objs))
    return false;
  std::vector<std::string> argv = {req.cc.empty() ? req.target->cc : req.cc, "-r", "-nostdlib"};
  if (!req.target->relocatableLinker.empty())
    argv = {req.target->relocatableLinker, "-r"};
  argv.insert(argv.end(), objs.begin(), objs.end());
  argv.insert(argv.end(), {"-o", build.tmpOut});
  return run(argv, "combine the objects", err) && build.finish();
}

bool buildArtifact(const ModelRuntime &rt, const ArtifactRequest &req, std::string &err) {
  RuntimeBuild build(req, err);
  if (!build.writeSources())
    return false;
  std::string config = rt.config;
  config += "#define LQ_COMPILER_VERSION \"liquidc " LIQUIDC_VERSION "\"\n";
  config += std::string("#define LQ_EMBEDDED_WEIGHTS ") + (req.embedWeights ? "1" : "0") + "\n";
  if (req.embedWeights) {
    std::string blob = build.path(rt.prefix + ".weights.bin");
    llvm::StringRef data(reinterpret_cast<const char *>(req.weights->data()),
                         req.weights->size() * sizeof(float));
    if (!writeFile(blob, data, err))
      return false;
    config += "#define LQ_WEIGHTS_PATH \"" + blob + "\"\n";
    if (!req.tokenizer.empty()) {
      std::string tok = build.path(rt.prefix + ".tokenizer.bin");
      llvm::StringRef bytes(reinterpret_cast<const char *>(req.tokenizer.data()),
                            req.tokenizer.size());
      if (!writeFile(tok, bytes, err))
        return false;
      config += "#define LQ_TOKENIZER_PATH \"" + tok + "\"\n";
    }
  }
  config += std::string("#define LQ_TOKENIZER ") + (req.tokenizer.empty() ? "0" : "1") + "\n";
  std::string configPath = build.path(rt.prefix + "_config.h");
  if (!writeFile(configPath, config, err))
    return false;
  std::vector<std::string> cflags = rt.cflags;
  if (rt.pic)
    cflags.push_back("-fPIC");
  std::vector<std::string> objs;
  for (const std::string &src : rt.modelSources) {
    std::string obj = build.path(rt.prefix + "_" + llvm::sys::path::stem(src).str() + ".o");
    if (!build.compile(src, configPath, obj, cflags))
      return false;
    objs.push_back(obj);
  }
  objs.push_back(req.kernelObject);
  if (!build.compileExtra(objs))
    return false;
  if (req.kind == ArtifactRequest::Exe) {
    std::string mainObj = build.path(rt.prefix + "_main.o");
    objs.insert(objs.begin(), mainObj);
    std::vector<std::string> flags = rt.linkFlags;
    if (!req.extraSources.empty())
      flags.insert(flags.end(), {"-pthread", "-ldl"}); // the Halide runtime
    return build.compile(rt.mainSource, configPath, mainObj, cflags) && build.link(objs, flags) &&
           build.finish();
  }
  std::string ar = req.target->ar;
  if (!llvm::sys::findProgramByName(ar))
    ar = "ar";
  std::vector<std::string> argv = {ar, "rcs", build.tmpOut};
  argv.insert(argv.end(), objs.begin(), objs.end());
  if (!run(argv, "archive the library", err))
    return false;
  llvm::SmallString<256> header(llvm::sys::path::parent_path(req.output));
  llvm::sys::path::append(header, rt.prefix + ".h");
  return writeAtomically(std::string(header), fillTemplate(rt.headerTemplate, rt.headerVars),
                         err) &&
         build.finish();
}

} // namespace liquid
