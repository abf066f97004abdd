# Interface target carrying warnings and sanitizer flags; every medhub target links it.
add_library(medhub_build_flags INTERFACE)
add_library(medhub::build_flags ALIAS medhub_build_flags)
target_compile_options(medhub_build_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local
  -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(MEDHUB_WERROR)
  target_compile_options(medhub_build_flags INTERFACE -Werror)
endif()
if(MEDHUB_SANITIZE)
  target_compile_options(medhub_build_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(medhub_build_flags INTERFACE -fsanitize=address,undefined)
endif()
