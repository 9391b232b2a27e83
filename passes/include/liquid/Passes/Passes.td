//===- Passes.td - liquid passes ---------------------------*- tablegen -*-===//
#ifndef LIQUID_PASSES_TD
#define LIQUID_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseCfC : Pass<"liquid-fuse-cfc", "::mlir::func::FuncOp"> {
  let summary = "Fuse the heads of CfC cells (and mixed-memory LSTMs) into one product";
  let description = [{
    Rewrites every `liquid.cfc_cell` into one `liquid.dense` over the
    concatenated head weights `[ff1; ff2; time_a; time_b]` followed by one
    `liquid.cfc_epilogue`. The sparsity mask of a wired cell is folded into
    the ff1/ff2 weights with `liquid.weight_mul` (evaluated when the weights are
    packed), so no mask is applied at run time. Every `liquid.lstm_cell`
    becomes one `liquid.dense` over `concat(x, h)` with `[W_in | W_rec]`
    followed by one `liquid.lstm_epilogue`.

    Before:
    ```mlir
    %h2 = liquid.cfc_cell "default" %z, %ts weights(%w1, %b1, %w2, %b2, %wa, %ba, %wb, %bb) : ...
    ```
    After:
    ```mlir
    %w = liquid.weight_concat %w1, %w2, %wa, %wb {dim = 0 : i64} : ... -> tensor<128x128xf32>
    %b = liquid.weight_concat %b1, %b2, %ba, %bb {dim = 0 : i64} : ... -> tensor<128xf32>
    %heads = liquid.dense %z, %w, %b : ... -> tensor<128xf32>
    %h2 = liquid.cfc_epilogue "default" %heads, %ts : tensor<128xf32> -> tensor<32xf32>
    ```
  }];
  let dependentDialects = ["::mlir::liquid::LiquidDialect"];
}

def FuseLTC : Pass<"liquid-fuse-ltc", "::mlir::func::FuncOp"> {
  let summary = "Fold loop-invariant LTC parameters and fuse the unfolded solver into one kernel";
  let description = [{
    Rewrites every `liquid.ltc_cell` into one `liquid.ltc_solve` whose
    parameters are weight expressions evaluated at compile time: the positive
    constraint (softplus) of `w`, `sensory_w`, `cm` and `gleak`, the sparsity
    masks (`w_eff = pos(w) * mask`), the reversal potentials
    (`w_erev = w_eff * erev`) and `gleak * vleak`. The lowered
    kernel computes the sensory currents once per step and runs all
    `ode_unfolds` sub-steps without leaving the kernel.

    ```mlir
    %v2 = liquid.ltc_cell %x, %v, %ts params(...) {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64, positive} : ...
    // becomes
    %sp = liquid.weight_map "softplus" %w : tensor<32x32xf32>
    %weff = liquid.weight_mul %sp, %mask : tensor<32x32xf32>
    ...
    %v2 = liquid.ltc_solve %x, %v, %ts params(...) {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64} : ...
    ```
  }];
  let dependentDialects = ["::mlir::liquid::LiquidDialect"];
}

def FuseProjections : Pass<"liquid-fuse-projections", "::mlir::func::FuncOp"> {
  let summary = "Fuse products that read the same input into one product";
  let description = [{
    Language models project one normalized input several times (q, k and v;
    the gate and up halves of the feed-forward). Every group of
    `liquid.linear` ops with the same input and the same weight element type
    becomes one `liquid.linear` over the weights concatenated along the
    output dimension (a compile-time `liquid.weight_concat`), followed by one
    `liquid.columns` per original product: the input is read once, the threads
    share one larger product and meet at one barrier instead of several. A
    `liquid.swiglu` of exactly the two halves of such a product becomes
    `liquid.swiglu_halves`, which reads the product without copying them.

    ```mlir
    %q = liquid.linear %h, %wq : tensor<?x256xf32>, tensor<256x256xf32> -> tensor<?x256xf32>
    %k = liquid.linear %h, %wk : tensor<?x256xf32>, tensor<128x256xf32> -> tensor<?x128xf32>
    // becomes
    %w = liquid.weight_concat %wq, %wk {dim = 0 : i64} : ... -> tensor<384x256xf32>
    %qk = liquid.linear %h, %w : tensor<?x256xf32>, tensor<384x256xf32> -> tensor<?x384xf32>
    %q = liquid.columns %qk [0] : tensor<?x384xf32> -> tensor<?x256xf32>
    %k = liquid.columns %qk [256] : tensor<?x384xf32> -> tensor<?x128xf32>
    ```
  }];
  let dependentDialects = ["::mlir::liquid::LiquidDialect"];
}

def QuantizeCells : Pass<"liquid-quantize-cells", "::mlir::func::FuncOp"> {
  let summary = "Store the weight matrices of cells' products as int8 with a scale per output";
  let description = [{
    Marks every `liquid.dense` whose weight is a compile-time weight `stored
    q8c` (liquidc --quantize=q8 for cells): liquid-pack-weights then packs the
    matrix as int8, row n scaled by max |W[n, :]| / 127 (a quarter of the
    bytes, plus one float per output), and the kernels compute the product
    in float from the int8 values. Runs after the fusion passes, so a fused
    matrix (a CfC's heads, an LSTM's input and recurrent maps, a masked
    layer) is quantized as the kernel reads it. Vectors (biases, LTC
    parameters) stay f32.

    ```mlir
    %z = liquid.dense %x, %w, %b : tensor<40xf32>, tensor<128x40xf32>, tensor<128xf32> -> tensor<128xf32>
    // becomes
    %z = liquid.dense %x, %w, %b stored q8c : tensor<40xf32>, tensor<128x40xf32>, tensor<128xf32> -> tensor<128xf32>
    ```
  }];
  let dependentDialects = ["::mlir::liquid::LiquidDialect"];
}

def PlanMemory : Pass<"liquid-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Assign every state, activation and scratch buffer an offset in one static arena";
  let description = [{
    Plans the memory of each `liquid.scan` body at compile time. Recurrent
    state comes first (it persists across steps), then the step input; every
    activation gets a slot by first fit over its live range (slots are reused
    once their value is dead), and kernels that need scratch (the LTC solver)
    get a slot live only during that op. Slots are padded and aligned to 64
    bytes so kernels can use full vectors. The result is recorded as
    attributes: `liquid.offset` on every op result (in floats),
    `liquid.scratch` (offset) and `liquid.scratch_floats` on ops with
    scratch (sizes from ScratchOpInterface), and `liquid.arena` on the scan
    (`#liquid.step_arena<size, input, output, states>`, in floats). A
    language-model function (`liquid.max_rows`) gets its caches first, then
    `[max_rows, N]` rows by liveness: `#liquid.forward_arena<size, caches>`.

    ```mlir
    %z = liquid.concat %x, %h {liquid.offset = array<i64: 48>} : ...
    ```
  }];
  let dependentDialects = ["::mlir::liquid::LiquidDialect"];
}

def AssignBackends : Pass<"liquid-assign-backends", "::mlir::ModuleOp"> {
  let summary = "Choose, per kernel, the LLVM lowering or a Halide-generated kernel";
  let description = [{
    Considers every op that has a Halide kernel: the language models'
    products (`liquid.linear`), short convolutions, attention, and the cells'
    `liquid.dense` and `liquid.cfc_epilogue`. Each gets a name
    (`<prefix>_hl<i>`, in program order) and a schedule: the schedule file's
    choice by kernel or weight name, else its default (`hand`). A kernel
    stays on the LLVM lowering when its schedule is `llvm` or the Halide
    kernel cannot take it: outputs not whole tiles of `8 x vector-width`,
    `head_dim` not a multiple of `2 x vector-width`, a block-sparse (masked)
    weight, a GPU target (only products run on the GPU) or an integer-only
    NPU (int8 products only). With `int8-activations`, Halide products with
    q8 weights quantize their inputs per block of 32 (int8 x int8).

    A kernel given to Halide gets `liquid.halide_kernel = "<name>"` (its
    lowering becomes a call of that symbol), and the module lists every
    request in `liquid.halide_kernels`, which liquidc hands to
    liquid-halide-gen. With `kernels-list`, every kernel considered, its
    backend and the reason is written to that file. With `backend=llvm` the
    IR is left alone.

    ```mlir
    %y = liquid.linear %x, %w stored q8 {liquid.halide_kernel = "m_hl0"} : ...
    ```
  }];
  let options = [
    Option<"backend", "backend", "std::string", /*default=*/"\"llvm\"",
           "llvm (leave every kernel on the LLVM lowering) or halide">,
    Option<"scheduleFile", "schedule-file", "std::string", /*default=*/"\"\"",
           "JSON file choosing per kernel or weight name: llvm, hand, mullapudi2016, "
           "adams2019 or li2018 ({\"default\": ..., \"kernels\": {name: ...}})">,
    Option<"kernelPrefix", "prefix", "std::string", /*default=*/"\"\"",
           "Symbol prefix of the kernels (default: the function name)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "Floats per vector (sets the Halide tiles: 8 vectors)">,
    Option<"gpu", "gpu", "bool", /*default=*/"false",
           "GPU target: only products become Halide (GPU) kernels">,
    Option<"int8Only", "int8-only", "bool", /*default=*/"false",
           "Integer-only vector unit (Hexagon HVX): only q8 products become Halide kernels">,
    Option<"int8Activations", "int8-activations", "bool", /*default=*/"false",
           "Halide products with q8 weights quantize their inputs (int8 x int8)">,
    Option<"kernelsList", "kernels-list", "std::string", /*default=*/"\"\"",
           "Write every kernel considered, its backend and why, to this file">
  ];
  let dependentDialects = ["::mlir::liquid::LiquidDialect"];
}

def PrintMemoryPlan : Pass<"liquid-print-memory-plan", "::mlir::ModuleOp"> {
  let summary = "Print the static memory plan of every planned function to stdout";
  let description = [{
    Reads what `liquid-plan-memory` recorded and prints it: for a cell's
    scan every state, input, activation and scratch buffer with its bytes and
    offset; for a language model its caches by kind, activations, scratch,
    the expert weights a token reads, and what an all-attention model of the
    same shape would need for its KV caches. The IR is not changed.
  }];
}

def PackWeights : Pass<"liquid-pack-weights", "::mlir::ModuleOp"> {
  let summary = "Lay out every weight the kernels read in the packed blob, and pack it";
  let description = [{
    For the planned functions (a cell's `liquid.scan` body, a language
    model's function), asks each op that reads weights
    (`WeightReaderOpInterface`) which operands and in which layout and
    element type, evaluates the weight expressions (`liquid.weight_concat`,
    `_mul`, `_map`) and gives each (weight, layout, element) one slot in the
    blob, in op order. Each op gets its slots as `liquid.packed`
    (`#liquid.slot<tensor, layout, element, offset, floats>`, in the order of
    its weight uses, then tables it reads that are not operands: an
    attention's RoPE cos and sin for the cache length). The module gets the
    blob's layout as `liquid.weights` (`#liquid.weight_blob<size, lanes,
    hash, slots>`).

    With the tensors at hand (the checkpoint the compiler read, or values on
    every `liquid.weight`), the packed data is produced too, as the
    module's `liquid.weight_data` (a `dense_resource` that the artifact
    writer stores as the .lqw file), and a dense layer or LTC synapse matrix
    whose 8-wide blocks are at least 25% zero (wiring masks) is packed
    block-sparse (`blocks_transposed`, `blocks_rows`, with the kept blocks).
    Without them only the layout is planned.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "Floats per vector, which sets all padding: 8 (AVX2, NEON) or 16 (AVX-512)">,
    Option<"blockSparse", "block-sparse", "bool", /*default=*/"true",
           "Pack weights whose 8-wide blocks are at least 25% zero block-sparse "
           "(needs the tensors)">,
    Option<"strictWeights", "strict-weights", "bool", /*default=*/"false",
           "A checkpoint tensor with NaN or infinite values is an error (else a warning)">
  ];
  let dependentDialects = ["::mlir::liquid::LiquidDialect"];
}

def LowerCells : Pass<"liquid-lower-cells", "::mlir::ModuleOp"> {
  let summary = "Lower each planned cell function to a step kernel in scf/vector/memref/math";
  let description = [{
    Turns the body of the (planned, packed) `liquid.scan` of every cell
    function into a step kernel `func.func @<name>_kernel_step(%weights:
    memref<Wxf32>, %arena: memref<Axf32>, %ts: f32)`: each op becomes
    vectorized loops (`vector` operations of `vector-width` floats) on views
    of the arena at its planned offset, and every weight read becomes a read
    of the packed blob at the op's `liquid.packed` slot. Dense weights are
    packed transposed (`[in, out]`, in column tiles of 8 vectors) so a
    product is a chain of broadcast-multiply-adds with no horizontal
    reductions; block-sparse slots give code unrolled over the kept blocks.
    The time loop of the scan moves to the runtime's `run`. Records the
    kernel's contract with the runtime as `liquid.kernel` (arena size, input,
    output and state slots) and erases the function.
  }];
  let options = [
    Option<"kernelPrefix", "prefix", "std::string", /*default=*/"\"\"",
           "Symbol prefix of the kernel (default: the function name)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "Floats per vector: 8 (AVX2, NEON) or 16 (AVX-512)">,
    Option<"compact", "compact", "bool", /*default=*/"false",
           "Small code over speed (microcontrollers): element-wise ops loop over "
           "their vectors instead of unrolling up to 8 of them">,
    Option<"elementLanes", "element-lanes", "int64_t", /*default=*/"0",
           "Compact kernels: floats per vector of the element-wise loops (1 for a scalar "
           "FPU, 4 for Helium; 0: vector-width)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"];
}

def LowerLM : Pass<"liquid-lower-lm", "::mlir::ModuleOp"> {
  let summary = "Lower each planned language-model function to a forward kernel";
  let description = [{
    Turns every function with `liquid.max_rows` (a language model, planned
    and packed) into `func.func @<name>_kernel_forward(weights, arena, ids,
    rows, pos, logits, tid, nthreads, sync, weights as f16, weights as i8,
    head_rows)`: embedding, RMSNorm, products (F32, F16, Q8 weights; split
    over threads by column tiles), the gated short convolution with its
    cache, attention with RoPE and the KV cache, SwiGLU and the MoE router
    and experts, with a barrier between ops. Ops with
    `liquid.halide_kernel` call that Halide kernel instead. Records
    `liquid.kernel` (arena, rows, context, vocabulary, FLOPs per token and of
    the head, expert bytes a token does not read), erases the function and
    the `liquid.state_buffer`s (their slots are in the arena).
  }];
  let options = [
    Option<"kernelPrefix", "prefix", "std::string", /*default=*/"\"\"",
           "Symbol prefix of the kernel (default: the function name)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "Floats per vector: 8 (AVX2, NEON) or 16 (AVX-512)">,
    Option<"int8Dot", "int8-dot", "std::string", /*default=*/"\"\"",
           "LLVM intrinsic of the target's u8 x s8 dot product (int8_inputs products); "
           "empty: portable integer vector code">,
    Option<"softHalf", "soft-half", "bool", /*default=*/"false",
           "Convert half precision with integer code (targets with no half conversions, "
           "e.g. riscv64 without Zfhmin, whose C library has no __extendhfsf2)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def ConvertVectorToLLVM : Pass<"liquid-convert-vector-to-llvm", "::mlir::ModuleOp"> {
  let summary = "Lower the kernels' vector ops to the LLVM dialect with an index of chosen width";
  let description = [{
    MLIR's convert-vector-to-llvm always lowers `index` to i64, while the
    arith, memref, func and cf conversions take an index width. On 32-bit
    cores (microcontrollers) 64-bit loop counters and offsets cost register
    pairs and carries on every iteration; liquidc lowers `index` to i32
    there, and this pass lowers the vector ops (the ones the kernels use:
    loads, stores, masked loads and stores, broadcasts, shuffles, bitcasts,
    element-wise ops) consistently with it.
  }];
  let options = [
    Option<"indexBitwidth", "index-bitwidth", "unsigned", /*default=*/"64",
           "Bits of index in the generated code">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def ApproximateMath : Pass<"liquid-approximate-math", "::mlir::ModuleOp"> {
  let summary = "Replace exp, tanh and erf by vectorizable polynomial approximations";
  let description = [{
    The kernels' `math.exp`, `math.tanh` and `math.erf` become polynomial
    approximations on vectors (MLIR's math approximation patterns), so no
    call into libm remains in a kernel.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // LIQUID_PASSES_TD
