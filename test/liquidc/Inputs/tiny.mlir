func.func @tiny(%xs: tensor<?x2xf32>, %ts: tensor<?xf32>, %h0: tensor<4xf32>) -> (tensor<?x4xf32>, tensor<4xf32>) {
  %w1 = liquid.weight "ff1.w" : tensor<4x6xf32>
  %b1 = liquid.weight "ff1.b" : tensor<4xf32>
  %tau = liquid.weight "w_tau" : tensor<4xf32>
  %a = liquid.weight "A" : tensor<4xf32>
  %ys, %hT = liquid.scan %xs, %ts init(%h0) : tensor<?x2xf32>, tensor<?xf32>, (tensor<4xf32>) -> tensor<?x4xf32>, tensor<4xf32> {
  ^bb0(%x: tensor<2xf32>, %t: f32, %h: tensor<4xf32>):
    %z = liquid.concat %x, %h : tensor<2xf32>, tensor<4xf32> -> tensor<6xf32>
    %h2 = liquid.cfc_cell pure %z, %t weights(%w1, %b1, %tau, %a) : tensor<6xf32>, (tensor<4x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    liquid.yield %h2, %h2 : tensor<4xf32>, tensor<4xf32>
  }
  return %ys, %hT : tensor<?x4xf32>, tensor<4xf32>
}
