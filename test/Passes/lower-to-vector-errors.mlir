// RUN: liquid-opt %s -split-input-file -verify-diagnostics --liquid-to-vector

// Rows start at liquid.embedding: an op reading a function argument as rows
// is a one-line error, not a crash.
func.func @rows_from_argument(%x: tensor<?x64xf32>, %pos: index) -> tensor<?x64xf32> attributes {liquid.max_rows = 4 : i64, liquid.max_context = 16 : i64} {
  %w = liquid.weight "w" : tensor<64xf32>
  // expected-error @+1 {{reads a function argument as rows; a language model's rows start at liquid.embedding of the token ids}}
  %y = liquid.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A cell function needs exactly one scan.
// expected-error @+1 {{must contain exactly one liquid.scan to be lowered}}
func.func @two_scans(%xs: tensor<?x4xf32>, %ts: tensor<?xf32>, %h0: tensor<4xf32>) -> tensor<?x4xf32> {
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x4xf32>, tensor<?xf32>, (tensor<4xf32>) -> tensor<?x4xf32>, tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>, %t: f32, %h: tensor<4xf32>):
    liquid.yield %x, %x : tensor<4xf32>, tensor<4xf32>
  }
  %ys2, %hT2 = liquid.scan %ys, %ts init(%h0) : tensor<?x4xf32>, tensor<?xf32>, (tensor<4xf32>) -> tensor<?x4xf32>, tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>, %t: f32, %h: tensor<4xf32>):
    liquid.yield %x, %x : tensor<4xf32>, tensor<4xf32>
  }
  return %ys2 : tensor<?x4xf32>
}
