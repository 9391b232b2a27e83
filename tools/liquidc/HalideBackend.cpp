//===- HalideBackend.cpp - liquidc's side of the Halide kernels ------------===//
#include "HalideBackend.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

namespace liquid {

using json = nlohmann::json;

bool runHalideGen(const std::string &halideTarget, int64_t lanes, int64_t tile, int64_t rowsEstimate,
                  const std::vector<HalideKernel> &kernels, const std::string &outDir,
                  const std::string &dumpDir, HalideBuild &out, std::string &err,
                  bool gpuEntryPoints) {
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, (void *)&runHalideGen);
  llvm::SmallString<256> gen(llvm::sys::path::parent_path(self));
  llvm::sys::path::append(gen, "liquid-halide-gen");
  if (!llvm::sys::fs::can_execute(gen)) {
    err = std::string(gen) + ": the Halide kernel generator is missing (build liquid-halide-gen)";
    return false;
  }
  json req;
  req["target"] = halideTarget;
  req["out_dir"] = outDir;
  req["dump_dir"] = dumpDir;
  if (gpuEntryPoints)
    req["entry_points"] = "gpu";
  req["kernels"] = json::array();
  for (const HalideKernel &k : kernels) {
    req["kernels"].push_back({{"op", k.op},
                              {"mode", k.mode},
                              {"name", k.name},
                              {"weight", k.weight},
                              {"acts", k.acts},
                              {"k", k.k},
                              {"n", k.n},
                              {"tile", tile},
                              {"lanes", lanes},
                              {"rows_estimate", rowsEstimate},
                              {"schedule", k.schedule}});
    if (k.op == "attention")
      req["kernels"].back().update({{"heads", k.heads},
                                    {"kv_heads", k.kvHeads},
                                    {"head_dim", k.headDim},
                                    {"context", k.context},
                                    {"eps", k.eps}});
  }
  std::string reqPath = outDir + "/halide-request.json", replyPath = outDir + "/halide-reply.json",
              logPath = outDir + "/halide-gen.log";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(reqPath, ec);
    if (ec) {
      err = reqPath + ": " + ec.message();
      return false;
    }
    os << req.dump(1) << "\n";
  }
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(replyPath),
                                                llvm::StringRef(logPath)};
  std::string msg;
  int rc = llvm::sys::ExecuteAndWait(gen, {gen.str(), reqPath}, std::nullopt, redirects, 0, 0, &msg);
  if (rc != 0) {
    auto log = llvm::MemoryBuffer::getFile(logPath);
    std::string text = log ? (*log)->getBuffer().trim().str() : msg;
    if (auto nl = text.find('\n'); nl != std::string::npos)
      text = text.substr(0, nl);
    err = "liquid-halide-gen failed (" + std::to_string(rc) + "): " + text;
    return false;
  }
  auto reply = llvm::MemoryBuffer::getFile(replyPath);
  json j = reply ? json::parse((*reply)->getBuffer().begin(), (*reply)->getBuffer().end(), nullptr,
                               false)
                 : json();
  if (!j.is_object() || !j.contains("objects")) {
    err = "liquid-halide-gen gave no usable reply";
    return false;
  }
  out.objects = j["objects"].get<std::vector<std::string>>();
  out.sources = j["sources"].get<std::vector<std::string>>();
  out.includeDir = j["include_dir"].get<std::string>();
  if (j.contains("ptx"))
    out.ptx = j["ptx"].get<std::vector<std::string>>();
  return true;
}

bool mergePtx(const std::vector<std::string> &files, std::string &out, std::string &err) {
  out.clear();
  for (const std::string &f : files) {
    auto buf = llvm::MemoryBuffer::getFile(f);
    if (!buf) {
      err = f + ": " + buf.getError().message();
      return false;
    }
    llvm::StringRef body = (*buf)->getBuffer();
    size_t hdr = body.find(".address_size");
    hdr = hdr == llvm::StringRef::npos ? 0 : body.find('\n', hdr) + 1;
    out += (out.empty() ? body.substr(0, hdr).str() : "") + "\n// from " +
           llvm::sys::path::filename(f).str() + "\n" + body.substr(hdr).str();
  }
  return true;
}

} // namespace liquid
