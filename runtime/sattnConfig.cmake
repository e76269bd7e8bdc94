# find_package(sattn) for an installed sattn runtime (PREFIX/lib/cmake/sattn):
# the imported target sattn::sattn, with PREFIX/include on its include path
# (#include <sattn/sattn.h> or <sattn/sattn.hpp>).
get_filename_component(_sattn_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET sattn::sattn)
  add_library(sattn::sattn SHARED IMPORTED)
  set_target_properties(sattn::sattn PROPERTIES
    IMPORTED_LOCATION "${_sattn_prefix}/lib/libsattn.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_sattn_prefix}/include")
endif()
set(sattn_FOUND TRUE)
unset(_sattn_prefix)
