# -*- Python -*-
# lit configuration of the sattn tests: FileCheck tests of the dialect, the
# passes and the tools, run against the build tree.

import os
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "sattn"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.sattn_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "gpu", "inputs"]

config.substitutions.append(("%examples", os.path.join(config.sattn_src_root, "examples")))
config.substitutions.append(("%inputs", os.path.join(config.sattn_src_root, "test", "inputs")))
config.substitutions.append(("%python", '"%s"' % sys.executable))
config.substitutions.append(
    ("%expect-exit", os.path.join(config.sattn_src_root, "test", "inputs", "expect-exit.sh")))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tools = [
    ToolSubst("sattn-opt", unresolved="fatal"),
    ToolSubst("sattnc", unresolved="fatal"),
    ToolSubst("sattn-accuracy", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, [config.sattn_tools_dir])

if config.ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas))
