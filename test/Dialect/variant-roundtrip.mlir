// RUN: sattn-opt %s | FileCheck %s
// RUN: sattn-opt %s | sattn-opt | FileCheck %s
// RUN: sattn-opt %s --mlir-print-op-generic | sattn-opt | FileCheck %s

// Each variant is printed once, as an alias named after it.
// CHECK-DAG: #minimal = #sattn.variant<name = "minimal", problem = <heads = 2, grid = [3, 4, 5]>>
// CHECK-DAG: #every_field = #sattn.variant<name = "every-field", problem = <batch = 2, heads = 3, head_dim = 64, grid = [2, 7, 9], text_tokens = 5, text_position = first, dtype = fp16, scale = 0.125>, reorder = <kind = hilbert2d, tile = [1, 2, 3]>, block = <q = 64, k = 16>, scoring = <pool_q = 8, pool_k = 4, aggregate = logit, levels = [64, 32, 16]>, selection = <rule = threshold, density = 0.5, p = 0.75, threshold = 0.002, keep = [first_frame]>, schedule = <dense_warmup_steps = 3, refresh_every = 2, density_by_step = {{\[\[}}0, 0.1], [7, 0.3]]>, adaptive = <target_recall = 0.9, min_density = 0.05, max_density = 0.7>, tail = <bins = 64>, linear = <enabled = true, routing = [sparse, hybrid, linear]>, target = <arch = sm_90a>>
// CHECK-DAG: #decay = #sattn.variant<name = "decay", problem = <heads = 1, grid = [1, 1, 1]>, scoring = <>, schedule = <density_decay = 0.1, min_density = 0.1>, adaptive = <enabled = false>, linear = <routing = [calibrate]>>
// Sections and values equal to their defaults are not printed.
// CHECK-DAG: #defaults_omitted = #sattn.variant<name = "defaults-omitted", problem = <heads = 4, grid = [1, 2, 3]>, reorder = <>, block = <>, selection = <>, tail = <>>

// CHECK-LABEL: func.func @variants
func.func @variants() attributes {
  // CHECK-SAME: a = #minimal
  a = #sattn.variant<name = "minimal", problem = <heads = 2, grid = [3, 4, 5]>>,
  // CHECK-SAME: b = #every_field
  b = #sattn.variant<name = "every-field",
        problem = <batch = 2, heads = 3, head_dim = 64, grid = [2, 7, 9],
                   text_tokens = 5, text_position = first, dtype = fp16,
                   scale = 0.125>,
        reorder = <kind = hilbert2d, tile = [1, 2, 3]>,
        block = <q = 64, k = 16>,
        scoring = <pool_q = 8, pool_k = 4, aggregate = logit, levels = [64, 32, 16]>,
        selection = <rule = threshold, density = 0.5, p = 0.75, threshold = 0.002,
                     keep = [first_frame]>,
        schedule = <dense_warmup_steps = 3, refresh_every = 2,
                    density_by_step = [[0, 0.1], [7, 0.3]]>,
        adaptive = <target_recall = 0.9, min_density = 0.05, max_density = 0.7>,
        tail = <bins = 64>,
        linear = <enabled = true, routing = [sparse, hybrid, linear]>,
        target = <arch = sm_90a>>,
  // Parameters in any order; enum names quoted or bare; a value equal to its
  // default is not printed.
  // CHECK-SAME: c = #decay
  c = #sattn.variant<linear = <routing = ["calibrate"]>, name = "decay",
        adaptive = <enabled = false>,
        schedule = <min_density = 0.1, density_decay = 0.1>,
        scoring = <aggregate = "softmax-sum">,
        problem = <grid = [1, 1, 1], heads = 1>>,
  // CHECK-SAME: d = #defaults_omitted
  d = #sattn.variant<name = "defaults-omitted", problem = <heads = 4, grid = [1, 2, 3], batch = 1, dtype = bf16>,
        reorder = <kind = identity, tile = [1, 1, 1]>, block = <q = 128, k = 128>,
        selection = <rule = topk, density = 0.3, keep = [text, diagonal]>,
        tail = <bins = 0>>
} {
  return
}

// The section attributes stand alone too.
// CHECK-LABEL: func.func @sections
// CHECK-SAME: p = #sattn.problem<heads = 40, grid = [21, 30, 52], text_tokens = 226, text_position = first>
// CHECK-SAME: r = #sattn.reorder<kind = tile, tile = [4, 4, 4]>
// CHECK-SAME: s = #sattn.selection<rule = topp, p = 0.95>
// CHECK-SAME: t = #sattn.target<arch = sm_80>
func.func @sections() attributes {
  p = #sattn.problem<heads = 40, grid = [21, 30, 52], text_tokens = 226, text_position = first>,
  r = #sattn.reorder<kind = tile, tile = [4, 4, 4]>,
  s = #sattn.selection<rule = topp, p = 0.95>,
  t = #sattn.target<arch = sm_80>
} {
  return
}
