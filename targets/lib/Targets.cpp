//===- Targets.cpp - the target registry -----------------------------------===//
#include "liquid/Targets/Targets.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/TargetParser/Host.h"

namespace liquid {

namespace {

TargetInfo cpuTarget(std::string name, std::string description, std::string triple,
                     std::string cpu, std::string features, int l1d, int l2, std::string halide,
                     std::vector<std::string> hostFeatures = {}) {
  TargetInfo t;
  t.name = std::move(name);
  t.description = std::move(description);
  t.kind = "cpu";
  t.triple = std::move(triple);
  t.cpu = std::move(cpu);
  t.features = std::move(features);
  t.l1dKiB = l1d;
  t.l2KiB = l2;
  t.halideTarget = std::move(halide);
  t.cc = "cc";
  t.ar = "ar";
  t.hostFeatures = std::move(hostFeatures);
  return t;
}

TargetInfo cross(TargetInfo t, const std::string &gnu, const std::string &qemu,
                 const std::string &qemuCpu = "") {
  t.cc = gnu + "-gcc";
  t.ar = gnu + "-ar";
  t.runner = {qemu};
  if (!qemuCpu.empty())
    t.runner.insert(t.runner.end(), {"-cpu", qemuCpu});
  t.runner.insert(t.runner.end(), {"-L", "/usr/" + gnu});
  return t;
}

/// Where a bare-metal program lives: code and constants (the weights) in
/// `flash`, data, heap and stack in `ram` (addresses and sizes in bytes).
struct MemoryMap {
  const char *flash, *flashSize, *ram, *ramSize;
};

/// A microcontroller. Programs are linked with picolibc (its startup code,
/// and semihosting for files and stdio) and run by liquid-mcu-run under
/// qemu-system's `board`.
TargetInfo mcu(std::string name, std::string description, std::string triple, std::string cpu,
               std::string gnu, std::vector<std::string> cflags, const char *board,
               std::string emulator, MemoryMap mem, int elementFloats) {
  TargetInfo t;
  t.elementFloats = elementFloats;
  t.name = std::move(name);
  t.description = std::move(description);
  t.kind = "mcu";
  t.triple = std::move(triple);
  t.cpu = std::move(cpu);
  t.cc = gnu + "-gcc";
  t.ar = gnu + "-ar";
  t.ccFlags = {"--specs=picolibc.specs", "-ffunction-sections", "-fdata-sections"};
  t.ccFlags.insert(t.ccFlags.end(), cflags.begin(), cflags.end());
  t.runner = {"liquid-mcu-run", board};
  t.emulator = std::move(emulator);
  auto sym = [](const char *name, const char *value) {
    return std::string("-Wl,--defsym=") + name + "=" + value;
  };
  t.exeFlags = {"--oslib=semihost",
                "--crt0=semihost",
                "-Wl,--gc-sections",
                "-Wl,--no-warn-execstack", // (picolibc's objects say nothing about the stack)
                sym("__flash", mem.flash),
                sym("__flash_size", mem.flashSize),
                sym("__ram", mem.ram),
                sym("__ram_size", mem.ramSize),
                sym("__stack_size", "0x4000")};
  return t;
}

} // namespace

const std::vector<TargetInfo> &allTargets() {
  static const std::vector<TargetInfo> targets = [] {
    std::vector<TargetInfo> v;
    v.push_back(cpuTarget("host", "this machine: its triple, CPU and features", "host", "host",
                          "host", 0, 0, "host"));
    v.push_back(cpuTarget("x86-64-v2", "x86-64 with SSE4.2 / POPCNT (no AVX)", "x86_64-linux-gnu",
                          "x86-64-v2", "", 32, 512, "x86-64-linux-sse41",
                          {"sse4.2", "popcnt"}));
    v.push_back(cpuTarget("x86-64-v3", "x86-64 with AVX2 / FMA / BMI2", "x86_64-linux-gnu",
                          "x86-64-v3", "", 32, 1024, "x86-64-linux-sse41-avx-avx2-fma-f16c",
                          {"avx2", "fma", "bmi2", "f16c"}));
    v.push_back(cpuTarget("x86-64-v4", "x86-64 with AVX-512 (F/BW/DQ/VL)", "x86_64-linux-gnu",
                          "x86-64-v4", "", 32, 1024,
                          "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake",
                          {"avx512f", "avx512bw", "avx512dq", "avx512vl"}));
    v.push_back(cross(cpuTarget("aarch64-linux", "64-bit Arm Linux with NEON", "aarch64-linux-gnu",
                                "generic", "+neon", 64, 512, "arm-64-linux"),
                      "aarch64-linux-gnu", "qemu-aarch64"));
    v.push_back(cross(cpuTarget("aarch64-cortex-a55",
                                "Arm Cortex-A55 (in-order little core; NEON, dot product, FP16)",
                                "aarch64-linux-gnu", "cortex-a55", "+neon,+dotprod,+fullfp16", 32,
                                256, "arm-64-linux-arm_dot_prod-arm_fp16"),
                      "aarch64-linux-gnu", "qemu-aarch64"));
    v.push_back(cross(cpuTarget("aarch64-neoverse-n1",
                                "Arm Neoverse-N1 / Cortex-A76 class (out-of-order; NEON, dot "
                                "product, FP16)",
                                "aarch64-linux-gnu", "neoverse-n1", "+neon,+dotprod,+fullfp16", 64,
                                1024, "arm-64-linux-arm_dot_prod-arm_fp16"),
                      "aarch64-linux-gnu", "qemu-aarch64"));
    v.push_back(cross(cpuTarget("riscv64-linux", "RISC-V RV64GC Linux (scalar floating point)",
                                "riscv64-linux-gnu", "generic-rv64", "+m,+a,+f,+d,+c", 32, 512,
                                "riscv-64-linux"),
                      "riscv64-linux-gnu", "qemu-riscv64"));
    v.push_back(cross(cpuTarget("riscv64-rvv", "RISC-V RV64GCV Linux (vector extension 1.0)",
                                "riscv64-linux-gnu", "generic-rv64", "+m,+a,+f,+d,+c,+v", 32, 512,
                                "riscv-64-linux-rvv"),
                      "riscv64-linux-gnu", "qemu-riscv64", "rv64,v=true,vlen=128"));
    for (const char *sm : {"80", "90"}) {
      // The forward kernel runs on this machine's CPU and launches the
      // products on the GPU (Halide's CUDA back end, PTX; its runtime drives
      // the CUDA driver API, loaded at run time).
      TargetInfo t = cpuTarget(std::string("cuda-sm") + sm, "", "host", "host", "host", 0, 0, "");
      t.description = std::string("NVIDIA GPU, compute capability ") + sm[0] + "." + sm[1] +
                      (sm[0] == '8' ? " (A100)" : " (H100)") +
                      ": the products on the GPU, the rest on this CPU";
      t.kind = "gpu";
      t.deviceTriple = "nvptx64-nvidia-cuda";
      t.deviceArch = std::string("sm_") + sm;
      // Halide 14 knows compute capabilities up to 8.6: sm_90 gets sm_86 PTX,
      // which the driver compiles for the H100 when it loads it
      t.halideTarget = sm[0] == '8' ? "host-cuda-cuda_capability_80" : "host-cuda-cuda_capability_86";
      v.push_back(t);
    }
    v.push_back(mcu("cortex-m4f",
                    "Arm Cortex-M4 with single-precision FPU, bare metal (no OS; programs run "
                    "under qemu-system-arm -M mps2-an386)",
                    "thumbv7em-unknown-none-eabihf", "cortex-m4", "arm-none-eabi",
                    {"-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"},
                    "mps2-an386", "qemu-system-arm",
                    {"0x00000000", "0x400000", "0x20000000", "0x400000"}, 1));
    v.push_back(mcu("cortex-m55",
                    "Arm Cortex-M55 with Helium (MVE) vectors and FPU, bare metal (programs run "
                    "under qemu-system-arm -M mps3-an547)",
                    "thumbv8.1m.main-unknown-none-eabihf", "cortex-m55", "arm-none-eabi",
                    {"-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"}, "mps3-an547",
                    "qemu-system-arm", {"0x00000000", "0x80000", "0x21000000", "0x200000"}, 4));
    TargetInfo rv32 = mcu("rv32imafc",
                          "RISC-V RV32IMAFC with single-precision FPU, bare metal (programs run "
                          "under qemu-system-riscv32 -M virt)",
                          "riscv32-unknown-none-elf", "generic-rv32", "riscv64-unknown-elf",
                          {"-march=rv32imafc", "-mabi=ilp32f", "-mcmodel=medany"},
                          "riscv32-virt", "qemu-system-riscv32",
                          {"0x80000000", "0x400000", "0x80400000", "0x400000"}, 1);
    rv32.features = "+m,+a,+f,+c";
    rv32.abi = "ilp32f";
    v.push_back(rv32);
    TargetInfo hvx;
    hvx.name = "hexagon-v68-hvx";
    hvx.description = "Qualcomm Hexagon v68 DSP with 128-byte HVX (int8 products; --emit=obj "
                      "with --quantize=q8)";
    hvx.kind = "npu";
    hvx.triple = "hexagon-unknown-none-elf";
    hvx.cpu = "hexagonv68";
    // The LLVM part (norms, attention, conv, activations) is scalar float
    // code: HVX has no IEEE float vectors. The products are Halide kernels.
    hvx.features = "";
    // Halide 14 knows HVX up to v66; v68 runs v66 code
    hvx.halideTarget = "hexagon-32-qurt-hvx_128-hvx_v66";
    // the C entry points of the Halide kernels, built freestanding (the
    // Hexagon SDK's C library is not here)
    hvx.cc = "clang-22";
    hvx.ccFlags = {"--target=hexagon-unknown-none-elf", "-mcpu=hexagonv68", "-ffreestanding"};
    hvx.relocatableLinker = "ld.lld";
    hvx.ar = "llvm-ar-22";
    v.push_back(hvx);
    return v;
  }();
  return targets;
}

const TargetInfo *findTarget(const std::string &name) {
  for (const TargetInfo &t : allTargets())
    if (t.name == name)
      return &t;
  return nullptr;
}

std::string knownTargetNames() {
  std::string s;
  for (const TargetInfo &t : allTargets())
    s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

std::string halideTargetFor(const TargetInfo &t) {
  if (t.halideTarget.rfind("host", 0) != 0)
    return t.halideTarget;
  std::string rest = t.halideTarget.substr(4); // e.g. "-cuda-cuda_capability_80"
  // Halide 14's own host detection leaves out F16C on some CPUs (then half
  // loads are converted in software): spell the features out.
  llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
  auto has = [&](const char *n) {
    auto it = f.find(n);
    return it != f.end() && it->second;
  };
  std::string arch = llvm::sys::getDefaultTargetTriple();
  if (arch.rfind("x86_64", 0) != 0)
    return t.halideTarget;
  std::string s = "x86-64-linux";
  if (has("sse4.1"))
    s += "-sse41";
  if (has("avx"))
    s += "-avx";
  if (has("avx2"))
    s += "-avx2";
  if (has("fma"))
    s += "-fma";
  if (has("f16c"))
    s += "-f16c";
  if (has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl") && has("avx512cd"))
    s += "-avx512-avx512_skylake";
  return s + rest;
}

bool runsHere(const TargetInfo &t, std::string &why) {
  if (t.kind == "gpu") {
    if (!llvm::sys::fs::exists("/dev/nvidiactl")) {
      why = "no GPU here";
      return false;
    }
    return true;
  }
  if (t.kind == "npu") {
    why = "running needs Qualcomm's Hexagon SDK or simulator";
    return false;
  }
  if (!t.runner.empty()) {
    // (liquid-mcu-run comes with liquidc; what it drives must be installed)
    for (const std::string &tool : {t.emulator.empty() ? t.runner.front() : t.emulator, t.cc})
      if (!llvm::sys::findProgramByName(tool)) {
        why = tool + " not installed";
        return false;
      }
    return true;
  }
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  for (const std::string &f : t.hostFeatures) {
    auto it = host.find(f);
    if (it == host.end() || !it->second) {
      why = "this CPU lacks " + f;
      return false;
    }
  }
  return true;
}

} // namespace liquid
