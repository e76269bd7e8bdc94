# sattn_link_mlir(target PUBLIC|PRIVATE)
#   Links a target against MLIR and LLVM. The tools and libraries link the one
#   shared libMLIR.so (and through it libLLVM.so): never the static MLIR*
#   archives too, which would put two copies of MLIR's statics in a binary.
function(sattn_link_mlir target scope)
  target_link_libraries(${target} ${scope} MLIR LLVM)
endfunction()


# sattn_link_static_mlir(target LIBRARY...)
#   Links `target` (libsattn.so: meant to run where no LLVM or MLIR is
#   installed) against the given sattn static libraries and the static MLIR
#   and LLVM archives of the -dev packages, all in one --start-group, with
#   libstdc++, libgcc, zlib and zstd linked in too: the result needs only
#   libc and libm (TOOLCHAIN.md, "One self-contained compiler library").
#   The sattn libraries are linked by file, not by target, because their
#   link interface names the imported MLIR targets and through them
#   libLLVM.so: one copy of MLIR per binary, and here it is the static one.
function(sattn_link_static_mlir target)
  set(own)
  foreach(lib ${ARGN})
    list(APPEND own "$<TARGET_FILE:${lib}>")
    add_dependencies(${target} ${lib})
  endforeach()
  file(GLOB mlir_archives "${LLVM_LIBRARY_DIR}/libMLIR*.a")
  list(FILTER mlir_archives EXCLUDE REGEX
       "Test|MLIRCAPI|Python|JitRunner|TblgenLib|LspServer|PluginsLib")
  file(GLOB llvm_archives "${LLVM_LIBRARY_DIR}/libLLVM*.a")
  list(FILTER llvm_archives EXCLUDE REGEX "Polly|LLVMTableGen|Exegesis")
  if(NOT mlir_archives OR NOT llvm_archives)
    message(FATAL_ERROR "sattn: no static MLIR/LLVM archives in "
                        "${LLVM_LIBRARY_DIR} (libmlir-22-dev, llvm-22-dev)")
  endif()
  find_library(SATTN_ZSTD_ARCHIVE libzstd.a REQUIRED)
  find_library(SATTN_ZLIB_ARCHIVE libz.a REQUIRED)
  target_link_libraries(${target} PRIVATE
    -Wl,--start-group ${own} ${mlir_archives} ${llvm_archives}
    -Wl,--end-group ${SATTN_ZSTD_ARCHIVE} ${SATTN_ZLIB_ARCHIVE}
    ${CMAKE_DL_LIBS} Threads::Threads)
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc
                      -Wl,--gc-sections -Wl,--exclude-libs,ALL
                      -Wl,--no-undefined)
endfunction()
