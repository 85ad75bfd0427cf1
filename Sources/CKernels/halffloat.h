#ifndef OBCLIP_CKERNELS_HALFFLOAT_H
#define OBCLIP_CKERNELS_HALFFLOAT_H
// Scalar conversions between f32 and the 16-bit weight formats, bit-exact with the hardware
// ones (F16C's vcvtph2ps/vcvtps2ph with round-to-nearest-even), so the portable kernels and the
// AVX2 kernels multiply by exactly the same weights. After F. Giesen's branch-light versions.

#include <stdint.h>
#include <string.h>

static inline uint32_t obc_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float obc_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/// binary16 → f32 (exact; subnormals, infinities and NaNs included).
static inline float obc_f16_to_f32(uint16_t h) {
    const uint32_t shifted_exponent = 0x7c00u << 13;
    uint32_t u = (uint32_t)(h & 0x7fff) << 13;
    uint32_t exponent = u & shifted_exponent;
    u += (uint32_t)(127 - 15) << 23;
    float f;
    if (exponent == shifted_exponent) {
        f = obc_from_bits(u + ((uint32_t)(128 - 16) << 23));                 // Inf / NaN
    } else if (exponent == 0) {
        f = obc_from_bits(u + (1u << 23)) - obc_from_bits(113u << 23);       // zero / subnormal
    } else {
        f = obc_from_bits(u);
    }
    return obc_from_bits(obc_bits(f) | (uint32_t)(h & 0x8000) << 16);
}

/// f32 → binary16, rounded to nearest even; overflow gives ±Inf, NaN a quiet NaN.
static inline uint16_t obc_f32_to_f16(float f) {
    uint32_t u = obc_bits(f), sign = u & 0x80000000u;
    u ^= sign;
    uint16_t h;
    if (u >= (uint32_t)(127 + 16) << 23) {
        h = u > 0x7f800000u ? 0x7e00 : 0x7c00;
    } else if (u < 113u << 23) {
        // Subnormal or zero: adding a magic number aligns the 10 mantissa bits at the bottom and
        // the FPU's own round-to-nearest-even does the rounding.
        const uint32_t magic = (uint32_t)((127 - 15) + (23 - 10) + 1) << 23;
        h = (uint16_t)(obc_bits(obc_from_bits(u) + obc_from_bits(magic)) - magic);
    } else {
        uint32_t odd = (u >> 13) & 1;
        u += ((uint32_t)(15 - 127) << 23) + 0xfff + odd;
        h = (uint16_t)(u >> 13);
    }
    return h | (uint16_t)(sign >> 16);
}

/// bfloat16 → f32 (exact).
static inline float obc_bf16_to_f32(uint16_t h) { return obc_from_bits((uint32_t)h << 16); }

/// f32 → bfloat16, rounded to nearest even; NaN stays a (quiet) NaN.
static inline uint16_t obc_f32_to_bf16(float f) {
    uint32_t u = obc_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

#endif
