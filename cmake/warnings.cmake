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
if(MEDHUB_FUZZ)
  # The libraries the fuzz targets call are instrumented too (coverage for libFuzzer's
  # guidance, the sanitizers for its findings); only the fuzz targets link the fuzzer's
  # main (-fsanitize=fuzzer in their own options).
  target_compile_options(medhub_build_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
    -fno-omit-frame-pointer)
  target_link_options(medhub_build_flags INTERFACE -fsanitize=address,undefined)
endif()
