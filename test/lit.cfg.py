# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "liquid"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "unit",
                   "runtime", "e2e_helpers"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.liquid_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMPDIR", "PATH"])
llvm_config.use_default_substitutions()
llvm_config.add_tool_substitutions(["liquid-opt", "liquidc", "liquid-lfm2-gen", "liquid-halide-gen", "liquid-tokenize"], [config.liquid_tools_dir])
llvm_config.add_tool_substitutions(["FileCheck", "not", "count"], [config.llvm_tools_dir])
# liquid-mcu-run (a script beside liquidc) runs microcontroller programs for
# the test helpers and sweeps, which name it as a runner
llvm_config.with_environment("PATH", config.liquid_tools_dir, append_path=True)
config.substitutions.append(("%liquid_bin", config.liquid_tools_dir))
config.substitutions.append(("%python", config.python_with_numpy))
config.substitutions.append(("%fixtures", config.fixtures_dir))
config.substitutions.append(("%srcroot", config.liquid_src_root))

# Reference fixtures (../shared/fixtures beside the checkout, or
# -DLIQUID_FIXTURES_DIR=...). Missing: end-to-end tests are UNSUPPORTED,
# loudly, unless the build requires them (CI).
if os.path.isdir(os.path.join(config.fixtures_dir, "ncps")):
    config.available_features.add("fixtures")
elif config.require_fixtures:
    lit_config.fatal("LIQUID_REQUIRE_FIXTURES is on but no fixtures at " + config.fixtures_dir)
else:
    lit_config.warning("NO REFERENCE FIXTURES at %s: every end-to-end test is SKIPPED "
                       "(reported UNSUPPORTED). Put shared/ beside the checkout or set "
                       "-DLIQUID_FIXTURES_DIR." % config.fixtures_dir)

# The float64 oracles beside the fixtures (shared/tools): the differential
# sweeps call them (test/sweep/).
config.shared_dir = os.path.dirname(os.path.abspath(config.fixtures_dir))
config.substitutions.append(("%shared", config.shared_dir))
if os.path.isfile(os.path.join(config.shared_dir, "tools", "lfm2_reference.py")):
    config.available_features.add("oracles")
elif config.require_fixtures:
    lit_config.fatal("LIQUID_REQUIRE_FIXTURES is on but no oracles at " +
                     os.path.join(config.shared_dir, "tools"))
else:
    lit_config.warning("NO ORACLES at %s/tools: the differential sweeps are SKIPPED "
                       "(reported UNSUPPORTED)." % config.shared_dir)

import shutil
if shutil.which("qemu-aarch64") and shutil.which("aarch64-linux-gnu-gcc"):
    config.available_features.add("aarch64-cross")
if shutil.which("qemu-riscv64") and shutil.which("riscv64-linux-gnu-gcc"):
    config.available_features.add("riscv64-cross")
# Microcontrollers: bare-metal programs (gcc + picolibc) under qemu-system.
if (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")
        and os.path.isdir("/usr/lib/picolibc/arm-none-eabi")):
    config.available_features.add("arm-mcu")
if (shutil.which("qemu-system-riscv32") and shutil.which("riscv64-unknown-elf-gcc")
        and os.path.isdir("/usr/lib/picolibc/riscv64-unknown-elf")):
    config.available_features.add("rv32-mcu")
# CUDA: ptxas checks the PTX liquidc writes (CUDA's default place, or PATH);
# a GPU with its driver runs the CUDA programs (scripts/gpu-tests.sh).
ptxas = shutil.which("ptxas") or ("/usr/local/cuda/bin/ptxas" if os.access("/usr/local/cuda/bin/ptxas", os.X_OK) else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
if os.path.exists("/dev/nvidiactl"):
    config.available_features.add("cuda-gpu")
try:
    flags = [l for l in open("/proc/cpuinfo") if l.startswith("flags")][0].split()
    if all(f in flags for f in ("avx512f", "avx512bw", "avx512dq", "avx512vl")):
        config.available_features.add("avx512")
    if "avx512_vnni" in flags:
        config.available_features.add("avx512vnni")
except (OSError, IndexError):
    pass
# The bad-input corpus limits address space, which sanitizer builds (that
# reserve terabytes of shadow memory) cannot run under.
config.substitutions.append(("%badinput_flags", "--no-limits" if config.sanitizers else ""))
if config.sanitizers:
    config.available_features.add("sanitizers")
    config.environment["LIQUIDC_CFLAGS"] = "-fsanitize=address,undefined -fno-omit-frame-pointer"
    config.environment["ASAN_OPTIONS"] = "detect_leaks=1"
