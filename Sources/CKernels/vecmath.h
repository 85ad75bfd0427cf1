#ifndef OBCLIP_CKERNELS_VECMATH_H
#define OBCLIP_CKERNELS_VECMATH_H
// Vectorised transcendental functions for the AVX2 kernels (exp, and GELU through erfc), each
// accurate to a few float ulps, with the libm scalar forms the portable kernels use.

#include <immintrin.h>
#include <math.h>

/// e^x for 8 lanes (Cephes' expf: range reduction by ln 2 and a degree-6 polynomial).
/// Inputs are clamped to [-87.3, 88.37]; callers that need exact zeros (masked scores) set them.
__attribute__((target("avx2,fma")))
static inline __m256 obc_exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33654f)), _mm256_set1_ps(88.37626f));
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i pow2 = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(pow2));
}

/// e^x = 2ⁿ·e^r for 16 lanes: n = round(x / ln 2) and r = x − n·ln 2 in two parts (Cody–Waite,
/// as Cephes' expf), |r| ≤ ln 2 / 2.
__attribute__((target("avx512f")))
static inline __m512 obc_exp16_reduce(__m512 x, __m512 *n) {
    *n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(0.693359375f), x);
    return _mm512_fnmadd_ps(*n, _mm512_set1_ps(-2.12194440e-4f), r);
}

/// e^x for 16 lanes: `obc_exp8`'s reduction and polynomial, with the 2^n scaling done by
/// `vscalefps` (which also gives 0 below the range and ∞ above it without clamping) — fewer
/// instructions in attention's softmax, its hottest caller.
__attribute__((target("avx512f")))
static inline __m512 obc_exp16(__m512 x) {
    __m512 n, r = obc_exp16_reduce(x, &n);
    __m512 y = _mm512_set1_ps(1.9875691500e-4f);
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
    y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(y, n);
}

/// 2^t for 16 lanes to a relative 7.5·10⁻⁵: t = n + f with n = round(t), and 2^f on
/// |f| ≤ ½ by a degree-3 minimax polynomial (fitted in relative error), scaled by `vscalefps`
/// (0 far below the range, ∞ above it). For values about to be rounded to bf16 (relative 2⁻⁹),
/// such as bf16 attention's probabilities, whose callers fold log₂e into the score scale, so
/// no Cody–Waite reduction by ln 2 is needed: three operations fewer than `obc_exp16`'s path.
__attribute__((target("avx512f")))
static inline __m512 obc_exp2_16_coarse(__m512 t) {
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n);
    __m512 y = _mm512_fmadd_ps(_mm512_set1_ps(0.055171665f), f, _mm512_set1_ps(0.242611122f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(0.693260986f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(0.999928074f));
    return _mm512_scalef_ps(y, n);
}

/// x·σ(a·x) for 8 lanes (SiLU with a = 1, quick GELU with a = 1.702).
__attribute__((target("avx2,fma")))
static inline __m256 obc_x_sigmoid8(__m256 x, float a) {
    __m256 e = obc_exp8(_mm256_mul_ps(x, _mm256_set1_ps(-a)));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

/// Exact-erf GELU, 0.5·x·(1 + erf(x/√2)), for 8 lanes. Uses erfc(z) = t·exp(−z² + P(t)),
/// t = 1/(1 + z/2) (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7), and writes
/// 1 + erf(x/√2) as 2 − erfc(z) or erfc(z) by sign, so results stay accurate in both tails.
__attribute__((target("avx2,fma")))
static inline __m256 obc_gelu8(__m256 x) {
    __m256 z = _mm256_mul_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(0.70710678118654752f));
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(z, _mm256_set1_ps(0.5f), _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(0.17087277f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.82215223f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.48851587f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.13520398f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.27886807f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.18628806f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.09678418f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.37409196f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.00002368f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.26551223f));
    __m256 erfc = _mm256_mul_ps(t, obc_exp8(_mm256_fnmadd_ps(z, z, p)));
    __m256 positive = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    __m256 one_plus_erf = _mm256_blendv_ps(erfc, _mm256_sub_ps(_mm256_set1_ps(2.0f), erfc), positive);
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), one_plus_erf);
}

/// 1 + erf(x/√2) written as erfc(−x/√2), which keeps full relative accuracy for negative x.
static inline float obc_gelu1(float x) { return 0.5f * x * erfcf(-x * 0.70710678118654752f); }
static inline float obc_x_sigmoid1(float x, float a) { return x / (1.0f + expf(-a * x)); }

#endif
