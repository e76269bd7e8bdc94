# sattn_link_mlir(target PUBLIC|PRIVATE)
#   Links a target against MLIR and LLVM. The tools and libraries link the one
#   shared libMLIR.so (and through it libLLVM.so): never the static MLIR*
#   archives too, which would put two copies of MLIR's statics in a binary.
function(sattn_link_mlir target scope)
  target_link_libraries(${target} ${scope} MLIR LLVM)
endfunction()

