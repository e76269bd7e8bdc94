// RUN: sattn-opt %s -split-input-file -verify-diagnostics
//
// Every rule of validateVariant, written as a #sattn.variant: the
// verifier (or, for an unknown name, the parser) rejects it with the same
// words as the JSON reader.

// density zero
// expected-error @+1 {{selection.density: value 0 is out of range (allowed: a number in (0, 1])}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, selection = <density = 0.0>>}
// -----

// density negative
// expected-error @+1 {{selection.density: value -0.1 is out of range (allowed: a number in (0, 1])}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, selection = <density = -0.1>>}
// -----

// density above one
// expected-error @+1 {{selection.density: value 1.5 is out of range (allowed: a number in (0, 1])}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, selection = <density = 1.5>>}
// -----

// p zero
// expected-error @+1 {{selection.p: value 0 is out of range (allowed: a number in (0, 1])}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, selection = <rule = topp, p = 0.0>>}
// -----

// threshold one
// expected-error @+1 {{selection.threshold: value 1 is out of range (allowed: a number in [0, 1))}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, selection = <rule = threshold, threshold = 1.0>>}
// -----

// keep twice
// expected-error @+1 {{selection.keep: "diagonal" is listed twice (allowed: a list of distinct values from text, diagonal, first_frame)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, selection = <keep = [diagonal, diagonal]>>}
// -----

// unknown keep
// expected-error @+3 {{selection.keep: unknown value "corner" (allowed: text, diagonal, first_frame)}}
// expected-error @+2 {{failed to parse Sattn_SelectionAttr parameter 'keep'}}
// expected-error @+1 {{failed to parse Sattn_VariantAttr parameter 'selection'}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, selection = <keep = [corner]>>}
// -----

// head_dim 96
// expected-error @+1 {{problem.head_dim: unsupported value 96 (allowed: 64, 128)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 1, head_dim = 96, grid = [1, 1, 1]>>}
// -----

// heads zero
// expected-error @+1 {{problem.heads: value 0 is out of range (allowed: an integer from 1 to 65535)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 0, grid = [1, 1, 1]>>}
// -----

// batch zero
// expected-error @+1 {{problem.batch: value 0 is out of range (allowed: an integer from 1 to 65535)}}
func.func private @f() attributes {v = #sattn.variant<problem = <batch = 0, heads = 1, grid = [1, 1, 1]>>}
// -----

// text tokens negative
// expected-error @+1 {{problem.text_tokens: value -1 is out of range (allowed: an integer from 0 to 1048576)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 1, grid = [1, 1, 1], text_tokens = -1>>}
// -----

// scale negative
// expected-error @+1 {{problem.scale: value -1 is out of range (allowed: a positive number; default 1/sqrt(head_dim))}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 1, grid = [1, 1, 1], scale = -1.0>>}
// -----

// grid zero
// expected-error @+1 {{problem.grid: extent 0 is not positive (allowed: three positive integers [T, H, W], at most 16777216 tokens in all)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 1, grid = [1, 0, 1]>>}
// -----

// grid negative
// expected-error @+1 {{problem.grid: extent -2 is not positive}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 1, grid = [-2, 1, 1]>>}
// -----

// grid two extents
// expected-error @+1 {{problem.grid: has 2 entries, needs 3}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 1, grid = [4, 4]>>}
// -----

// grid too large
// expected-error @+1 {{problem.grid: 1073741824 video tokens are too many}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 1, grid = [1024, 1024, 1024]>>}
// -----

// unknown dtype
// expected-error @+3 {{problem.dtype: unknown value "fp8" (allowed: bf16, fp16)}}
// expected-error @+2 {{failed to parse Sattn_ProblemAttr parameter 'dtype'}}
// expected-error @+1 {{failed to parse Sattn_VariantAttr parameter 'problem'}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 1, grid = [1, 1, 1], dtype = fp8>>}
// -----

// block.q 96
// expected-error @+1 {{block.q: unsupported value 96 (allowed: 64, 128)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, block = <q = 96>>}
// -----

// block.k 48
// expected-error @+1 {{block.k: unsupported value 48 (allowed: 16, 32, 64, 128)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, block = <k = 48>>}
// -----

// pool.q not dividing
// expected-error @+1 {{scoring.pool.q: 48 does not divide block.q = 128 (allowed: a positive divisor of block.q)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, scoring = <pool_q = 48>>}
// -----

// pool.k not dividing
// expected-error @+1 {{scoring.pool.k: 32 does not divide block.k = 16 (allowed: a positive divisor of block.k)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, block = <k = 16>, scoring = <pool_k = 32>>}
// -----

// levels not decreasing
// expected-error @+1 {{scoring.levels: sizes are not decreasing (64 then 128) (allowed: key-group sizes from coarse to fine, each a multiple of the next, the last equal to block.k)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, block = <k = 32>, scoring = <levels = [64, 128, 32]>>}
// -----

// levels not ending at block.k
// expected-error @+1 {{scoring.levels: the last level is 64, not block.k = 32}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, block = <k = 32>, scoring = <levels = [128, 64]>>}
// -----

// levels not multiples
// expected-error @+1 {{scoring.levels: 96 is not a multiple of 64}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, block = <k = 32>, scoring = <levels = [96, 64, 32]>>}
// -----

// level zero
// expected-error @+1 {{scoring.levels: size 0 is not positive}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, scoring = <levels = [0, 128]>>}
// -----

// unknown reorder kind
// expected-error @+3 {{reorder.kind: unknown value "zorder" (allowed: identity, tile, hilbert2d, hilbert3d, hwf, fwh)}}
// expected-error @+2 {{failed to parse Sattn_ReorderAttr parameter 'kind'}}
// expected-error @+1 {{failed to parse Sattn_VariantAttr parameter 'reorder'}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, reorder = <kind = zorder>>}
// -----

// reorder tile zero
// expected-error @+1 {{reorder.tile: extent 0 is not positive (allowed: three positive integers [t, h, w]; not [1, 1, 1] only with kinds tile, hilbert2d, hilbert3d)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, reorder = <kind = tile, tile = [4, 0, 4]>>}
// -----

// reorder tile negative
// expected-error @+1 {{reorder.tile: extent -2 is not positive}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, reorder = <kind = hilbert3d, tile = [2, 2, -2]>>}
// -----

// reorder tile with identity
// expected-error @+1 {{reorder.tile: kind identity takes no tile}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, reorder = <kind = identity, tile = [2, 2, 2]>>}
// -----

// tail bins negative
// expected-error @+1 {{tail.bins: value -1 is out of range (allowed: an integer from 0 to 64)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, tail = <bins = -1>>}
// -----

// tail bins 65
// expected-error @+1 {{tail.bins: value 65 is out of range (allowed: an integer from 0 to 64)}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, tail = <bins = 65>>}
// -----

// unknown arch
// expected-error @+3 {{target.arch: unknown value "sm_75" (allowed: auto, sm_80, sm_90a)}}
// expected-error @+2 {{failed to parse Sattn_TargetAttr parameter 'arch'}}
// expected-error @+1 {{failed to parse Sattn_VariantAttr parameter 'target'}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, target = <arch = sm_75>>}
// -----

// warmup negative
// expected-error @+1 {{schedule.dense_warmup_steps: value -1 is out of range}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, schedule = <dense_warmup_steps = -1>>}
// -----

// refresh zero
// expected-error @+1 {{schedule.refresh_every: value 0 is out of range}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, schedule = <refresh_every = 0>>}
// -----

// decay one
// expected-error @+1 {{schedule.density_decay: value 1 is out of range}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, schedule = <density_decay = 1.0>>}
// -----

// min_density above density
// expected-error @+1 {{schedule.min_density: 0.2 is above selection.density = 0.1 (allowed: a number in [0, selection.density])}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, selection = <density = 0.1>, schedule = <min_density = 0.2>>}
// -----

// two schedules
// expected-error @+1 {{schedule.density_decay: is 0.1 but density_by_step is given; use one schedule}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, schedule = <density_decay = 0.1, density_by_step = [[0, 0.5]]>>}
// -----

// steps not increasing
// expected-error @+1 {{schedule.density_by_step[1]: step 2 is negative or not after the previous step}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, schedule = <density_by_step = [[3, 0.5], [2, 0.6]]>>}
// -----

// step density zero
// expected-error @+1 {{schedule.density_by_step[0]: density 0 is out of range}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, schedule = <density_by_step = [[0, 0.0]]>>}
// -----

// target recall zero
// expected-error @+1 {{adaptive.target_recall: value 0 is out of range}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, adaptive = <target_recall = 0.0>>}
// -----

// adaptive max below min
// expected-error @+1 {{adaptive.max_density: 0.2 is below adaptive.min_density = 0.4}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, adaptive = <min_density = 0.4, max_density = 0.2>>}
// -----

// routing per head
// expected-error @+1 {{linear.routing: has 3 entries for 2 heads}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, linear = <enabled = true, routing = [sparse, linear, hybrid]>>}
// -----

// calibrate per head
// expected-error @+1 {{linear.routing: "calibrate" applies to all heads, not one}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, linear = <routing = [sparse, calibrate]>>}
// -----

// routing empty
// expected-error @+1 {{linear.routing: is empty}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, linear = <routing = []>>}
// -----

// name
// expected-error @+1 {{name: "../escape" cannot be used as a file name}}
func.func private @f() attributes {v = #sattn.variant<problem = <heads = 2, grid = [1, 2, 3]>, name = "../escape">}
