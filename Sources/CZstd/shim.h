#pragma once

#include <zstd.h>

/// The size a zstd frame declares; 0 when it declares none or is not a frame. (Swift cannot
/// import ZSTD_CONTENTSIZE_UNKNOWN and _ERROR, which are expressions, not constants.)
static inline unsigned long long tfl_zstd_declared_size(const void *src, size_t size) {
    unsigned long long declared = ZSTD_getFrameContentSize(src, size);
    return (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR) ? 0 : declared;
}
