# Interface target carrying warnings and sanitizer flags; every medhub target links it.
add_library(medhub_build_flags INTERFACE)
add_library(medhub::build_flags ALIAS medhub_build_flags)
target_compile_options(medhub_build_flags INTERFACE -Wall -Wextra -Wpedantic
  -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(medhub_build_flags INTERFACE -Wshadow=local)
  # GCC 12 reports false positives in libstdc++'s std::string at -O3 (GCC bug 105651).
  target_compile_options(medhub_build_flags INTERFACE -Wno-restrict)
endif()
if(MEDHUB_WERROR)
  target_compile_options(medhub_build_flags INTERFACE -Werror)
endif()
if(MEDHUB_SANITIZE)
  target_compile_options(medhub_build_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(medhub_build_flags INTERFACE -fsanitize=address,undefined)
endif()
