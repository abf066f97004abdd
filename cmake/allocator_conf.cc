// jemalloc's options, compiled into every program that links medhub::allocator
// (cmake/allocator.cmake). jemalloc reads this symbol once, at its first allocation; the
// MALLOC_CONF environment variable still overrides it.
//
// thp:always — jemalloc asks for transparent huge pages (madvise(MADV_HUGEPAGE)) on the
// memory it maps. An import touches a few hundred MiB of fresh memory (JSON trees, chunk
// arenas, SST blocks); with 2 MiB pages it takes 512 times fewer page faults and TLB
// misses: about 12% of the import's CPU on the benchmark machine, for about 50 MiB more
// peak RSS (docs/benchmarks.md). Where the kernel's THP mode is "never" this does nothing.
//
// percpu_arena:percpu — one arena per CPU, used by whichever thread runs on that CPU,
// instead of 4 arenas per CPU handed out to threads as they start. Threads come and go
// (each import starts its committing, writer and adder threads), and memory a finished
// thread freed sat in an arena the next threads were not given, so they faulted in fresh
// pages (zeroed by the kernel; on the benchmark VM a first touch costs far more than a
// reuse). With an arena per CPU the next import reuses it: `store_bench --copies 1`
// 0.110 -> 0.095 s and --copies 4 0.434 -> 0.361 s (medians of 12 and 6 alternating runs),
// peak RSS at 16 copies 341-356 -> 293-308 MiB (docs/benchmarks.md, session 7). Fewer
// arenas shared by thread (narenas:1 or 2) reuse memory as well at 1 copy, but one arena
// made the 4-copy import 7% slower (contention), and a fixed count does not follow the CPUs.
// Where the process may run on fewer CPUs than are online (taskset, a container pinned to
// some CPUs), jemalloc turns per-CPU arenas off and prints "<jemalloc>: Number of CPUs
// detected is not deterministic. Per-CPU arena disabled." once at start; there
// MALLOC_CONF=percpu_arena:disabled silences it (README, "Limits").
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's (extern const char *malloc_conf).
const char* malloc_conf = "thp:always,percpu_arena:percpu";
}
