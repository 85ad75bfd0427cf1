#include "internal.h"
#include "halffloat.h"

// The element formats of packed weights: sizes and the rounding applied when packing.

size_t obc_format_size(int format) { return format == OBC_F32 ? 4 : 2; }

void obc_narrow(const float *x, long n, int format, void *dst) {
    uint16_t *h = dst;
    if (format == OBC_F16) {
        for (long i = 0; i < n; i++) h[i] = obc_f32_to_f16(x[i]);
    } else if (format == OBC_BF16) {
        for (long i = 0; i < n; i++) h[i] = obc_f32_to_bf16(x[i]);
    } else {
        memcpy(dst, x, sizeof(float) * (size_t)n);
    }
}

void obc_round_to_format(const float *x, float *y, long n, int format) {
    for (long i = 0; i < n; i++) {
        switch (format) {
        case OBC_F16: y[i] = obc_f16_to_f32(obc_f32_to_f16(x[i])); break;
        case OBC_BF16: y[i] = obc_bf16_to_f32(obc_f32_to_bf16(x[i])); break;
        default: y[i] = x[i];
        }
    }
}
