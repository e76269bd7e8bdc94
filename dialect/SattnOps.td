//===- SattnOps.td - sattn.attention and the stage ops -----*- tablegen -*-===//
//
// `sattn.attention` holds a variant; `sattn-expand` rewrites it into the stage
// ops below, one per stage of SPEC §4, on tensors. Shapes use B = batch,
// H = heads, S = tokens, D = head dim, NQ = ceil(S / block_q) query blocks and
// G = ceil(S / group) key groups of a scoring level. Index lists hold, per
// (batch, head, query block), the kept key groups in ascending order, with a
// count.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_OPS_TD
#define SATTN_OPS_TD

include "dialect/SattnAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"

// Ops with one result name it after what it holds (`%means = sattn.pool`),
// which the manifest uses for buffer names too.
def Sattn_NamedResult
    : DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>;

// [B, H, S, D] activations: bf16/fp16 on the GPU, f32/f64 in references.
def Sattn_Activations : TensorRankOf<[BF16, F16, F32, F64], [4]>;
// [B, H, S, D] or [B, H, S]: what reorder and unreorder permute along S.
def Sattn_Sequence : TensorRankOf<[BF16, F16, F32, F64], [3, 4]>;
def Sattn_F64Rank2 : TensorRankOf<[F64], [2]>;
def Sattn_F32Rank3 : TensorRankOf<[F32], [3]>;
def Sattn_F32Rank4 : TensorRankOf<[F32], [4]>;
def Sattn_F32Rank5 : TensorRankOf<[F32], [5]>;
def Sattn_IndexLists : TensorRankOf<[I32], [4]>;
def Sattn_Counts : TensorRankOf<[I32], [3]>;
def Sattn_PositiveI64 : ConfinedAttr<I64Attr, [IntPositive]>;

def Sattn_AttentionOp : Sattn_Op<"attention",
    [Pure, Sattn_NamedResult, AllTypesMatch<["q", "k", "v", "out"]>]> {
  let summary = "attention computed as a sparse-attention variant says";
  let description = [{
    `out = attention(q, k, v)` with the sparsity, reordering, tail bins and
    linear path of `variant`. The operand shape must match the variant's
    problem (`[batch, heads, S, head_dim]`). `sattn-expand` turns it into
    stage ops.

    Example:
    ```mlir
    %o = sattn.attention %q, %k, %v {variant = #sattn.variant<
           problem = <heads = 40, grid = [21, 30, 52]>>}
         : tensor<1x40x32760x128xbf16>
    ```
  }];
  let arguments = (ins Sattn_Activations:$q, Sattn_Activations:$k,
                       Sattn_Activations:$v, Sattn_VariantAttr:$variant);
  let results = (outs Sattn_Activations:$out);
  let assemblyFormat = "$q `,` $k `,` $v attr-dict `:` type($out)";
  let hasVerifier = 1;
}

class Sattn_PermuteOp<string mnemonic, string what>
    : Sattn_Op<mnemonic,
               [Pure, Sattn_NamedResult, AllTypesMatch<["input", "result"]>]> {
  let arguments = (ins Sattn_Sequence:$input, Sattn_ReorderAttr:$order,
                       Sattn_ProblemAttr:$layout);
  let results = (outs Sattn_Sequence:$result);
  let assemblyFormat =
      "$input $order `over` $layout attr-dict `:` type($input)";
  let hasVerifier = 1;
  let summary = what;
}

def Sattn_ReorderOp : Sattn_PermuteOp<"reorder",
    "permutes the tokens into the variant's order (SPEC §4.1)"> {
  let description = [{
    `result[..., i, ...] = input[..., pi(i), ...]` along S, where `pi` is the
    token order of `order` over the video grid of `layout`; text tokens keep
    their place.

    Example:
    ```mlir
    %qr = sattn.reorder %q <kind = hilbert3d> over <heads = 40, grid = [21, 30, 52]>
          : tensor<1x40x32760x128xbf16>
    ```
  }];
}

def Sattn_UnreorderOp : Sattn_PermuteOp<"unreorder",
    "puts tokens back into frame-major order (SPEC §4.8)"> {
  let description = [{
    The inverse of `sattn.reorder` with the same order and layout. Takes
    `[B, H, S, D]` outputs and `[B, H, S]` log-sum-exp rows alike.

    Example:
    ```mlir
    %o = sattn.unreorder %or <kind = hilbert3d> over <heads = 40, grid = [21, 30, 52]>
         : tensor<1x40x32760x128xbf16>
    ```
  }];
}

def Sattn_PoolOp : Sattn_Op<"pool", [Pure, Sattn_NamedResult]> {
  let summary = "means over consecutive tiles of tokens (SPEC §4.2)";
  let description = [{
    `means[b, h, t, :]` is the mean of tokens `t*tile ... min((t+1)*tile, S)-1`;
    the last tile may be partial and is averaged over its own token count.

    Example:
    ```mlir
    %qp = sattn.pool %qr tile 16
          : tensor<1x40x32760x128xbf16> -> tensor<1x40x2048x128xf32>
    ```

    With `token_order` and `layout` (set by `sattn-fuse-reorder`), `input`
    is in frame-major order and the tiles are taken over the reordered
    sequence: the op is `sattn.pool` of `sattn.reorder %input` with that
    order and layout, read through the token order without the copy.
  }];
  let arguments = (ins Sattn_Activations:$input, Sattn_PositiveI64:$tile,
                       OptionalAttr<Sattn_ReorderAttr>:$token_order,
                       OptionalAttr<Sattn_ProblemAttr>:$layout);
  let results = (outs Sattn_F32Rank4:$means);
  let assemblyFormat =
      "$input `tile` $tile attr-dict `:` type($input) `->` type($means)";
  let hasVerifier = 1;
}

def Sattn_ScoreOp : Sattn_Op<"score",
    [Pure, Sattn_NamedResult, AttrSizedOperandSegments]> {
  let summary = "scores of (query block, key group) pairs at one level";
  let description = [{
    `scores[b, h, i, j]` estimates the attention mass from query block `i` to
    key group `j` of `group` tokens (SPEC §4.3). With `softmax-sum` the means
    are pooled over the scoring tiles; with `logit` over whole query blocks
    and key groups. Given the previous level's index lists (`parents`), only
    children of kept groups are scored; the others inherit their parent's
    score spread over its children, so that the tensor stays dense and
    ranks every group for the tail bins.

    Example:
    ```mlir
    %s = sattn.score %qp, %kp {block_q = 128 : i64, group = 128 : i64,
                               scale = 0.088 : f64, scoring = #sattn.scoring<>,
                               seq_len = 32760 : i64}
         : (tensor<1x40x2048x128xf32>, tensor<1x40x2048x128xf32>)
         -> tensor<1x40x256x256xf32>
    ```
  }];
  let arguments = (ins Sattn_F32Rank4:$query_means, Sattn_F32Rank4:$key_means,
                       Optional<Sattn_IndexLists>:$parent_groups,
                       Optional<Sattn_Counts>:$parent_counts,
                       Optional<Sattn_F32Rank4>:$parent_scores,
                       Sattn_ScoringAttr:$scoring, Sattn_PositiveI64:$block_q,
                       Sattn_PositiveI64:$group,
                       OptionalAttr<Sattn_PositiveI64>:$parent_group,
                       Sattn_PositiveI64:$seq_len, F64Attr:$scale);
  let results = (outs Sattn_F32Rank4:$scores);
  let assemblyFormat = [{
    $query_means `,` $key_means
    (`parents` `(` $parent_groups^ `,` $parent_counts `,` $parent_scores `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sattn_SelectOp : Sattn_Op<"select", [Pure, AttrSizedOperandSegments]> {
  let summary = "index lists of the kept key groups (SPEC §4.4)";
  let description = [{
    Per (batch, head, query block): the kept key groups, ascending, and their
    count. The forced groups of `selection.keep` are kept first and count in
    the budget; the rest are the best-scored groups, ties to the lower index.
    `recall` is the kept share of the row's score (the estimated recall). With `parents`, only children of kept parent groups can be kept.
    The topk density is the step's, which the runtime passes from the
    schedule; with `density` it is that constant instead (the probe
    selection of adaptive densities), and with `densities` each head's own
    (a `sattn.adaptive_density` result).

    Example:
    ```mlir
    %g, %n, %r = sattn.select %s {block_q = 128 : i64, group = 128 : i64,
                   layout = #sattn.problem<heads = 40, grid = [21, 30, 52]>,
                   selection = #sattn.selection<>}
        : (tensor<1x40x256x256xf32>)
        -> (tensor<1x40x256x256xi32>, tensor<1x40x256xi32>, tensor<1x40x256xf32>)
    ```
  }];
  let arguments = (ins Sattn_F32Rank4:$scores,
                       Optional<Sattn_IndexLists>:$parent_groups,
                       Optional<Sattn_Counts>:$parent_counts,
                       Optional<Sattn_F64Rank2>:$head_density,
                       Sattn_SelectionAttr:$selection,
                       OptionalAttr<Sattn_AdaptiveAttr>:$adaptive,
                       Sattn_ProblemAttr:$layout, Sattn_PositiveI64:$block_q,
                       Sattn_PositiveI64:$group,
                       OptionalAttr<Sattn_PositiveI64>:$parent_group,
                       OptionalAttr<F64Attr>:$density);
  let results = (outs Sattn_IndexLists:$groups, Sattn_Counts:$counts,
                      Sattn_F32Rank3:$recall);
  let assemblyFormat = [{
    $scores (`parents` `(` $parent_groups^ `,` $parent_counts `)`)?
    (`densities` `(` $head_density^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sattn_AdaptiveDensityOp
    : Sattn_Op<"adaptive_density",
               [Pure, AttrSizedOperandSegments, Sattn_NamedResult]> {
  let summary = "each head's density from estimated recall (SPEC §4)";
  let description = [{
    From a probe selection's final level (its dense scores and, with
    levels, the probe's parent lists): per (batch, head) the estimated
    recall curve, recall(k) = the mean over query blocks of the normalized
    score mass of the first max(k, forced) ranked groups (1 for a dense
    row), and the density k / G of the smallest k reaching
    `adaptive.target_recall`, clamped into [min_density, max_density].

    Example:
    ```mlir
    %d = sattn.adaptive_density %s {adaptive = #sattn.adaptive<>,
           block_q = 128 : i64, group = 128 : i64,
           layout = #sattn.problem<heads = 40, grid = [21, 30, 52]>,
           selection = #sattn.selection<>}
        : (tensor<1x40x256x256xf32>) -> tensor<1x40xf64>
    ```
  }];
  let arguments = (ins Sattn_F32Rank4:$scores,
                       Optional<Sattn_IndexLists>:$parent_groups,
                       Optional<Sattn_Counts>:$parent_counts,
                       Sattn_SelectionAttr:$selection,
                       Sattn_AdaptiveAttr:$adaptive,
                       Sattn_ProblemAttr:$layout, Sattn_PositiveI64:$block_q,
                       Sattn_PositiveI64:$group,
                       OptionalAttr<Sattn_PositiveI64>:$parent_group);
  let results = (outs Sattn_F64Rank2:$head_density);
  let assemblyFormat = [{
    $scores (`parents` `(` $parent_groups^ `,` $parent_counts `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sattn_TailBinsOp : Sattn_Op<"tail_bins", [Pure]> {
  let summary = "virtual keys and values of the dropped groups (SPEC §4.5)";
  let description = [{
    The groups a query block did not keep, in score order, are cut into
    `bins` runs of near-equal group counts; bin `b` gives the mean key and
    value of its tokens and `log n_b`, its token count, for the softmax.

    Example:
    ```mlir
    %tk, %tv, %tn = sattn.tail_bins %s, %g, %n, %kg, %vg
        {bins = 4 : i64, group = 32 : i64, seq_len = 32760 : i64}
        : (tensor<1x40x256x1024xf32>, tensor<1x40x256x1024xi32>,
           tensor<1x40x256xi32>, tensor<1x40x1024x128xf32>,
           tensor<1x40x1024x128xf32>)
        -> (tensor<1x40x256x4x128xf32>, tensor<1x40x256x4x128xf32>,
            tensor<1x40x256x4xf32>)
    ```
  }];
  let arguments = (ins Sattn_F32Rank4:$scores, Sattn_IndexLists:$groups,
                       Sattn_Counts:$counts, Sattn_F32Rank4:$key_means,
                       Sattn_F32Rank4:$value_means, Sattn_PositiveI64:$bins,
                       Sattn_PositiveI64:$group, Sattn_PositiveI64:$seq_len);
  let results = (outs Sattn_F32Rank5:$tail_keys, Sattn_F32Rank5:$tail_values,
                      Sattn_F32Rank4:$tail_log_counts);
  let assemblyFormat = [{
    $scores `,` $groups `,` $counts `,` $key_means `,` $value_means
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sattn_SparseAttentionOp : Sattn_Op<"sparse_attention",
    [Pure, AttrSizedOperandSegments, AllTypesMatch<["q", "k", "v", "out"]>]> {
  let summary = "block-sparse attention over index lists (SPEC §4.6)";
  let description = [{
    Each query of block `i` attends exactly (softmax with `scale`) to the
    keys of the groups `groups[b, h, i, 0 .. counts[b, h, i])` of `block_k`
    tokens, plus, when given, the tail bins' virtual keys with logit
    `q . k_bin * scale + log n_bin`. The optional `lse` result is each row's
    log-sum-exp, for merging with the linear path.

    Example:
    ```mlir
    %o = sattn.sparse_attention %q, %k, %v, %g, %n
           tail(%tk, %tv, %tn) {block_k = 32 : i64, block_q = 128 : i64,
                                scale = 0.088 : f64}
        : (tensor<1x40x32760x128xbf16>, tensor<1x40x32760x128xbf16>,
           tensor<1x40x32760x128xbf16>, tensor<1x40x256x1024xi32>,
           tensor<1x40x256xi32>, tensor<1x40x256x4x128xf32>,
           tensor<1x40x256x4x128xf32>, tensor<1x40x256x4xf32>)
        -> tensor<1x40x32760x128xbf16>
    ```

    With `token_order` and `layout` (set by `sattn-fuse-reorder`), q, k, v,
    `out` and `lse` are in frame-major order while the index lists and tail
    bins refer to the reordered sequence: the op is `sattn.unreorder` of the
    sparse attention of `sattn.reorder`ed q, k and v, its kernel reading and
    writing rows through the token order instead of permuted copies.
  }];
  let arguments = (ins Sattn_Activations:$q, Sattn_Activations:$k,
                       Sattn_Activations:$v, Sattn_IndexLists:$groups,
                       Sattn_Counts:$counts,
                       Optional<Sattn_F32Rank5>:$tail_keys,
                       Optional<Sattn_F32Rank5>:$tail_values,
                       Optional<Sattn_F32Rank4>:$tail_log_counts,
                       Sattn_PositiveI64:$block_q, Sattn_PositiveI64:$block_k,
                       F64Attr:$scale,
                       OptionalAttr<Sattn_ReorderAttr>:$token_order,
                       OptionalAttr<Sattn_ProblemAttr>:$layout);
  let results = (outs Sattn_Activations:$out, Optional<Sattn_F32Rank3>:$lse);
  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $groups `,` $counts
    (`tail` `(` $tail_keys^ `,` $tail_values `,` $tail_log_counts `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sattn_LinearAttentionOp : Sattn_Op<"linear_attention",
    [Pure, Sattn_NamedResult, AttrSizedOperandSegments, AllTypesMatch<["q", "k", "v", "out"]>]> {
  let summary = "linear attention within each frame, routed per head (SPEC §4.7)";
  let description = [{
    `o_lin(q) = phi(q)^T sum_f phi(k) v^T / (phi(q)^T sum_f phi(k))` over the
    keys of the query's frame, `phi = elu + 1`, on tokens in frame-major
    order. Heads routed `sparse` pass `sparse_out` through; `linear` heads
    take `o_lin`; `hybrid` heads merge `sparse_out` (weighted by
    `exp(sparse_lse)`) with `o_lin` (weighted by its normalizer).

    Example:
    ```mlir
    %o = sattn.linear_attention %q, %k, %v merge(%os, %lse)
        {layout = #sattn.problem<heads = 40, grid = [21, 30, 52]>,
         linear = #sattn.linear<enabled = true>}
        : (tensor<1x40x32760x128xbf16>, tensor<1x40x32760x128xbf16>,
           tensor<1x40x32760x128xbf16>, tensor<1x40x32760x128xbf16>,
           tensor<1x40x32760xf32>) -> tensor<1x40x32760x128xbf16>
    ```
  }];
  let arguments = (ins Sattn_Activations:$q, Sattn_Activations:$k,
                       Sattn_Activations:$v,
                       Optional<Sattn_Activations>:$sparse_out,
                       Optional<Sattn_F32Rank3>:$sparse_lse,
                       Sattn_LinearAttr:$linear, Sattn_ProblemAttr:$layout);
  let results = (outs Sattn_Activations:$out);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`merge` `(` $sparse_out^ `,` $sparse_lse `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // SATTN_OPS_TD
