#include "internal.h"
#include <string.h>

// The 16-float vector type only ever lives inside always-inline helpers of one ISA's function,
// so the ABI note clang gives for passing it without AVX-512 does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

// Winograd F(m×m, 3×3) transforms (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016): an (m+2)×(m+2) input tile d gives an m×m output tile
// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so a 3×3 convolution becomes (m+2)² independent products (one
// per element of the transformed tile) of [tiles × in] by [in × out], which the packed GEMM
// runs. Two sizes (`obc_winograd_geometry.tile`):
//
// - m = 4, points 0, ±1, ±2, ∞: 36 products per 16 outputs (2.25 multiplies per output instead
//   of 9), but the transforms scale values by up to 5 (Bᵀ) and 8 (Aᵀ) per dimension, which
//   amplifies rounding of the transformed operands (why bf16 layers run it with f32 products).
// - m = 2, points 0, ±1, ∞: 16 products per 4 outputs (4 per output); every transform entry is
//   0, ±1 or ±½, so rounding Bᵀ d B and G g Gᵀ to bf16 costs about what rounding d and g does
//   in the direct kernel, and bf16 layers run its products as bf16 dot products.
//
// The transforms here are the data movement around those products: every loop is over a block
// of 16 channels held in one vector (a zmm at the AVX-512 level, two ymm at AVX2), written once
// with the compiler's vector extension and compiled per instruction set; `m` is a constant at
// every call of the always-inline helpers, so each size compiles to its own straight-line code.
//
// F(4×4):  Bᵀ = [4  0 -5  0 1 0]    G = [ 1/4     0     0]    Aᵀ = [1 1  1 1  1 0]
//               [0 -4 -4  1 1 0]        [-1/6  -1/6  -1/6]         [0 1 -1 2 -2 0]
//               [0  4 -4 -1 1 0]        [-1/6   1/6  -1/6]         [0 1  1 4  4 0]
//               [0 -2 -1  2 1 0]        [1/24  1/12   1/6]         [0 1 -1 8 -8 1]
//               [0  2 -1 -2 1 0]        [1/24 -1/12   1/6]
//               [0  4  0 -5 0 1]        [  0     0     1]
//
// F(2×2):  Bᵀ = [1  0 -1  0]    G = [1    0   0]    Aᵀ = [1 1  1  0]
//               [0  1  1  0]        [½    ½   ½]         [0 1 -1 -1]
//               [0 -1  1  0]        [½   -½   ½]
//               [0  1  0 -1]        [0    0   1]

#define TMAX 6
#define EMAX (TMAX * TMAX)
#define CB 16

typedef float vec __attribute__((vector_size(CB * sizeof(float))));

static inline __attribute__((always_inline)) vec load(const float *p) { vec v; memcpy(&v, p, sizeof v); return v; }
static inline __attribute__((always_inline)) void store(float *p, vec v) { memcpy(p, &v, sizeof v); }
static inline __attribute__((always_inline)) vec splat(float x) { return (vec){0} + x; }

/// Bᵀ applied in place to the t = m + 2 vectors d[0], d[s], …, d[(t−1)·s] (a column or a row).
static inline __attribute__((always_inline)) void input_1d(vec *d, int s, int m) {
    if (m == 2) {
        vec a = d[0], b = d[s], c = d[2 * s], e = d[3 * s];
        d[0] = a - c;
        d[s] = b + c;
        d[2 * s] = c - b;
        d[3 * s] = b - e;
        return;
    }
    vec a = d[0], b = d[s], c = d[2 * s], e3 = d[3 * s], e = d[4 * s], f = d[5 * s];
    vec four = splat(4), five = splat(5), two = splat(2);
    d[0] = four * a - five * c + e;
    d[s] = e + e3 - four * (b + c);
    d[2 * s] = e - e3 + four * (b - c);
    d[3 * s] = e - c + two * (e3 - b);
    d[4 * s] = e - c - two * (e3 - b);
    d[5 * s] = four * b - five * e3 + f;
}

/// Aᵀ applied to the t = m + 2 vectors x[0], x[s], …, giving m.
static inline __attribute__((always_inline)) void output_1d(const vec *x, int s, int m, vec out[]) {
    if (m == 2) {
        out[0] = x[0] + x[s] + x[2 * s];
        out[1] = x[s] - x[2 * s] - x[3 * s];
        return;
    }
    vec m0 = x[0], m1 = x[s], m2 = x[2 * s], m3 = x[3 * s], m4 = x[4 * s], m5 = x[5 * s];
    vec s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
    out[0] = m0 + s12 + s34;
    out[1] = d12 + splat(2) * d34;
    out[2] = s12 + splat(4) * s34;
    out[3] = d12 + splat(8) * d34 + m5;
}

// MARK: Weights

void obc_winograd_weights(const float *w, int cin, int cout, int m, int c0, int c1, float *u) {
    static const double g4[6][3] = {
        {1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1},
    };
    static const double g2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const double(*g)[3] = m == 2 ? g2 : g4;
    int t = m + 2;
    size_t plane = (size_t)cin * cout;
    for (int c = c0; c < c1; c++) {
        for (int o = 0; o < cout; o++) {
            const float *k = w + ((size_t)o * cin + c) * 9;
            double h[TMAX][3];
            // G·w (t×3), then (G·w)·Gᵀ (t×t), in double so U carries one rounding.
            for (int i = 0; i < t; i++)
                for (int x = 0; x < 3; x++)
                    h[i][x] = g[i][0] * k[x] + g[i][1] * k[3 + x] + g[i][2] * k[6 + x];
            for (int i = 0; i < t; i++)
                for (int j = 0; j < t; j++) {
                    double s = h[i][0] * g[j][0] + h[i][1] * g[j][1] + h[i][2] * g[j][2];
                    u[(size_t)(i * t + j) * plane + (size_t)c * cout + o] = (float)s;
                }
        }
    }
}

// MARK: Input

/// One tile's 16-channel block [c0, c0+cb) gathered (zeros outside the image) into `d`, then
/// transformed and stored as rows of V.
static inline __attribute__((always_inline)) void input_tile(const obc_winograd_geometry *g, int m, int tile, int c0, int cb,
                                                             float *v, long ld_e, long row) {
    int t = m + 2, elements = t * t;
    int per_image = g->tiles_y * g->tiles_x;
    int image = tile / per_image, ty = tile % per_image / g->tiles_x, tx = tile % g->tiles_x;
    int up = g->upsample ? 1 : 0, ih = g->height << up, iw = g->width << up, c = g->channels;
    int y0 = ty * m - g->padding, x0 = tx * m - g->padding;
    float buf[EMAX][CB];
    vec d[EMAX];
    for (int i = 0; i < t; i++) {
        int iy = y0 + i;
        for (int j = 0; j < t; j++) {
            int ix = x0 + j;
            float *dst = buf[i * t + j];
            if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) {
                memset(dst, 0, sizeof buf[0]);
                continue;
            }
            const float *src = g->x + (((size_t)image * g->height + (iy >> up)) * g->width + (ix >> up)) * c + c0;
            memcpy(dst, src, sizeof(float) * (size_t)cb);
            if (cb < CB) memset(dst + cb, 0, sizeof(float) * (size_t)(CB - cb));
        }
    }
    for (int e = 0; e < elements; e++) d[e] = load(buf[e]);
    for (int j = 0; j < t; j++) input_1d(&d[j], t, m);
    for (int i = 0; i < t; i++) input_1d(&d[i * t], 1, m);
    for (int e = 0; e < elements; e++) {
        float *dst = v + (size_t)e * ld_e + (size_t)row * c + c0;
        if (cb == CB) {
            store(dst, d[e]);
        } else {
            store(buf[e], d[e]);
            memcpy(dst, buf[e], sizeof(float) * (size_t)cb);
        }
    }
}

#define INPUT_LOOP(m)                                                                         \
    for (int t = t0; t < t1; t++)                                                             \
        for (int c0 = 0; c0 < g->channels; c0 += CB)                                          \
            input_tile(g, m, t, c0, g->channels - c0 < CB ? g->channels - c0 : CB, v, ld_e, t - t_base);
#define INPUT_BODY if (g->tile == 2) { INPUT_LOOP(2) } else { INPUT_LOOP(4) }

__attribute__((target("avx512f")))
static void input_avx512(const obc_winograd_geometry *g, int t0, int t1, int t_base, float *v, long ld_e) { INPUT_BODY }
__attribute__((target("avx2,fma")))
static void input_avx2(const obc_winograd_geometry *g, int t0, int t1, int t_base, float *v, long ld_e) { INPUT_BODY }
static void input_generic(const obc_winograd_geometry *g, int t0, int t1, int t_base, float *v, long ld_e) { INPUT_BODY }

void obc_winograd_input(const obc_winograd_geometry *g, int t0, int t1, int t_base, float *v, long ld_e) {
    int isa = obc_isa();
    if (isa >= OBC_ISA_AVX512) input_avx512(g, t0, t1, t_base, v, ld_e);
    else if (isa >= OBC_ISA_AVX2) input_avx2(g, t0, t1, t_base, v, ld_e);
    else input_generic(g, t0, t1, t_base, v, ld_e);
}

// MARK: Output

/// One tile's block of output channels [o0, o0+cb): rows of the products transformed back to
/// m×m pixels, stored as (Aᵀ m A + bias) + residual, in the direct kernel's order.
static inline __attribute__((always_inline)) void output_tile(const obc_winograd_geometry *g, int m, const float *mp, long ld_e,
                                                              int tile, long row, int o0, int cb, const float *bias,
                                                              long bias_image_stride, const float *residual, float *y) {
    int t = m + 2, elements = t * t;
    int per_image = g->tiles_y * g->tiles_x;
    int image = tile / per_image, ty = tile % per_image / g->tiles_x, tx = tile % g->tiles_x;
    int cout = g->out_channels;
    float buf[EMAX][CB];
    vec s[EMAX], col[TMAX][TMAX - 2], out[TMAX - 2][TMAX - 2];
    for (int e = 0; e < elements; e++) {
        const float *src = mp + (size_t)e * ld_e + (size_t)row * cout + o0;
        if (cb == CB) {
            s[e] = load(src);
        } else {
            memcpy(buf[e], src, sizeof(float) * (size_t)cb);
            memset(buf[e] + cb, 0, sizeof(float) * (size_t)(CB - cb));
            s[e] = load(buf[e]);
        }
    }
    // Columns first (Aᵀ over i for each j), then rows: the order F(4×4) has always used.
    for (int j = 0; j < t; j++) output_1d(&s[j], t, m, col[j]);
    for (int i = 0; i < m; i++) {
        vec x[TMAX], r[TMAX - 2];
        for (int j = 0; j < t; j++) x[j] = col[j][i];
        output_1d(x, 1, m, r);
        for (int j = 0; j < m; j++) out[i][j] = r[j];
    }
    vec b = splat(0);
    if (bias) {
        const float *bp = bias + (size_t)image * bias_image_stride + o0;
        if (cb == CB) b = load(bp);
        else { float tmp[CB] = {0}; memcpy(tmp, bp, sizeof(float) * (size_t)cb); b = load(tmp); }
    }
    for (int i = 0; i < m; i++) {
        int oy = ty * m + i;
        if (oy >= g->out_height) break;
        for (int j = 0; j < m; j++) {
            int ox = tx * m + j;
            if (ox >= g->out_width) break;
            size_t at = (((size_t)image * g->out_height + oy) * g->out_width + ox) * cout + o0;
            vec r = out[i][j] + b;
            if (cb == CB) {
                if (residual) r += load(residual + at);
                store(y + at, r);
            } else {
                float tmp[CB];
                store(tmp, r);
                for (int q = 0; q < cb; q++) y[at + q] = residual ? tmp[q] + residual[at + q] : tmp[q];
            }
        }
    }
}

#define OUTPUT_LOOP(m)                                                                          \
    for (int t = t0; t < t1; t++)                                                               \
        for (int o0 = 0; o0 < g->out_channels; o0 += CB)                                        \
            output_tile(g, m, mp, ld_e, t, t - t_base, o0, g->out_channels - o0 < CB ? g->out_channels - o0 : CB, \
                        bias, bias_image_stride, residual, y);
#define OUTPUT_BODY if (g->tile == 2) { OUTPUT_LOOP(2) } else { OUTPUT_LOOP(4) }

__attribute__((target("avx512f")))
static void output_avx512(const obc_winograd_geometry *g, const float *mp, long ld_e, int t0, int t1, int t_base,
                          const float *bias, long bias_image_stride, const float *residual, float *y) { OUTPUT_BODY }
__attribute__((target("avx2,fma")))
static void output_avx2(const obc_winograd_geometry *g, const float *mp, long ld_e, int t0, int t1, int t_base,
                        const float *bias, long bias_image_stride, const float *residual, float *y) { OUTPUT_BODY }
static void output_generic(const obc_winograd_geometry *g, const float *mp, long ld_e, int t0, int t1, int t_base,
                           const float *bias, long bias_image_stride, const float *residual, float *y) { OUTPUT_BODY }

void obc_winograd_output(const obc_winograd_geometry *g, const float *mp, long ld_e, int t0, int t1, int t_base,
                         const float *bias, long bias_image_stride, const float *residual, float *y) {
    int isa = obc_isa();
    if (isa >= OBC_ISA_AVX512) output_avx512(g, mp, ld_e, t0, t1, t_base, bias, bias_image_stride, residual, y);
    else if (isa >= OBC_ISA_AVX2) output_avx2(g, mp, ld_e, t0, t1, t_base, bias, bias_image_stride, residual, y);
    else output_generic(g, mp, ld_e, t0, t1, t_base, bias, bias_image_stride, residual, y);
}
