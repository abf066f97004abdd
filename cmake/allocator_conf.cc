// jemalloc's options, compiled into every program that links medhub::allocator
// (cmake/allocator.cmake). jemalloc reads this symbol once, at its first allocation; the
// MALLOC_CONF environment variable still overrides it.
//
// thp:always — jemalloc asks for transparent huge pages (madvise(MADV_HUGEPAGE)) on the
// memory it maps. An import touches a few hundred MiB of fresh memory (JSON trees, chunk
// arenas, SST blocks); with 2 MiB pages it takes 512 times fewer page faults and TLB
// misses: about 12% of the import's CPU on the benchmark machine, for about 50 MiB more
// peak RSS (docs/benchmarks.md). Where the kernel's THP mode is "never" this does nothing.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's (extern const char *malloc_conf).
const char* malloc_conf = "thp:always";
}
