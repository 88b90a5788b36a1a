#pragma once

/// Gives `length` bytes at `offset` of `fd` back to the file system (FALLOC_FL_PUNCH_HOLE),
/// keeping the file's size. Returns 0, or -1 with errno set. (Swift's Glibc module does not
/// export fallocate, which needs _GNU_SOURCE.)
int ring_punch_hole(int fd, long long offset, long long length);
