#pragma once

// glibc's allocator statistics and trimming (mallinfo2, malloc_trim), which Swift's Glibc
// module leaves out: the gateway hands back what a burst of reads freed (FreedMemory.swift).
#include <malloc.h>
