//===- LiquidOps.td - liquid dialect operations ------------*- tablegen -*-===//
#ifndef LIQUID_OPS_TD
#define LIQUID_OPS_TD

include "liquid/Dialect/LiquidDialect.td"
include "liquid/Dialect/LiquidEnums.td"
include "liquid/Dialect/LiquidAttrs.td"
include "liquid/Dialect/LiquidInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/IR/SymbolInterfaces.td"

def Liquid_F32Vector : 1DTensorOf<[F32]>;
def Liquid_F32Matrix : 2DTensorOf<[F32]>;
def Liquid_F32Tensor : RankedTensorOf<[F32]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Liquid_WeightOp : Liquid_Op<"weight", [Pure]> {
  let summary = "a named tensor of the checkpoint";
  let description = [{
    Refers to the checkpoint tensor `name` (a state_dict key) instead of
    inlining its values. The shape is checked against the checkpoint when the
    weights are packed. A small tensor may carry its values instead
    (`= dense<...>`, as tests of the packing do); they take precedence over
    the checkpoint.

    ```mlir
    %w = liquid.weight "rnn_cell.ff1.weight" : tensor<32x128xf32>
    %b = liquid.weight "bias" = dense<[1.0, 2.0]> : tensor<2xf32> : tensor<2xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<FloatElementsAttr<32>>:$value);
  let results = (outs Liquid_F32Tensor:$result);
  let assemblyFormat = "$name (`=` $value^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Liquid_WeightConcatOp : Liquid_Op<"weight_concat", [Pure]> {
  let summary = "compile-time concatenation of weights";
  let description = [{
    Concatenates weight tensors along `dim`. Every operand must itself be a
    weight (a `liquid.weight` or another weight expression): the result is
    computed when the weights are packed, never at run time.

    ```mlir
    %w = liquid.weight_concat %a, %b {dim = 0 : i64}
        : tensor<32x128xf32>, tensor<32x128xf32> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Variadic<Liquid_F32Tensor>:$inputs, I64Attr:$dim);
  let results = (outs Liquid_F32Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_WeightMulOp : Liquid_Op<"weight_mul", [Pure, SameOperandsAndResultType]> {
  let summary = "compile-time element-wise product of weights";
  let description = [{
    Element-wise product of two weights of the same shape, evaluated when the
    weights are packed. Used to fold sparsity masks and reversal potentials
    into weight matrices.

    ```mlir
    %m = liquid.weight_mul %w, %mask : tensor<10x18xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Tensor:$lhs, Liquid_F32Tensor:$rhs);
  let results = (outs Liquid_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Liquid_WeightMapOp : Liquid_Op<"weight_map", [Pure, SameOperandsAndResultType]> {
  let summary = "compile-time element-wise function of a weight";
  let description = [{
    Applies `fn` to every element of a weight when the weights are packed.
    `fn` is one of `softplus` (ncps's implicit positive constraint),
    `relu`, `abs`, `neg`.

    ```mlir
    %p = liquid.weight_map softplus %w : tensor<32x32xf32>
    ```
  }];
  let arguments = (ins Liquid_WeightFnAttr:$fn, Liquid_F32Tensor:$input);
  let results = (outs Liquid_F32Tensor:$result);
  let assemblyFormat = "$fn $input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Activations and data movement
//===----------------------------------------------------------------------===//

def Liquid_ConcatOp : Liquid_Op<"concat", [Pure, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "concatenation of vectors";
  let description = [{
    ```mlir
    %z = liquid.concat %x, %h : tensor<8xf32>, tensor<32xf32> -> tensor<40xf32>
    ```
  }];
  let arguments = (ins Variadic<Liquid_F32Vector>:$inputs);
  let results = (outs Liquid_F32Vector:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_SliceOp : Liquid_Op<"slice", [Pure, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "contiguous part of a vector";
  let description = [{
    Elements `[offset, offset + size)` of the input; `size` is the result's
    length.

    ```mlir
    %m = liquid.slice %h [16] : tensor<19xf32> -> tensor<3xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Vector:$input, I64Attr:$offset);
  let results = (outs Liquid_F32Vector:$result);
  let assemblyFormat = "$input `[` $offset `]` attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_ActivationOp : Liquid_Op<"activation", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "element-wise activation";
  let description = [{
    `kind` is one of `none`, `lecun_tanh` (1.7159 * tanh(0.666 x)), `tanh`,
    `relu`, `gelu` (exact, erf-based), `silu`, `sigmoid`.

    ```mlir
    %y = liquid.activation "silu" %x : tensor<64xf32>
    ```
  }];
  let arguments = (ins Liquid_ActivationAttr:$kind, Liquid_F32Vector:$input);
  let results = (outs Liquid_F32Vector:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($result)";
}

def Liquid_ScaleShiftOp : Liquid_Op<"scale_shift", [Pure, AllTypesMatch<["input", "scale", "result"]>,
    DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "element-wise affine map x * scale (+ shift)";
  let description = [{
    The affine input/output maps of LTC cells. `shift` is optional
    (ncps's `linear` mapping).

    ```mlir
    %y = liquid.scale_shift %x, %w, %b : tensor<8xf32>, tensor<8xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Vector:$input, Liquid_F32Vector:$scale, Optional<Liquid_F32Vector>:$shift);
  let results = (outs Liquid_F32Vector:$result);
  let assemblyFormat = "$input `,` $scale (`,` $shift^)? attr-dict `:` type($result) (`,` type($shift)^)?";
  let hasVerifier = 1;
}

def Liquid_DenseOp : Liquid_Op<"dense", [Pure, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "fully connected layer y = act(W x + b)";
  let description = [{
    `W` is `[out, in]` as in `torch.nn.Linear`; `b` is `[out]`. `activation`
    takes the kinds of `liquid.activation`. `stored q8c` (set by
    liquid-quantize-cells) keeps `W` as int8 with a float scale per output;
    the product is computed in float.

    ```mlir
    %y = liquid.dense %x, %w, %b activation lecun_tanh
        : tensor<40xf32>, tensor<128x40xf32>, tensor<128xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Vector:$input, Liquid_F32Matrix:$weight, Liquid_F32Vector:$bias,
                       DefaultValuedAttr<Liquid_ActivationAttr, "::mlir::liquid::Activation::None">:$activation,
                       DefaultValuedAttr<Liquid_WeightStorageAttr, "::mlir::liquid::WeightStorage::F32">:$weight_type);
  let results = (outs Liquid_F32Vector:$result);
  let assemblyFormat = "$input `,` $weight `,` $bias (`activation` $activation^)? (`stored` $weight_type^)? attr-dict `:` type($input) `,` type($weight) `,` type($bias) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Cells
//===----------------------------------------------------------------------===//

def Liquid_CfCCellOp : Liquid_Op<"cfc_cell", [Pure]> {
  let summary = "closed-form continuous-time cell (ncps CfCCell heads)";
  let description = [{
    The heads of a CfC cell applied to the features `z` (the backbone output,
    or `concat(input, h)` without backbone), for the elapsed time `ts`:

    - `default`: `h' = tanh(ff1) * (1 - t) + t * tanh(ff2)`,
      `t = sigmoid(time_a * ts + time_b)`
    - `no_gate`: `h' = tanh(ff1) + t * tanh(ff2)`
    - `pure`: `h' = -A * exp(-ts * (|w_tau| + |ff1|)) * ff1 + A`

    Weights, in order: `ff1.W ff1.b ff2.W ff2.b time_a.W time_a.b time_b.W
    time_b.b` (default, no_gate) or `ff1.W ff1.b w_tau A` (pure), then, when
    `masked` is set, the `[hidden, features]` sparsity mask applied to ff1
    and ff2.

    ```mlir
    %h2 = liquid.cfc_cell default %z, %ts weights(%w1, %b1, %w2, %b2, %wa, %ba, %wb, %bb)
        : tensor<128xf32>, (tensor<32x128xf32>, tensor<32xf32>, tensor<32x128xf32>, tensor<32xf32>,
           tensor<32x128xf32>, tensor<32xf32>, tensor<32x128xf32>, tensor<32xf32>) -> tensor<32xf32>
    ```
  }];
  let arguments = (ins Liquid_CfCModeAttr:$mode, Liquid_F32Vector:$features, F32:$ts,
                       Variadic<Liquid_F32Tensor>:$weights, UnitAttr:$masked);
  let results = (outs Liquid_F32Vector:$result);
  let assemblyFormat = "$mode $features `,` $ts `weights` `(` $weights `)` attr-dict `:` type($features) `,` `(` type($weights) `)` `->` type($result)";
  let extraClassDeclaration = [{
    /// The heads the mode has: ff1, ff2, time_a, time_b (pure: ff1 only).
    unsigned getNumHeads() { return getMode() == CfCMode::Pure ? 1 : 4; }
    /// Head `i`'s [hidden, features] matrix and [hidden] bias.
    ::mlir::Value getHeadWeight(unsigned i) { return getWeights()[2 * i]; }
    ::mlir::Value getHeadBias(unsigned i) { return getWeights()[2 * i + 1]; }
    /// pure: the [hidden] time constant and amplitude (else null).
    ::mlir::Value getWTau() { return getMode() == CfCMode::Pure ? getWeights()[2] : nullptr; }
    ::mlir::Value getAmplitude() { return getMode() == CfCMode::Pure ? getWeights()[3] : nullptr; }
    /// masked: the [hidden, features] sparsity mask of ff1 and ff2 (else null).
    ::mlir::Value getMask() { return getMasked() ? getWeights().back() : nullptr; }
  }];
  let hasVerifier = 1;
}

def Liquid_LSTMCellOp : Liquid_Op<"lstm_cell", [Pure, AllTypesMatch<["h", "h_next", "c", "c_next"]>]> {
  let summary = "ncps mixed-memory LSTM cell";
  let description = [{
    `z = W_in x + b_in + W_rec h`; `i, ig, fg, og = split4(z)`;
    `c' = c * sigmoid(fg + 1) + tanh(i) * sigmoid(ig)`; `h' = tanh(c') * sigmoid(og)`.

    ```mlir
    %h2, %c2 = liquid.lstm_cell %x, %h, %c, %wi, %bi, %wr
        : tensor<8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<64x8xf32>, tensor<64xf32>, tensor<64x16xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Vector:$input, Liquid_F32Vector:$h, Liquid_F32Vector:$c,
                       Liquid_F32Matrix:$input_weight, Liquid_F32Vector:$input_bias, Liquid_F32Matrix:$recurrent_weight);
  let results = (outs Liquid_F32Vector:$h_next, Liquid_F32Vector:$c_next);
  let assemblyFormat = "$input `,` $h `,` $c `,` $input_weight `,` $input_bias `,` $recurrent_weight attr-dict `:` type($input) `,` type($h) `,` type($c) `,` type($input_weight) `,` type($input_bias) `,` type($recurrent_weight)";
  let hasVerifier = 1;
}

def Liquid_LTCCellOp : Liquid_Op<"ltc_cell", [Pure]> {
  let summary = "liquid time-constant cell (ncps LTCCell, fused semi-implicit solver)";
  let description = [{
    Runs `ode_unfolds` fused semi-implicit Euler sub-steps of `ts / ode_unfolds`
    on the membrane potentials `v` (`[N]`) driven by the (already mapped)
    sensory input `x` (`[S]`). Parameters (named operands), in order: `gleak vleak cm` (`[N]`),
    `sigma mu w erev sparsity_mask` (`[N, N]`, `[src, dst]`),
    `sensory_sigma sensory_mu sensory_w sensory_erev sensory_sparsity_mask`
    (`[S, N]`). With `positive` (ncps `implicit_param_constraints=True`),
    softplus is applied to `w`, `sensory_w`, `cm` and `gleak`.

    ```mlir
    %v2 = liquid.ltc_cell %x, %v, %ts params(%gl, %vl, %cm, %sg, %mu, %w, %er, %m, %ssg, %smu, %sw, %ser, %sm)
        {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64, positive}
        : tensor<8xf32>, tensor<32xf32>, (...) -> tensor<32xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Vector:$input, Liquid_F32Vector:$state, F32:$ts,
                       Liquid_F32Vector:$gleak, Liquid_F32Vector:$vleak, Liquid_F32Vector:$cm,
                       Liquid_F32Matrix:$sigma, Liquid_F32Matrix:$mu, Liquid_F32Matrix:$w,
                       Liquid_F32Matrix:$erev, Liquid_F32Matrix:$sparsity_mask,
                       Liquid_F32Matrix:$sensory_sigma, Liquid_F32Matrix:$sensory_mu,
                       Liquid_F32Matrix:$sensory_w, Liquid_F32Matrix:$sensory_erev,
                       Liquid_F32Matrix:$sensory_sparsity_mask, 
                       I64Attr:$ode_unfolds, F64Attr:$epsilon, UnitAttr:$positive);
  let results = (outs Liquid_F32Vector:$result);
  let assemblyFormat = "$input `,` $state `,` $ts `params` `(` $gleak `,` $vleak `,` $cm `,` $sigma `,` $mu `,` $w `,` $erev `,` $sparsity_mask `,` $sensory_sigma `,` $sensory_mu `,` $sensory_w `,` $sensory_erev `,` $sensory_sparsity_mask `)` attr-dict `:` type($input) `,` type($state) `,` `(` type($gleak) `,` type($vleak) `,` type($cm) `,` type($sigma) `,` type($mu) `,` type($w) `,` type($erev) `,` type($sparsity_mask) `,` type($sensory_sigma) `,` type($sensory_mu) `,` type($sensory_w) `,` type($sensory_erev) `,` type($sensory_sparsity_mask) `)` `->` type($result)";
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
      "::mlir::Value":$state, "::mlir::Value":$ts, "::mlir::ValueRange":$params,
      "int64_t":$ode_unfolds, "::llvm::APFloat":$epsilon, "bool":$positive), [{
    assert(params.size() == 13 && "ltc_cell takes 13 parameters");
    build($_builder, $_state, result, input, state, ts, params[0], params[1], params[2],
          params[3], params[4], params[5], params[6], params[7], params[8], params[9],
          params[10], params[11], params[12], ode_unfolds, epsilon, positive);
  }]>];
  let extraClassDeclaration = [{
    /// The 13 parameters in order (gleak .. sensory_sparsity_mask).
    ::mlir::Operation::operand_range getParams() { return getOperands().drop_front(3); }
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused kernels (produced by the fusion passes)
//===----------------------------------------------------------------------===//

def Liquid_CfCEpilogueOp : Liquid_Op<"cfc_epilogue", [Pure, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "fused element-wise epilogue of a CfC cell";
  let description = [{
    Consumes the one matrix product of the fused heads, `z = [ff1 | ff2 |
    time_a | time_b]` (`4 x hidden`; `hidden` for mode `pure`) and computes
    the new state as `liquid.cfc_cell` does. Mode `pure` takes `w_tau` and `A`
    as extra operands.

    ```mlir
    %h = liquid.cfc_epilogue default %z, %ts : tensor<128xf32> -> tensor<32xf32>
    ```
  }];
  let arguments = (ins Liquid_CfCModeAttr:$mode, Liquid_F32Vector:$heads, F32:$ts, Variadic<Liquid_F32Vector>:$extra);
  let results = (outs Liquid_F32Vector:$result);
  let assemblyFormat = "$mode $heads `,` $ts (`extra` `(` $extra^ `:` type($extra) `)`)? attr-dict `:` type($heads) `->` type($result)";
  let hasVerifier = 1;
}

def Liquid_LSTMEpilogueOp : Liquid_Op<"lstm_epilogue", [Pure, AllTypesMatch<["c", "h_next", "c_next"]>]> {
  let summary = "fused gate epilogue of the mixed-memory LSTM";
  let description = [{
    From the gate pre-activations `z = [i | ig | fg | og]` (`4 x hidden`) and
    the cell state `c`: `c' = c * sigmoid(fg + 1) + tanh(i) * sigmoid(ig)`,
    `h' = tanh(c') * sigmoid(og)`.

    ```mlir
    %h, %c2 = liquid.lstm_epilogue %z, %c : tensor<64xf32>, tensor<16xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Vector:$gates, Liquid_F32Vector:$c);
  let results = (outs Liquid_F32Vector:$h_next, Liquid_F32Vector:$c_next);
  let assemblyFormat = "$gates `,` $c attr-dict `:` type($gates) `,` type($c)";
  let hasVerifier = 1;
}

def Liquid_LTCSolveOp : Liquid_Op<"ltc_solve", [Pure,
    DeclareOpInterfaceMethods<Liquid_ScratchOpInterface>, DeclareOpInterfaceMethods<Liquid_WeightReaderOpInterface>]> {
  let summary = "one kernel for all ODE unfolds of an LTC step";
  let description = [{
    The LTC solver after `liquid-fuse-ltc`: every loop-invariant quantity is
    folded into the weights at compile time. Parameters, in order:
    `cm gleak gleak_vleak` (`[N]`, constraints applied),
    `sigma mu w_eff w_erev` (`[N, N]`, with `w_eff = pos(w) * mask` and
    `w_erev = w_eff * erev`), and the same four for
    the sensory synapses (`[S, N]`). The sensory currents are computed once
    per step; each unfold evaluates `N x N` sigmoids.

    ```mlir
    %v2 = liquid.ltc_solve %x, %v, %ts params(...) {ode_unfolds = 6 : i64, epsilon = 1.0e-08 : f64}
        : tensor<8xf32>, tensor<32xf32>, (...) -> tensor<32xf32>
    ```
  }];
  let arguments = (ins Liquid_F32Vector:$input, Liquid_F32Vector:$state, F32:$ts,
                       Liquid_F32Vector:$cm, Liquid_F32Vector:$gleak,
                       Liquid_F32Vector:$gleak_vleak, Liquid_F32Matrix:$sigma,
                       Liquid_F32Matrix:$mu, Liquid_F32Matrix:$w_eff, Liquid_F32Matrix:$w_erev,
                       Liquid_F32Matrix:$sensory_sigma, Liquid_F32Matrix:$sensory_mu,
                       Liquid_F32Matrix:$sensory_w_eff, Liquid_F32Matrix:$sensory_w_erev, 
                       I64Attr:$ode_unfolds, F64Attr:$epsilon);
  let results = (outs Liquid_F32Vector:$result);
  let assemblyFormat = "$input `,` $state `,` $ts `params` `(` $cm `,` $gleak `,` $gleak_vleak `,` $sigma `,` $mu `,` $w_eff `,` $w_erev `,` $sensory_sigma `,` $sensory_mu `,` $sensory_w_eff `,` $sensory_w_erev `)` attr-dict `:` type($input) `,` type($state) `,` `(` type($cm) `,` type($gleak) `,` type($gleak_vleak) `,` type($sigma) `,` type($mu) `,` type($w_eff) `,` type($w_erev) `,` type($sensory_sigma) `,` type($sensory_mu) `,` type($sensory_w_eff) `,` type($sensory_w_erev) `)` `->` type($result)";
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
      "::mlir::Value":$state, "::mlir::Value":$ts, "::mlir::ValueRange":$params,
      "int64_t":$ode_unfolds, "::llvm::APFloat":$epsilon), [{
    assert(params.size() == 11 && "ltc_solve takes 11 parameters");
    build($_builder, $_state, result, input, state, ts, params[0], params[1], params[2],
          params[3], params[4], params[5], params[6], params[7], params[8], params[9],
          params[10], ode_unfolds, epsilon);
  }]>];
  let extraClassDeclaration = [{
    /// The 11 parameters in order (cm .. sensory_w_erev).
    ::mlir::Operation::operand_range getParams() { return getOperands().drop_front(3); }
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Time
//===----------------------------------------------------------------------===//

def Liquid_ScanOp : Liquid_Op<"scan", [SingleBlockImplicitTerminator<"YieldOp">,
    RecursiveMemoryEffects]> {
  let summary = "runs a cell over time with per-step time spans";
  let description = [{
    Iterates the body over the leading (time) dimension of `inputs`
    (`[T, features]`) with the elapsed times `timespans` (`[T]`, regular or
    irregular). The body receives the step's input, its time span and the
    carried states, and yields the step's output followed by the new states.
    Results: the outputs of every step (`[T, outputs]`) and the final states.

    ```mlir
    %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x8xf32>, tensor<?xf32>, (tensor<32xf32>)
        -> tensor<?x32xf32>, tensor<32xf32> {
    ^bb0(%x: tensor<8xf32>, %t: f32, %h: tensor<32xf32>):
      ...
      liquid.yield %y, %h2 : tensor<32xf32>, tensor<32xf32>
    }
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$inputs, 1DTensorOf<[F32]>:$timespans,
                       Variadic<Liquid_F32Vector>:$inits);
  let results = (outs 2DTensorOf<[F32]>:$outputs, Variadic<Liquid_F32Vector>:$finals);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$inputs `,` $timespans `init` `(` $inits `)` attr-dict `:` type($inputs) `,` type($timespans) `,` `(` type($inits) `)` `->` type($outputs) (`,` type($finals)^)? $body";
  let hasRegionVerifier = 1;
}

def Liquid_YieldOp : Liquid_Op<"yield", [Pure, Terminator, HasParent<"ScanOp">]> {
  let summary = "yields a scan step's output and new states";
  let arguments = (ins Variadic<Liquid_F32Vector>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ValueRange()); }]>];
  let hasVerifier = 1;
}

include "liquid/Dialect/LiquidLMOps.td"

#endif // LIQUID_OPS_TD
