#pragma once
#include <stddef.h>
#include <stdint.h>

/// Extends a CRC-32C (Castagnoli, as in iSCSI, ext4 and LevelDB) over `length` bytes.
/// `crc` is the value returned for the bytes before (0 to start); the result is finalised,
/// so crc32c_extend(crc32c_extend(0, a), b) == crc32c_extend(0, a ++ b).
uint32_t crc32c_extend(uint32_t crc, const void *data, size_t length);
