#include "internal.h"

// Layout changes: a cache-blocked 2-D transpose, used for NCHW ↔ NHWC and for reordering
// convolution weights into (ky, kx, in) depth order.

#define TILE 32

void obc_transpose(const float *src, long rows, long cols, float *dst) {
    for (long r0 = 0; r0 < rows; r0 += TILE) {
        long r1 = r0 + TILE < rows ? r0 + TILE : rows;
        for (long c0 = 0; c0 < cols; c0 += TILE) {
            long c1 = c0 + TILE < cols ? c0 + TILE : cols;
            for (long r = r0; r < r1; r++)
                for (long c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c];
        }
    }
}
