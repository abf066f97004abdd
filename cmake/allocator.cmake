# medhub::allocator: links jemalloc into the programs that import and serve (the medhub
# binary and the benchmarks). glibc's malloc cost about 15% of the import's CPU (many small
# JSON DOM and key strings freed across threads); jemalloc cuts most of it
# (docs/benchmarks.md). Not in sanitizer or fuzz builds, which bring their own allocator.
# jemalloc's options are in allocator_conf.cc (transparent huge pages). Without
# libjemalloc-dev the target is empty and glibc's malloc is used.
add_library(medhub_allocator INTERFACE)
add_library(medhub::allocator ALIAS medhub_allocator)
option(MEDHUB_JEMALLOC "Link jemalloc into medhub and the benchmarks when available" ON)
if(MEDHUB_JEMALLOC AND NOT MEDHUB_SANITIZE AND NOT MEDHUB_FUZZ)
  find_library(MEDHUB_JEMALLOC_LIBRARY NAMES jemalloc)
  if(MEDHUB_JEMALLOC_LIBRARY)
    target_link_libraries(medhub_allocator INTERFACE ${MEDHUB_JEMALLOC_LIBRARY})
    target_sources(medhub_allocator INTERFACE ${CMAKE_CURRENT_LIST_DIR}/allocator_conf.cc)
    message(STATUS "medhub: linking jemalloc (${MEDHUB_JEMALLOC_LIBRARY})")
  else()
    message(STATUS "medhub: jemalloc not found, using glibc malloc")
  endif()
endif()
