#pragma once
// Backs the process's heap with transparent huge pages, through glibc's own switch
// (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, glibc 2.35 and later), which a process can only set for
// itself before it starts: so this re-executes the binary once with it added.
//
// Why: the projections are a few hundred bytes per booking on the heap. On virtual machines a page
// fault costs microseconds; at start-up with 10M events the state's gigabyte faulted in 4 KiB pages
// took half of the time (bench/RESULTS.md, recovery), and every new booking faults pages in too.
// 2 MiB pages take 512 times fewer faults. Skipped when the kernel's transparent huge pages are
// `never`, when the switch is already set (so it runs once), or when TL_HUGEPAGES=0.
namespace tl::cli {

// Returns only when it did not re-execute (skipped, or execv failed: the process goes on as it is).
void reexec_with_huge_page_heap(char** argv);

}  // namespace tl::cli
