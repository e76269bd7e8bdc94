//===- SattnAttrs.td - #sattn.variant and its sections -----*- tablegen -*-===//
//
// One attribute per section of the variant format (SPEC §3), and
// #sattn.variant holding them. Defaults come from the initializers of
// dialect/VariantParams.h, the one place they are written; a section left out
// of a variant takes all its defaults. The parameter syntax matches the JSON
// format field for field.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_ATTRS_TD
#define SATTN_ATTRS_TD

include "dialect/SattnDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Sattn_Attr<string name, string attrMnemonic>
    : AttrDef<Sattn_Dialect, name> {
  let mnemonic = attrMnemonic;
  let assemblyFormat = "`<` struct(params) `>`";
}

// Scalars and lists spelled as in the JSON format: floats printed in their
// shortest round-tripping form, enums by their JSON names, lists in brackets.
class Sattn_IntParameter<string default>
    : DefaultValuedParameter<"int64_t", default>;

class Sattn_FloatParameter<string default>
    : DefaultValuedParameter<"::sattn::F64", "::sattn::F64{" # default # "}"> {
  let parser = "::sattn::parseField<::sattn::F64>($_parser)";
  let printer = "::sattn::printField($_printer, $_self)";
}

def Sattn_OptionalFloatParameter
    : OptionalParameter<"std::optional<::sattn::F64>"> {
  let parser = "::sattn::parseField<std::optional<::sattn::F64>>($_parser)";
  let printer = "::sattn::printField($_printer, *$_self)";
}

class Sattn_EnumParameter<string enum, string default>
    : DefaultValuedParameter<"::sattn::" # enum, default> {
  let parser = "::sattn::parseField<::sattn::" # enum # ">($_parser)";
  let printer = "::sattn::printField($_printer, $_self)";
}

class Sattn_ListParameter<string element, string default = "">
    : ArrayRefParameter<element> {
  let parser = "::sattn::parseField<::llvm::SmallVector<" # element #
               ">>($_parser)";
  let printer = "::sattn::printField($_printer, $_self)";
  let defaultValue = default;
  let comparator = "::llvm::ArrayRef<" # element # ">($_lhs) == "
                   "::llvm::ArrayRef<" # element # ">($_rhs)";
}

def Sattn_ProblemAttr : Sattn_Attr<"Problem", "problem"> {
  let summary = "the attention problem: shape, token layout and dtype";
  let description = [{
    `q, k, v` are `[batch, heads, S, head_dim]` with
    `S = T*H*W + text_tokens`; video tokens are frame-major and the text
    tokens sit `first` or `last`. `scale` defaults to `1/sqrt(head_dim)`.

    Example: `#sattn.problem<heads = 40, grid = [21, 30, 52]>`
  }];
  let parameters = (ins
    Sattn_IntParameter<"::sattn::ProblemParams{}.batch">:$batch,
    "int64_t":$heads,
    Sattn_IntParameter<"::sattn::ProblemParams{}.headDim">:$head_dim,
    Sattn_ListParameter<"int64_t">:$grid,
    Sattn_IntParameter<"::sattn::ProblemParams{}.textTokens">:$text_tokens,
    Sattn_EnumParameter<"TextPosition",
                        "::sattn::ProblemParams{}.textPosition">:$text_position,
    Sattn_EnumParameter<"DType", "::sattn::ProblemParams{}.dtype">:$dtype,
    Sattn_OptionalFloatParameter:$scale
  );
  let extraClassDeclaration = [{
    ::sattn::ProblemParams getParams() const;
    static ProblemAttr get(::mlir::MLIRContext *ctx,
                           const ::sattn::ProblemParams &params);
  }];
}

def Sattn_ReorderAttr : Sattn_Attr<"Reorder", "reorder"> {
  let summary = "the token permutation (SPEC §4.1)";
  let description = [{
    `kind` is one of identity, tile, hilbert2d, hilbert3d, hwf, fwh; `tile`
    gives the tile extents `[t, h, w]` for the tiled kinds.

    Example: `#sattn.reorder<kind = hilbert3d>`
  }];
  let parameters = (ins
    Sattn_EnumParameter<"ReorderKind", "::sattn::ReorderParams{}.kind">:$kind,
    Sattn_ListParameter<"int64_t", "::sattn::defaultReorderTile()">:$tile
  );
}

def Sattn_BlockAttr : Sattn_Attr<"Block", "block"> {
  let summary = "query block and key group sizes of the sparse kernel";
  let description = "Example: `#sattn.block<q = 128, k = 32>`";
  let parameters = (ins
    Sattn_IntParameter<"::sattn::BlockParams{}.q">:$q,
    Sattn_IntParameter<"::sattn::BlockParams{}.k">:$k
  );
}

def Sattn_ScoringAttr : Sattn_Attr<"Scoring", "scoring"> {
  let summary = "how key groups are scored (SPEC §4.2-4.3)";
  let description = [{
    `pool_q`/`pool_k` are the tile sizes of the pooled means, `aggregate` is
    softmax-sum or logit, `levels` the key-group sizes from coarse to fine
    (default: one level of `block.k`).

    Example: `#sattn.scoring<levels = [128, 32]>`
  }];
  let parameters = (ins
    Sattn_IntParameter<"::sattn::ScoringParams{}.poolQ">:$pool_q,
    Sattn_IntParameter<"::sattn::ScoringParams{}.poolK">:$pool_k,
    Sattn_EnumParameter<"ScoreAggregate",
                        "::sattn::ScoringParams{}.aggregate">:$aggregate,
    Sattn_ListParameter<"int64_t", "::llvm::SmallVector<int64_t>()">:$levels
  );
}

def Sattn_SelectionAttr : Sattn_Attr<"Selection", "selection"> {
  let summary = "which key groups each query block keeps (SPEC §4.4)";
  let description = [{
    `rule` is topk (keeps `max(1, floor(density * G))` groups), topp (keeps
    groups until their share reaches `p`) or threshold; `keep` forces text,
    diagonal or first_frame groups in.

    Example: `#sattn.selection<density = 0.1, keep = [diagonal]>`
  }];
  let parameters = (ins
    Sattn_EnumParameter<"SelectionRule", "::sattn::SelectionParams{}.rule">:$rule,
    Sattn_FloatParameter<"::sattn::SelectionParams{}.density">:$density,
    Sattn_FloatParameter<"::sattn::SelectionParams{}.p">:$p,
    Sattn_FloatParameter<"::sattn::SelectionParams{}.threshold">:$threshold,
    Sattn_ListParameter<"::sattn::KeepGroup",
                        "::sattn::defaultKeep()">:$keep
  );
}

def Sattn_ScheduleAttr : Sattn_Attr<"Schedule", "schedule"> {
  let summary = "the density across denoising steps (SPEC §4, DFSAttn)";
  let description = [{
    Dense for `dense_warmup_steps`, then a mask refreshed every
    `refresh_every` steps whose density drops by `density_decay` at each
    refresh down to `min_density`; or `density_by_step` pairs.

    Example: `#sattn.schedule<dense_warmup_steps = 12, refresh_every = 12>`
  }];
  let parameters = (ins
    Sattn_IntParameter<"::sattn::ScheduleParams{}.denseWarmupSteps">:$dense_warmup_steps,
    Sattn_IntParameter<"::sattn::ScheduleParams{}.refreshEvery">:$refresh_every,
    Sattn_FloatParameter<"::sattn::ScheduleParams{}.densityDecay">:$density_decay,
    Sattn_FloatParameter<"::sattn::ScheduleParams{}.minDensity">:$min_density,
    Sattn_ListParameter<"::sattn::StepDensity",
                        "::llvm::SmallVector<::sattn::StepDensity>()">:$density_by_step
  );
}

def Sattn_AdaptiveAttr : Sattn_Attr<"Adaptive", "adaptive"> {
  let summary = "per-head density from estimated recall";
  let description = [{
    Present in a variant: each head's density at a refresh is the smallest
    reaching `target_recall` of estimated recall, within
    `[min_density, max_density]`.

    Example: `#sattn.adaptive<target_recall = 0.9>`
  }];
  let parameters = (ins
    // Writing the section turns the adaptive density on.
    DefaultValuedParameter<"bool", "true">:$enabled,
    Sattn_FloatParameter<"::sattn::AdaptiveParams{}.targetRecall">:$target_recall,
    Sattn_FloatParameter<"::sattn::AdaptiveParams{}.minDensity">:$min_density,
    Sattn_FloatParameter<"::sattn::AdaptiveParams{}.maxDensity">:$max_density
  );
}

def Sattn_TailAttr : Sattn_Attr<"Tail", "tail"> {
  let summary = "aggregated tail bins (SPEC §4.5, UTA)";
  let description = "Example: `#sattn.tail<bins = 4>`";
  let parameters = (ins
    Sattn_IntParameter<"::sattn::TailParams{}.bins">:$bins
  );
}

def Sattn_LinearAttr : Sattn_Attr<"Linear", "linear"> {
  let summary = "the linear spatial path and its head routing (SPEC §4.7)";
  let description = [{
    `routing` holds one route for all heads or one per head.

    Example: `#sattn.linear<enabled = true, routing = [hybrid]>`
  }];
  let parameters = (ins
    DefaultValuedParameter<"bool", "::sattn::LinearParams{}.enabled">:$enabled,
    Sattn_ListParameter<"::sattn::Route", "::sattn::defaultRouting()">:$routing
  );
}

def Sattn_TargetAttr : Sattn_Attr<"Target", "target"> {
  let summary = "the GPU architecture to compile for";
  let description = "Example: `#sattn.target<arch = sm_90a>`";
  let parameters = (ins
    Sattn_EnumParameter<"Arch", "::sattn::TargetParams{}.arch">:$arch
  );
}

def Sattn_VariantAttr : Sattn_Attr<"Variant", "variant"> {
  let summary = "a whole sparse-attention variant (SPEC §3)";
  let description = [{
    Mirrors the variant JSON format: each section is an attribute of its own,
    printed without its `#sattn.` prefix; a section left out takes its
    defaults (`adaptive` left out means no adaptive density). The verifier
    runs the same checks, with the same messages, as the JSON reader.

    Example:
    ```mlir
    #sattn.variant<name = "wan480p",
      problem = <heads = 40, grid = [21, 30, 52]>,
      reorder = <kind = hilbert3d>, block = <q = 128, k = 32>,
      tail = <bins = 4>>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"the variant's name", "\"variant\"">:$name,
    "ProblemAttr":$problem,
    OptionalParameter<"ReorderAttr">:$reorder,
    OptionalParameter<"BlockAttr">:$block,
    OptionalParameter<"ScoringAttr">:$scoring,
    OptionalParameter<"SelectionAttr">:$selection,
    OptionalParameter<"ScheduleAttr">:$schedule,
    OptionalParameter<"AdaptiveAttr">:$adaptive,
    OptionalParameter<"TailAttr">:$tail,
    OptionalParameter<"LinearAttr">:$linear,
    OptionalParameter<"TargetAttr">:$target
  );
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The variant as one struct, every default filled in.
    ::sattn::VariantParams getParams() const;
    /// The attribute for `params`; sections equal to their defaults are left
    /// out. `params` must be valid (validateVariant).
    static VariantAttr get(::mlir::MLIRContext *ctx,
                           const ::sattn::VariantParams &params);
  }];
}

#endif // SATTN_ATTRS_TD
