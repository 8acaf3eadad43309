#pragma once
// Two settings of glibc's allocator (GLIBC_TUNABLES), which a process can only set for itself
// before it starts: so this re-executes the binary once with them added. A tunable the user set
// already is left as it is.
//
// glibc.malloc.hugetlb=1 (glibc 2.35 and later): the heap on transparent huge pages. The
// projections are a few hundred bytes per booking on the heap. On virtual machines a page fault
// costs microseconds; at start-up with 10M events the state's gigabyte faulted in 4 KiB pages took
// half of the time (bench/RESULTS.md, recovery), and every new booking faults pages in too. 2 MiB
// pages take 512 times fewer faults. Skipped when the kernel's transparent huge pages are `never`
// or when TL_HUGEPAGES=0.
//
// glibc.malloc.tcache_count=256: each thread keeps up to 256 freed blocks of each size for itself
// instead of 7. The writer allocates a batch's worth of blocks of one size at a time (commands,
// events, replies) and the I/O threads free many of them, so the default cache ran dry every batch
// and each allocation went to the shared arena: malloc was 16% of the writer's time under
// POST /api/bookings, and 9% with this (bench/ANALYSIS.md, change 18).
namespace tl::cli {

// Returns only when it did not re-execute (nothing to add, or execv failed: the process goes on
// as it is).
void reexec_with_heap_tunables(char** argv);

}  // namespace tl::cli
