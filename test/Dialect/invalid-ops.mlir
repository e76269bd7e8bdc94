// RUN: sattn-opt %s -split-input-file -verify-diagnostics
//
// Every op verifier error. Shapes: B = 1, H = 2, S = 70, D = 128; query
// blocks of 64 (NQ = 2), key groups of 32 (G = 3).

#v = #sattn.variant<problem = <heads = 2, grid = [2, 4, 8], text_tokens = 6>>
func.func @attention_shape(%q: tensor<1x2x64x128xbf16>) {
  // expected-error @+1 {{'sattn.attention' op q has shape 1x2x64x128, expected 1x2x70x128}}
  %o = sattn.attention %q, %q, %q {variant = #v} : tensor<1x2x64x128xbf16>
  return
}

// -----

#v = #sattn.variant<problem = <heads = 2, grid = [2, 4, 8], text_tokens = 6, dtype = fp16>>
func.func @attention_dtype(%q: tensor<1x2x70x128xbf16>) {
  // expected-error @+1 {{'sattn.attention' op problem.dtype: is fp16 but the operands are 'bf16'}}
  %o = sattn.attention %q, %q, %q {variant = #v} : tensor<1x2x70x128xbf16>
  return
}

// -----

func.func @attention_rank(%q: tensor<2x70x128xbf16>) {
  // expected-error @+1 {{'sattn.attention' op operand #0 must be 4D tensor of bfloat16 type or 16-bit float or 32-bit float or 64-bit float values}}
  %o = sattn.attention %q, %q, %q {variant = #sattn.variant<problem = <heads = 2, grid = [2, 4, 8]>>} : tensor<2x70x128xbf16>
  return
}

// -----

func.func @reorder_tokens(%q: tensor<1x2x64x128xbf16>) {
  // expected-error @+1 {{'sattn.reorder' op input has 64 tokens but the layout has 70}}
  %r = sattn.reorder %q <kind = hilbert3d> over <heads = 2, grid = [2, 4, 8], text_tokens = 6> : tensor<1x2x64x128xbf16>
  return
}

// -----

func.func @reorder_tile(%q: tensor<1x2x70x128xbf16>) {
  // expected-error @+1 {{'sattn.unreorder' op reorder.tile: extent 0 is not positive (allowed: three positive integers [t, h, w]; not [1, 1, 1] only with kinds tile, hilbert2d, hilbert3d)}}
  %r = sattn.unreorder %q <kind = tile, tile = [1, 0, 2]> over <heads = 2, grid = [2, 4, 8], text_tokens = 6> : tensor<1x2x70x128xbf16>
  return
}

// -----

func.func @pool_shape(%q: tensor<1x2x70x128xbf16>) {
  // expected-error @+1 {{'sattn.pool' op means has shape 1x2x4x128, expected 1x2x5x128}}
  %p = sattn.pool %q tile 16 : tensor<1x2x70x128xbf16> -> tensor<1x2x4x128xf32>
  return
}

// -----

func.func @pool_tile(%q: tensor<1x2x70x128xbf16>) {
  // expected-error @+1 {{'sattn.pool' op attribute 'tile' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %p = sattn.pool %q tile 0 : tensor<1x2x70x128xbf16> -> tensor<1x2x4x128xf32>
  return
}

// -----

func.func @score_tiles(%m: tensor<1x2x5x128xf32>) {
  // expected-error @+1 {{'sattn.score' op scoring tiles 16x48 do not divide block_q = 64 and group = 32}}
  %s = sattn.score %m, %m {block_q = 64 : i64, group = 32 : i64, scale = 0.1 : f64, scoring = #sattn.scoring<pool_k = 48>, seq_len = 70 : i64} : (tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>) -> tensor<1x2x2x3xf32>
  return
}

// -----

func.func @score_query_means(%m: tensor<1x2x4x128xf32>, %k: tensor<1x2x5x128xf32>) {
  // expected-error @+1 {{'sattn.score' op query_means has shape 1x2x4x128, expected 1x2x5x128}}
  %s = sattn.score %m, %k {block_q = 64 : i64, group = 32 : i64, scale = 0.1 : f64, scoring = #sattn.scoring<>, seq_len = 70 : i64} : (tensor<1x2x4x128xf32>, tensor<1x2x5x128xf32>) -> tensor<1x2x2x3xf32>
  return
}

// -----

// With logit scoring the means are per query block and per key group.
func.func @score_logit_key_means(%q: tensor<1x2x2x128xf32>, %k: tensor<1x2x5x128xf32>) {
  // expected-error @+1 {{'sattn.score' op key_means has shape 1x2x5x128, expected 1x2x3x128}}
  %s = sattn.score %q, %k {block_q = 64 : i64, group = 32 : i64, scale = 0.1 : f64, scoring = #sattn.scoring<aggregate = logit>, seq_len = 70 : i64} : (tensor<1x2x2x128xf32>, tensor<1x2x5x128xf32>) -> tensor<1x2x2x3xf32>
  return
}

// -----

func.func @score_result(%m: tensor<1x2x5x128xf32>) {
  // expected-error @+1 {{'sattn.score' op scores has shape 1x2x2x2, expected 1x2x2x3}}
  %s = sattn.score %m, %m {block_q = 64 : i64, group = 32 : i64, scale = 0.1 : f64, scoring = #sattn.scoring<>, seq_len = 70 : i64} : (tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>) -> tensor<1x2x2x2xf32>
  return
}

// -----

func.func @score_parents_without_group(%m: tensor<1x2x5x128xf32>, %g: tensor<1x2x2x2xi32>, %n: tensor<1x2x2xi32>, %p: tensor<1x2x2x2xf32>) {
  // expected-error @+1 {{'sattn.score' op parents given without parent_group}}
  %s = sattn.score %m, %m parents(%g, %n, %p) {block_q = 64 : i64, group = 32 : i64, scale = 0.1 : f64, scoring = #sattn.scoring<>, seq_len = 70 : i64} : (tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>, tensor<1x2x2x2xi32>, tensor<1x2x2xi32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x3xf32>
  return
}

// -----

func.func @score_parent_group(%m: tensor<1x2x5x128xf32>, %g: tensor<1x2x2x2xi32>, %n: tensor<1x2x2xi32>, %p: tensor<1x2x2x2xf32>) {
  // expected-error @+1 {{'sattn.score' op parent_group 48 is not a larger multiple of group 32}}
  %s = sattn.score %m, %m parents(%g, %n, %p) {block_q = 64 : i64, group = 32 : i64, parent_group = 48 : i64, scale = 0.1 : f64, scoring = #sattn.scoring<>, seq_len = 70 : i64} : (tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>, tensor<1x2x2x2xi32>, tensor<1x2x2xi32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x3xf32>
  return
}

// -----

func.func @score_parent_scores(%m: tensor<1x2x5x128xf32>, %g: tensor<1x2x2x2xi32>, %n: tensor<1x2x2xi32>, %p: tensor<1x2x2x3xf32>) {
  // expected-error @+1 {{'sattn.score' op parent_scores has shape 1x2x2x3, expected 1x2x2x2}}
  %s = sattn.score %m, %m parents(%g, %n, %p) {block_q = 64 : i64, group = 32 : i64, parent_group = 64 : i64, scale = 0.1 : f64, scoring = #sattn.scoring<>, seq_len = 70 : i64} : (tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>, tensor<1x2x2x2xi32>, tensor<1x2x2xi32>, tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  return
}

// -----

func.func @select_density(%s: tensor<1x2x2x3xf32>) {
  // expected-error @+1 {{'sattn.select' op selection.density: value 2 is out of range (allowed: a number in (0, 1])}}
  %g, %n, %r = sattn.select %s {block_q = 64 : i64, group = 32 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<density = 2.0>} : (tensor<1x2x2x3xf32>) -> (tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)
  return
}

// -----

func.func @select_capacity(%s: tensor<1x2x2x3xf32>) {
  // expected-error @+1 {{'sattn.select' op groups hold 4 entries per row, but there are only 3 key groups}}
  %g, %n, %r = sattn.select %s {block_q = 64 : i64, group = 32 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<>} : (tensor<1x2x2x3xf32>) -> (tensor<1x2x2x4xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)
  return
}

// -----

func.func @select_counts(%s: tensor<1x2x2x3xf32>) {
  // expected-error @+1 {{'sattn.select' op groups counts has shape 1x2x3, expected 1x2x2}}
  %g, %n, %r = sattn.select %s {block_q = 64 : i64, group = 32 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<>} : (tensor<1x2x2x3xf32>) -> (tensor<1x2x2x3xi32>, tensor<1x2x3xi32>, tensor<1x2x2xf32>)
  return
}

// -----

func.func @select_adaptive(%s: tensor<1x2x2x3xf32>) {
  // expected-error @+1 {{'sattn.select' op adaptive.max_density: 0.1 is below adaptive.min_density = 0.2}}
  %g, %n, %r = sattn.select %s {adaptive = #sattn.adaptive<min_density = 0.2, max_density = 0.1>, block_q = 64 : i64, group = 32 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<>} : (tensor<1x2x2x3xf32>) -> (tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)
  return
}

// -----

func.func @tail_bins_count(%s: tensor<1x2x2x3xf32>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>, %m: tensor<1x2x3x128xf32>) {
  // expected-error @+1 {{'sattn.tail_bins' op tail.bins: value 65 is out of range (allowed: an integer from 0 to 64)}}
  %k, %v, %c = sattn.tail_bins %s, %g, %n, %m, %m {bins = 65 : i64, group = 32 : i64, seq_len = 70 : i64} : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x3x128xf32>, tensor<1x2x3x128xf32>) -> (tensor<1x2x2x65x128xf32>, tensor<1x2x2x65x128xf32>, tensor<1x2x2x65xf32>)
  return
}

// -----

func.func @tail_bins_keys(%s: tensor<1x2x2x3xf32>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>, %m: tensor<1x2x3x128xf32>) {
  // expected-error @+1 {{'sattn.tail_bins' op tail_keys has shape 1x2x2x4x128, expected 1x2x2x2x128}}
  %k, %v, %c = sattn.tail_bins %s, %g, %n, %m, %m {bins = 2 : i64, group = 32 : i64, seq_len = 70 : i64} : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x3x128xf32>, tensor<1x2x3x128xf32>) -> (tensor<1x2x2x4x128xf32>, tensor<1x2x2x2x128xf32>, tensor<1x2x2x2xf32>)
  return
}

// -----

func.func @tail_bins_means(%s: tensor<1x2x2x3xf32>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>, %m: tensor<1x2x5x128xf32>) {
  // expected-error @+1 {{'sattn.tail_bins' op key_means has shape 1x2x5x128, expected 1x2x3x128}}
  %k, %v, %c = sattn.tail_bins %s, %g, %n, %m, %m {bins = 2 : i64, group = 32 : i64, seq_len = 70 : i64} : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>) -> (tensor<1x2x2x2x128xf32>, tensor<1x2x2x2x128xf32>, tensor<1x2x2x2xf32>)
  return
}

// -----

func.func @attention_block_q(%q: tensor<1x2x70x128xbf16>, %g: tensor<1x2x1x3xi32>, %n: tensor<1x2x1xi32>) {
  // expected-error @+1 {{'sattn.sparse_attention' op block.q: unsupported value 96 (allowed: 64, 128)}}
  %o = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 32 : i64, block_q = 96 : i64, scale = 0.1 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x1x3xi32>, tensor<1x2x1xi32>) -> tensor<1x2x70x128xbf16>
  return
}

// -----

func.func @attention_block_k(%q: tensor<1x2x70x128xbf16>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>) {
  // expected-error @+1 {{'sattn.sparse_attention' op block.k: unsupported value 24 (allowed: 16, 32, 64, 128)}}
  %o = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 24 : i64, block_q = 64 : i64, scale = 0.1 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>) -> tensor<1x2x70x128xbf16>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<1x2x70x96xbf16>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>) {
  // expected-error @+1 {{'sattn.sparse_attention' op problem.head_dim: unsupported value 96 (allowed: 64, 128)}}
  %o = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 32 : i64, block_q = 64 : i64, scale = 0.1 : f64} : (tensor<1x2x70x96xbf16>, tensor<1x2x70x96xbf16>, tensor<1x2x70x96xbf16>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>) -> tensor<1x2x70x96xbf16>
  return
}

// -----

func.func @attention_scale(%q: tensor<1x2x70x128xbf16>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>) {
  // expected-error @+1 {{'sattn.sparse_attention' op problem.scale: is not positive (allowed: a positive number; default 1/sqrt(head_dim))}}
  %o = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 32 : i64, block_q = 64 : i64, scale = 0.0 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>) -> tensor<1x2x70x128xbf16>
  return
}

// -----

func.func @attention_lists(%q: tensor<1x2x70x128xbf16>, %g: tensor<1x2x3x3xi32>, %n: tensor<1x2x3xi32>) {
  // expected-error @+1 {{'sattn.sparse_attention' op groups has shape 1x2x3x3, expected 1x2x2x?}}
  %o = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 32 : i64, block_q = 64 : i64, scale = 0.1 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x3x3xi32>, tensor<1x2x3xi32>) -> tensor<1x2x70x128xbf16>
  return
}

// -----

func.func @attention_tail(%q: tensor<1x2x70x128xbf16>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>, %tk: tensor<1x2x2x4x128xf32>, %tn: tensor<1x2x2x2xf32>) {
  // expected-error @+1 {{'sattn.sparse_attention' op tail_log_counts has shape 1x2x2x2, expected 1x2x2x4}}
  %o = sattn.sparse_attention %q, %q, %q, %g, %n tail(%tk, %tk, %tn) {block_k = 32 : i64, block_q = 64 : i64, scale = 0.1 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x2x4x128xf32>, tensor<1x2x2x4x128xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x70x128xbf16>
  return
}

// -----

func.func @attention_lse(%q: tensor<1x2x70x128xbf16>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>) {
  // expected-error @+1 {{'sattn.sparse_attention' op lse has shape 1x2x64, expected 1x2x70}}
  %o, %l = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 32 : i64, block_q = 64 : i64, scale = 0.1 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>) -> (tensor<1x2x70x128xbf16>, tensor<1x2x64xf32>)
  return
}

// -----

func.func @linear_routing(%q: tensor<1x2x70x128xbf16>) {
  // expected-error @+1 {{'sattn.linear_attention' op linear.routing: has 3 entries for 2 heads}}
  %o = sattn.linear_attention %q, %q, %q {layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, linear = #sattn.linear<enabled = true, routing = [sparse, linear, hybrid]>} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>) -> tensor<1x2x70x128xbf16>
  return
}

// -----

func.func @linear_tokens(%q: tensor<1x2x64x128xbf16>) {
  // expected-error @+1 {{'sattn.linear_attention' op q has 64 tokens but the layout has 70}}
  %o = sattn.linear_attention %q, %q, %q {layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, linear = #sattn.linear<enabled = true>} : (tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>) -> tensor<1x2x64x128xbf16>
  return
}

// -----

func.func @linear_merge(%q: tensor<1x2x70x128xbf16>, %o: tensor<1x2x70x128xf16>, %l: tensor<1x2x70xf32>) {
  // expected-error @+1 {{'sattn.linear_attention' op sparse_out type 'tensor<1x2x70x128xf16>' differs from q type 'tensor<1x2x70x128xbf16>'}}
  %r = sattn.linear_attention %q, %q, %q merge(%o, %l) {layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, linear = #sattn.linear<enabled = true>} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xf16>, tensor<1x2x70xf32>) -> tensor<1x2x70x128xbf16>
  return
}

// -----

func.func @select_two_densities(%s: tensor<1x2x2x3xf32>, %d: tensor<1x2xf64>) {
  // expected-error @+1 {{'sattn.select' op takes densities or a density, not both}}
  %g, %n, %r = sattn.select %s densities(%d) {block_q = 64 : i64, density = 0.5 : f64, group = 32 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<>} : (tensor<1x2x2x3xf32>, tensor<1x2xf64>) -> (tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)
  return
}

// -----

func.func @select_fixed_density(%s: tensor<1x2x2x3xf32>) {
  // expected-error @+1 {{'sattn.select' op density 1.5 is outside (0, 1]}}
  %g, %n, %r = sattn.select %s {block_q = 64 : i64, density = 1.5 : f64, group = 32 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<>} : (tensor<1x2x2x3xf32>) -> (tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)
  return
}

// -----

func.func @adaptive_density_shape(%s: tensor<1x2x2x3xf32>) {
  // expected-error @+1 {{'sattn.adaptive_density' op head_density has shape 2x1, expected 1x2}}
  %d = sattn.adaptive_density %s {adaptive = #sattn.adaptive<>, block_q = 64 : i64, group = 32 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<>} : (tensor<1x2x2x3xf32>) -> tensor<2x1xf64>
  return
}

// -----

func.func @pool_order_without_layout(%x: tensor<1x1x128x64xbf16>) {
  // expected-error @+1 {{token_order and layout come together}}
  %m = sattn.pool %x tile 16 {token_order = #sattn.reorder<kind = hilbert2d>} : tensor<1x1x128x64xbf16> -> tensor<1x1x8x64xf32>
  return
}

// -----

func.func @pool_order_wrong_length(%x: tensor<1x1x100x64xbf16>) {
  // expected-error @+1 {{reads 100 tokens through a token order of 128}}
  %m = sattn.pool %x tile 16 {token_order = #sattn.reorder<kind = hilbert2d>, layout = #sattn.problem<heads = 1, head_dim = 64, grid = [1, 8, 16]>} : tensor<1x1x100x64xbf16> -> tensor<1x1x7x64xf32>
  return
}
