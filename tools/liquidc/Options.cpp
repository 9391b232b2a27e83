//===- Options.cpp - liquidc's command line ---------------------------------===//
#include "Options.h"

#include "liquid/Frontend/Printable.h"
#include "liquid/Passes/HalideKernels.h"
#include "liquid/Targets/Targets.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

namespace cl = llvm::cl;
using namespace ::liquid;

namespace {

cl::OptionCategory cat("liquidc options");
cl::OptionCategory mlirCat("MLIR options (pass manager, timing, IR printing)");

cl::opt<std::string> inputPath(cl::Positional,
                               cl::desc("<model.json | HF folder | model.gguf | model.mlir>"),
                               cl::cat(cat));
cl::opt<std::string> outputPath("o", cl::desc("Output file"), cl::value_desc("path"), cl::cat(cat));
cl::opt<Emit> emitKind(
    "emit", cl::desc("What to produce (default: exe)"), cl::init(Emit::Exe),
    cl::values(clEnumValN(Emit::Exe, "exe", "standalone executable"),
               clEnumValN(Emit::Lib, "lib", "static library + C header"),
               clEnumValN(Emit::Obj, "obj", "object file with the kernels"),
               clEnumValN(Emit::MLIR, "mlir", "liquid dialect IR after liquid-optimize"),
               clEnumValN(Emit::Vector, "vector",
                          "scf/vector/memref IR of the kernels after liquid-to-vector"),
               clEnumValN(Emit::LLVMDialect, "llvm-dialect",
                          "LLVM dialect IR after liquid-vector-to-llvm"),
               clEnumValN(Emit::LLVM, "llvm", "optimized LLVM IR of the kernels"),
               clEnumValN(Emit::Asm, "asm", "assembly of the kernels")),
    cl::cat(cat));
cl::opt<std::string> targetName("target", cl::desc("Target (see --list-targets)"), cl::init("host"),
                                cl::cat(cat));
cl::opt<std::string> targetCpu("target-cpu", cl::desc("Override the target's CPU"), cl::cat(cat));
cl::opt<std::string> targetFeatures("target-features",
                                    cl::desc("Override the target's LLVM features"), cl::cat(cat));
cl::opt<bool> listTargets("list-targets", cl::desc("List the known targets and exit"),
                          cl::cat(cat));
cl::opt<bool> printLinkFlags(
    "print-link-flags",
    cl::desc("Print the C compiler and the flags (before your sources) that build a program "
             "with the --target's --emit=lib archive, on one line, and exit: a microcontroller's "
             "C library, semihosting and board memory map; hosted targets take -lm -ldl "
             "-lpthread after the archive"),
    cl::cat(cat));
cl::opt<std::string> dumpStages("dump-stages",
                                cl::desc("Write the IR after each pipeline to DIR"),
                                cl::value_desc("DIR"), cl::cat(cat));
cl::opt<bool> printPlan("print-memory-plan",
                        cl::desc("Print the static memory plan (bytes per buffer, total)"),
                        cl::cat(cat));
cl::opt<std::string> modelName("name", cl::desc("C symbol prefix (default: model name)"),
                               cl::cat(cat));
cl::opt<std::string> weightsOverride(
    "weights", cl::desc("Checkpoint .safetensors (default: the one the spec names or beside it)"),
    cl::cat(cat));
cl::opt<bool> embedWeights("embed-weights",
                           cl::desc("Embed the weights in exe/lib (default: on for cells, off for "
                                    "language models); when off, OUT.lqw is written and loaded "
                                    "at run time"),
                           cl::init(true), cl::cat(cat));
cl::opt<std::string> weightsOut("weights-out",
                                cl::desc("Also write the packed weights (.lqw) here"),
                                cl::cat(cat));
cl::opt<bool> strict("strict",
                     cl::desc("A checkpoint tensor with NaN or infinite values is an error "
                              "(default: a warning naming it)"),
                     cl::init(false), cl::cat(cat));
cl::opt<bool> blockSparse("block-sparse",
                          cl::desc("Pack masked (wired) weights block-sparse where at least 25% "
                                   "of their vector-wide blocks are zero (default: on)"),
                          cl::init(true), cl::cat(cat));
cl::opt<int> vectorWidth("vector-width",
                         cl::desc("Floats per vector in the kernels: 8, 16, or 0 = from the "
                                  "target (16 with AVX-512F, else 8)"),
                         cl::init(0), cl::cat(cat));
/// --max-context and --max-rows: at most 256 Ki tokens of context (twice
/// LFM2's trained 128 Ki) and 4,096 rows a call.
constexpr int kMaxContext = 262144, kMaxRows = 4096;
cl::opt<int> maxContext("max-context",
                        cl::desc("Language models: KV cache length in tokens, 1..262144 "
                                 "(default 4096)"),
                        cl::init(4096), cl::cat(cat));
cl::opt<int> maxRows("max-rows",
                     cl::desc("Language models: tokens per forward call, the prefill chunk, "
                              "1..4096 (default 64)"),
                     cl::init(64), cl::cat(cat));
cl::opt<std::string> weightType(
    "weight-type",
    cl::desc("Language models: element type of the products' weights: auto (as the checkpoint "
             "stores them: F16 stays F16, Q8_0/Q5_0 int8, Q4_0/Q4_1/Q4_K/Q5_1/Q5_K/Q6_K their "
             "integer blocks), f32, f16, q8, q4 (widening or quantizing every product)"),
    cl::init("auto"), cl::cat(cat));
cl::opt<std::string> chatTemplate(
    "chat-template",
    cl::desc("Language models: the chat format the program renders: auto (recognise the "
             "checkpoint's template; an unknown one is an error), chatml, none"),
    cl::init("auto"), cl::cat(cat));
cl::opt<std::string> quantize(
    "quantize",
    cl::desc("none; q8: language models get int8 weights with a scale per block of 32 inputs "
             "(GGUF Q8_0's layout; the same as --weight-type=q8), cells int8 weight matrices "
             "with a scale per output, computed in float; q4 (language models): 4-bit weights, "
             "Q4_0's meaning (the same as --weight-type=q4)"),
    cl::init("none"), cl::cat(cat));
cl::opt<std::string> activations(
    "activations",
    cl::desc("Language models: f32 (default), or q8: int8 x int8 products, each row's inputs "
             "quantized per block of 32 as llama.cpp's Q8_0 kernels do, for the products with "
             "integer-block weights (q8, q4, the GGUF K-quants); implied by the hexagon target"),
    cl::init("f32"), cl::cat(cat));
cl::opt<std::string> backendName(
    "backend",
    cl::desc("Kernel code generator for the language models' products: llvm (default) or halide "
             "(liquid-halide-gen, Halide 14)"),
    cl::init("llvm"), cl::cat(cat));
cl::opt<std::string> halideScheduleFile(
    "halide-schedule",
    cl::desc("JSON file choosing per kernel: llvm, hand, mullapudi2016, adams2019 or li2018 "
             "({\"default\": ..., \"kernels\": {name: ...}}); implies --backend=halide"),
    cl::cat(cat));
cl::opt<std::string> dumpKernels(
    "dump-kernels",
    cl::desc("Folder: the list of products and, per Halide kernel, its statement, assembly, "
             "schedule and a cost line"),
    cl::cat(cat));
cl::opt<bool> testGpuEntryPoints(
    "test-gpu-entry-points", cl::Hidden,
    cl::desc("Testing: the CUDA targets' kernel entry points (one launch for all column tiles, "
             "weights kept) in front of CPU Halide kernels, to check them without a GPU"),
    cl::cat(cat));
cl::opt<bool> halideProfile(
    "halide-profile",
    cl::desc("Halide kernels measure themselves (Halide's sampling profiler): the program prints "
             "each kernel's time, calls and per-stage split when it exits"),
    cl::cat(cat));
cl::opt<std::string> ccOverride("cc", cl::desc("C compiler for the runtime and linking"),
                                cl::cat(cat));

void printTargets() {
  llvm::outs() << llvm::format("%-20s %-4s %-20s %-14s %-6s %-10s %s\n", "target", "kind",
                               "triple", "cpu", "floats", "L1d/L2", "runs here");
  for (const TargetInfo &t : allTargets()) {
    MachineOptions m = resolveMachine({t.triple, t.cpu, t.features});
    std::string why, lanes = "-", caches = "-";
    bool runs = runsHere(t, why);
    if (t.kind != "npu")
      lanes = std::to_string(t.vectorFloats ? t.vectorFloats : preferredVectorWidth(m));
    if (t.l1dKiB)
      caches = std::to_string(t.l1dKiB) + "K/" + std::to_string(t.l2KiB) + "K";
    std::string status = runs ? (t.runner.empty() ? "yes" : "yes, under " + t.runner.front())
                              : "compile-only (" + why + ")";
    if (t.kind == "gpu") // the device; the host part is this machine's
      m.triple = t.deviceTriple, m.cpu = t.deviceArch;
    llvm::outs() << llvm::format("%-20s %-4s %-20s %-14s %-6s %-10s %s\n", t.name.c_str(),
                                 t.kind.c_str(), m.triple.c_str(), m.cpu.c_str(), lanes.c_str(),
                                 caches.c_str(), status.c_str());
    llvm::outs() << "    " << t.description << "; features '" << m.features.substr(0, 60)
                 << (m.features.size() > 60 ? "...'" : "'") << "; Halide target "
                 << t.halideTarget << "\n";
  }
}

void makeFolder(const std::string &dir) {
  if (!dir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dir))
      fail(dir + ": " + ec.message());
}

InputKind classify(llvm::StringRef in) {
  if (in.ends_with(".mlir"))
    return InputKind::IR;
  if (in.ends_with(".gguf") || llvm::sys::fs::is_directory(in) ||
      llvm::sys::path::filename(in) == "config.json")
    return InputKind::LanguageModel;
  return InputKind::Cell;
}

/// The target's limits on the backend and activations (NPU, GPU).
void applyTargetKind(DriverOptions &o) {
  const TargetInfo &t = *o.target;
  if (t.kind == "npu") {
    // Hexagon: int8 products through Halide's HVX backend, the rest scalar.
    if (o.emit == Emit::Exe || o.emit == Emit::Lib)
      fail("target '" + t.name + "' produces objects only (--emit=obj, asm, llvm or mlir): "
           "linking and running them needs Qualcomm's Hexagon SDK");
    if (activations.getNumOccurrences() && activations != "q8")
      fail("target '" + t.name + "' needs --activations=q8 (int8 x int8 products)");
    activations = "q8";
    backendName = "halide";
    o.compiler.int8Only = true;
  }
  if (t.kind == "gpu") {
    // CUDA: the products run on the GPU as Halide kernels, the rest on the CPU.
    if (activations == "q8")
      fail("--activations=q8 is for CPU and NPU targets; '" + t.name + "' takes float inputs");
    backendName = "halide";
    o.compiler.gpu = true;
  }
}

/// Language-model options, and what cells cannot take.
void checkModelKind(DriverOptions &o) {
  const TargetInfo &t = *o.target;
  bool lm = o.inputKind == InputKind::LanguageModel;
  if (weightType != "auto" && weightType != "f32" && weightType != "f16" && weightType != "q8" &&
      weightType != "q4")
    fail("--weight-type must be auto, f32, f16, q8 or q4, not '" + weightType + "'");
  if (quantize != "none" && quantize != "q8" && quantize != "q4")
    fail("--quantize must be none, q8 or q4, not '" + quantize + "'");
  if (quantize != "none" && weightType != "auto" && weightType != quantize)
    fail("--quantize=" + quantize + " contradicts --weight-type=" + weightType);
  o.weightType = quantize != "none" ? std::string(quantize) : std::string(weightType);

  if (!lm && t.kind == "gpu")
    fail("target '" + t.name + "' compiles language models; " + o.input +
         " is a cell, too small for a GPU (a step takes about as long as one kernel launch): "
         "compile it for a CPU target");
  if (lm && t.kind == "mcu")
    fail("target '" + t.name + "' compiles cells (CfC, LTC, wired); " + o.input +
         " is a language model: it needs megabytes of memory and an OS, use a CPU target");
  if (!lm && t.kind == "npu")
    fail("target '" + t.name + "' compiles language models with int8 weights; " + o.input +
         " is not one (cells have no Hexagon kernels yet)");
  if (!lm && weightType != "auto")
    fail("--weight-type applies to language models (HF folders and GGUF files), not to " +
         o.input + " (cells take --quantize=q8)");
  if (!lm && quantize == "q4")
    fail("cells take --quantize=q8 (int8 weights with a scale per output), not q4: " + o.input);
  if (!lm && quantize == "q8") {
    // int8 matrices, a float scale per output (liquid-quantize-cells)
    o.compiler.quantizeCells = true;
    o.weightType = "auto";
  }
  // The KV cache and the RoPE tables grow with the context, the activations
  // with the rows: bounded up front (docs/cli.md).
  if (lm && (maxContext < 1 || maxContext > kMaxContext))
    fail("--max-context must be 1.." + std::to_string(kMaxContext) + " tokens, not " +
         std::to_string(maxContext));
  if (lm && (maxRows < 1 || maxRows > kMaxRows))
    fail("--max-rows must be 1.." + std::to_string(kMaxRows) + " tokens, not " +
         std::to_string(maxRows));
  if (chatTemplate != "auto" && chatTemplate != "chatml" && chatTemplate != "none")
    fail("--chat-template must be auto, chatml or none, not '" + chatTemplate + "'");
  if (!lm && chatTemplate.getNumOccurrences())
    fail("--chat-template applies to language models, not to " + o.input);
  o.chatTemplate = chatTemplate;
}

void checkBackend(DriverOptions &o) {
  mlir::liquid::CompilerOptions &c = o.compiler;
  bool halide = backendName == "halide" || !halideScheduleFile.empty();
  c.backend = halide ? "halide" : "llvm";
  c.halideScheduleFile = halideScheduleFile;
  if (halideProfile && !halide)
    fail("--halide-profile needs --backend=halide (it measures the Halide kernels)");
  if (activations != "f32" && activations != "q8")
    fail("--activations must be f32 or q8, not '" + activations + "'");
  c.int8Activations = activations == "q8";
  if (o.weightType == "q4" && (halide || o.target->kind != "cpu"))
    fail("q4 weights are computed by the LLVM kernels of CPU targets only (target '" +
         o.target->name + "'" + (halide ? ", --backend=halide" : "") + "): use q8");
  if (halide && c.quantizeCells)
    fail("--quantize=q8 for cells needs the LLVM kernels, not --backend=halide");
  if (halide && o.target->halideTarget.empty())
    fail("target '" + targetName + "' has no Halide target");
  if (!halideScheduleFile.empty()) { // read now: a bad file fails before the import
    ::liquid::HalideSchedule s;
    std::string err;
    if (!::liquid::loadHalideSchedule(halideScheduleFile, s, err))
      fail(err);
  }
  makeFolder(dumpKernels);
  if (!dumpKernels.empty())
    c.kernelsList = dumpKernels + "/kernels.txt";
}

} // namespace

[[noreturn]] void liquid::fail(const std::string &msg) {
  llvm::errs() << "liquidc: error: " << printableLine(msg) << "\n";
  std::exit(1);
}

DriverOptions liquid::parseDriverOptions(int argc, char **argv) {
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  for (auto &[name, opt] : cl::getRegisteredOptions())
    if (name.starts_with("mlir-"))
      opt->addCategory(mlirCat);
  cl::HideUnrelatedOptions({&cat, &mlirCat});
  cl::SetVersionPrinter([](llvm::raw_ostream &os) { os << "liquidc " LIQUIDC_VERSION "\n"; });
  // the parser's complaint (one or two lines, "Did you mean") as one line
  std::string clErrors;
  llvm::raw_string_ostream clErr(clErrors);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "liquidc: ahead-of-time compiler for liquid neural networks\n\n"
          "  liquidc model.json -o model                 # standalone executable\n"
          "  liquidc model.json -o libm.a --emit=lib     # static library + m.h\n"
          "  liquidc model.json --emit=mlir -o -         # inspect the IR\n"
          "  liquidc LFM2-350M/ -o lm                    # language model: lm + lm.lqw\n",
          &clErr)) {
    if (clErrors.empty()) // a bad option value: already said, in one line
      std::exit(1);
    std::string line = llvm::StringRef(clErrors).trim().str();
    for (llvm::StringRef prefix : {"liquidc: ", "liquidc: error: "}) // keep one prefix
      for (size_t at; (at = line.find(prefix.str(), 1)) != std::string::npos;)
        line.erase(at, prefix.size());
    if (llvm::StringRef(line).starts_with("liquidc: "))
      line = line.substr(9);
    fail(line);
  }
  if (listTargets) {
    printTargets();
    std::exit(0);
  }
  if (printLinkFlags) {
    const TargetInfo *t = findTarget(targetName);
    if (!t)
      fail("unknown target '" + targetName + "' (known: " + knownTargetNames() + ")");
    if (t->kind == "npu")
      fail("target '" + t->name + "' produces objects only: linking them needs Qualcomm's "
           "Hexagon SDK");
    std::vector<std::string> words = {ccOverride.empty() ? t->cc : std::string(ccOverride)};
    words.insert(words.end(), t->ccFlags.begin(), t->ccFlags.end());
    words.insert(words.end(), t->exeFlags.begin(), t->exeFlags.end());
    for (size_t i = 0; i < words.size(); ++i)
      llvm::outs() << (i ? " " : "") << words[i];
    llvm::outs() << "\n";
    std::exit(0);
  }
  DriverOptions o;
  o.input = inputPath, o.output = outputPath, o.emit = emitKind;
  if (o.input.empty())
    fail("no input model (try --help)");
  // a device or a pipe would be read until memory runs out
  llvm::sys::fs::file_status st;
  if (o.input != "-" && !llvm::sys::fs::status(o.input, st) &&
      st.type() != llvm::sys::fs::file_type::regular_file &&
      st.type() != llvm::sys::fs::file_type::directory_file)
    fail(o.input + ": not a regular file or a folder");
  o.target = findTarget(targetName);
  if (!o.target)
    fail("unknown target '" + targetName + "' (known: " + knownTargetNames() + ")");
  if (backendName != "llvm" && backendName != "halide")
    fail("--backend must be llvm or halide, not '" + backendName + "'");
  applyTargetKind(o);
  bool textOut = o.emitsIR() || o.emit == Emit::LLVM || o.emit == Emit::Asm;
  if (o.output.empty() && !textOut)
    fail("no output file (-o)");
  o.inputKind = classify(o.input);
  if (o.inputKind == InputKind::IR && (o.emit == Emit::Exe || o.emit == Emit::Lib))
    fail("--emit=exe and --emit=lib need a model spec with weights, not " + o.input);
  o.dumpStages = dumpStages;
  makeFolder(o.dumpStages);
  checkModelKind(o);
  checkBackend(o);
  if (!o.output.empty() && o.output != "-") {
    llvm::StringRef dir = llvm::sys::path::parent_path(o.output);
    if (!dir.empty() && !llvm::sys::fs::is_directory(dir))
      fail(o.output + ": the folder '" + dir.str() + "' does not exist");
  }

  o.machine = {o.target->triple, o.target->cpu, o.target->features};
  o.machine.abi = o.target->abi;
  o.machine.staticRelocs = o.target->kind == "mcu";
  o.machine.sizeLevel = o.target->kind == "mcu" ? 2 : 0;
  if (!targetCpu.empty())
    o.machine.cpu = targetCpu;
  if (!targetFeatures.empty())
    o.machine.features = targetFeatures;
  if (!targetCpu.empty() || !targetFeatures.empty())
    if (std::string why = checkMachine(o.machine); !why.empty())
      fail(why);
  int64_t lanes = vectorWidth             ? vectorWidth.getValue()
                  : o.target->vectorFloats ? o.target->vectorFloats
                                          : preferredVectorWidth(o.machine);
  if (lanes != 8 && lanes != 16)
    fail("--vector-width must be 8 or 16 (or 0 for the target's choice)");
  o.compiler.vectorWidth = lanes;
  o.compiler.int8Dot = int8DotIntrinsic(o.machine, lanes);
  o.compiler.softHalf = !hasHalfConversions(o.machine);
  o.compiler.compact = o.target->kind == "mcu";
  o.compiler.elementLanes = o.target->kind == "mcu" ? o.target->elementFloats : 0;
  if (o.target->kind == "mcu") // 32-bit cores: 32-bit loop counters and offsets
    o.compiler.indexBitwidth = 32;
  o.compiler.blockSparse = blockSparse;
  o.compiler.strictWeights = strict;
  o.compiler.printMemoryPlan = printPlan;
  o.name = modelName;
  o.weightsOverride = weightsOverride, o.weightsOut = weightsOut;
  o.embedWeights = embedWeights;
  o.embedWeightsGiven = embedWeights.getNumOccurrences() > 0;
  o.maxContext = maxContext, o.maxRows = maxRows;
  o.dumpKernels = dumpKernels;
  o.halideProfile = halideProfile, o.testGpuEntryPoints = testGpuEntryPoints;
  o.cc = ccOverride;
  for (const std::string &out : {o.output, o.output.empty() ? std::string() : o.output + ".lqw",
                                 o.weightsOut})
    checkOutputPath(out, {o.input, o.weightsOverride});
  return o;
}

void liquid::checkOutputPath(const std::string &out, llvm::ArrayRef<std::string> inputs) {
  namespace fs = llvm::sys::fs;
  fs::file_status st;
  if (out.empty() || out == "-" || fs::status(out, st))
    return; // nothing there: a new file
  if (st.type() != fs::file_type::regular_file)
    fail(out + ": exists and is not a regular file (liquidc replaces only regular files)");
  for (const std::string &in : inputs) {
    bool same = false;
    if (!in.empty() && !fs::equivalent(out, in, same) && same)
      fail(out + ": is the input " + in + " (an output never replaces an input)");
    if (!in.empty() && fs::is_directory(in) &&
        !fs::equivalent(llvm::sys::path::parent_path(out).empty()
                            ? std::string(".")
                            : std::string(llvm::sys::path::parent_path(out)),
                        in, same) &&
        same)
      fail(out + ": is a file of the input folder " + in + " (an output never replaces an input)");
  }
}
