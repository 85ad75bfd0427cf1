#include "internal.h"
#include <string.h>

// The 16-float vector type only ever lives inside always-inline helpers of one ISA's function,
// so the ABI note clang gives for passing it without AVX-512 does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

// Winograd F(4×4, 3×3) transforms (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016, interpolation points 0, ±1, ±2, ∞). A 6×6 input tile d gives a 4×4 output
// tile Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so a 3×3 convolution becomes 36 independent products
// (one per element of the transformed tile) of [tiles × in] by [in × out], which the packed
// GEMM runs. The transforms here are the data movement around those products: every loop is
// over a block of 16 channels held in one vector (a zmm at the AVX-512 level, two ymm at AVX2),
// written once with the compiler's vector extension and compiled per instruction set.
//
// Bᵀ = [4  0 -5  0 1 0]    G = [ 1/4     0     0]    Aᵀ = [1 1  1 1  1 0]
//      [0 -4 -4  1 1 0]        [-1/6  -1/6  -1/6]         [0 1 -1 2 -2 0]
//      [0  4 -4 -1 1 0]        [-1/6   1/6  -1/6]         [0 1  1 4  4 0]
//      [0 -2 -1  2 1 0]        [1/24  1/12   1/6]         [0 1 -1 8 -8 1]
//      [0  2 -1 -2 1 0]        [1/24 -1/12   1/6]
//      [0  4  0 -5 0 1]        [  0     0     1]

#define T OBC_WINOGRAD_TILE
#define E (T * T)
#define M (T - 2)
#define CB 16

typedef float vec __attribute__((vector_size(CB * sizeof(float))));

static inline __attribute__((always_inline)) vec load(const float *p) { vec v; memcpy(&v, p, sizeof v); return v; }
static inline __attribute__((always_inline)) void store(float *p, vec v) { memcpy(p, &v, sizeof v); }
static inline __attribute__((always_inline)) vec splat(float x) { return (vec){0} + x; }

/// Bᵀ applied to six vectors (a column or a row of the tile), in place.
static inline __attribute__((always_inline)) void input_1d(vec *d0, vec *d1, vec *d2, vec *d3, vec *d4, vec *d5) {
    vec a = *d0, b = *d1, c = *d2, d = *d3, e = *d4, f = *d5;
    vec four = splat(4), five = splat(5), two = splat(2);
    *d0 = four * a - five * c + e;
    *d1 = e + d - four * (b + c);
    *d2 = e - d + four * (b - c);
    *d3 = e - c + two * (d - b);
    *d4 = e - c - two * (d - b);
    *d5 = four * b - five * d + f;
}

/// Aᵀ applied to six vectors, giving four.
static inline __attribute__((always_inline)) void output_1d(vec m0, vec m1, vec m2, vec m3, vec m4, vec m5, vec out[M]) {
    vec s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
    out[0] = m0 + s12 + s34;
    out[1] = d12 + splat(2) * d34;
    out[2] = s12 + splat(4) * s34;
    out[3] = d12 + splat(8) * d34 + m5;
}

// MARK: Weights

void obc_winograd_weights(const float *b, int cin, int cout, int c0, int c1, float *u) {
    static const double g[T][3] = {
        {1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1},
    };
    size_t plane = (size_t)cin * cout;
    for (int c = c0; c < c1; c++) {
        for (int o = 0; o < cout; o++) {
            float w[3][3];
            double h[T][3];
            for (int tap = 0; tap < 9; tap++) w[tap / 3][tap % 3] = b[(size_t)tap * plane + (size_t)c * cout + o];
            // G·w (6×3), then (G·w)·Gᵀ (6×6), in double so U carries one rounding.
            for (int i = 0; i < T; i++)
                for (int x = 0; x < 3; x++)
                    h[i][x] = g[i][0] * w[0][x] + g[i][1] * w[1][x] + g[i][2] * w[2][x];
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++) {
                    double s = h[i][0] * g[j][0] + h[i][1] * g[j][1] + h[i][2] * g[j][2];
                    u[(size_t)(i * T + j) * plane + (size_t)c * cout + o] = (float)s;
                }
        }
    }
}

// MARK: Input

/// One tile's 16-channel block [c0, c0+cb) gathered (zeros outside the image; through the
/// fused affine+activation when given) into `d`, then transformed and stored as rows of V.
static inline __attribute__((always_inline)) void input_tile(const obc_winograd_geometry *g, int tile, int c0, int cb, float *v, long ld_e, long row) {
    int per_image = g->tiles_y * g->tiles_x;
    int image = tile / per_image, ty = tile % per_image / g->tiles_x, tx = tile % g->tiles_x;
    int up = g->upsample ? 1 : 0, ih = g->height << up, iw = g->width << up, c = g->channels;
    int y0 = ty * M - g->padding, x0 = tx * M - g->padding;
    float buf[E][CB];
    vec d[E];
    for (int i = 0; i < T; i++) {
        int iy = y0 + i;
        for (int j = 0; j < T; j++) {
            int ix = x0 + j;
            float *dst = buf[i * T + j];
            if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) {
                memset(dst, 0, sizeof buf[0]);
                continue;
            }
            const float *src = g->x + (((size_t)image * g->height + (iy >> up)) * g->width + (ix >> up)) * c + c0;
            if (g->mul) {
                obc_affine_rows(src, g->mul + (size_t)image * c + c0, g->add + (size_t)image * c + c0, dst, 1, cb, g->act);
            } else {
                memcpy(dst, src, sizeof(float) * (size_t)cb);
            }
            if (cb < CB) memset(dst + cb, 0, sizeof(float) * (size_t)(CB - cb));
        }
    }
    for (int e = 0; e < E; e++) d[e] = load(buf[e]);
    for (int j = 0; j < T; j++) input_1d(&d[j], &d[T + j], &d[2 * T + j], &d[3 * T + j], &d[4 * T + j], &d[5 * T + j]);
    for (int i = 0; i < T; i++) input_1d(&d[i * T], &d[i * T + 1], &d[i * T + 2], &d[i * T + 3], &d[i * T + 4], &d[i * T + 5]);
    for (int e = 0; e < E; e++) {
        float *dst = v + (size_t)e * ld_e + (size_t)row * c + c0;
        if (cb == CB) {
            store(dst, d[e]);
        } else {
            store(buf[e], d[e]);
            memcpy(dst, buf[e], sizeof(float) * (size_t)cb);
        }
    }
}

#define INPUT_BODY                                                                            \
    for (int t = t0; t < t1; t++)                                                             \
        for (int c0 = 0; c0 < g->channels; c0 += CB)                                          \
            input_tile(g, t, c0, g->channels - c0 < CB ? g->channels - c0 : CB, v, ld_e, t - t_base);

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

/// One tile's block of output channels [o0, o0+cb): rows of the 36 products transformed back
/// to 4×4 pixels, stored as (Aᵀ m A + bias) + residual, in the direct kernel's order.
static inline __attribute__((always_inline)) void output_tile(const obc_winograd_geometry *g, const float *m, long ld_e, int tile, long row,
                               int o0, int cb, const float *bias, long bias_image_stride, const float *residual,
                               float *y) {
    int per_image = g->tiles_y * g->tiles_x;
    int image = tile / per_image, ty = tile % per_image / g->tiles_x, tx = tile % g->tiles_x;
    int cout = g->out_channels;
    float buf[E][CB];
    vec s[E], col[T][M], out[M][M];
    for (int e = 0; e < E; e++) {
        const float *src = m + (size_t)e * ld_e + (size_t)row * cout + o0;
        if (cb == CB) {
            s[e] = load(src);
        } else {
            memcpy(buf[e], src, sizeof(float) * (size_t)cb);
            memset(buf[e] + cb, 0, sizeof(float) * (size_t)(CB - cb));
            s[e] = load(buf[e]);
        }
    }
    for (int j = 0; j < T; j++) output_1d(s[j], s[T + j], s[2 * T + j], s[3 * T + j], s[4 * T + j], s[5 * T + j], col[j]);
    for (int i = 0; i < M; i++) {
        vec r[M];
        output_1d(col[0][i], col[1][i], col[2][i], col[3][i], col[4][i], col[5][i], r);
        for (int j = 0; j < M; j++) out[i][j] = r[j];
    }
    vec b = splat(0);
    if (bias) {
        const float *bp = bias + (size_t)image * bias_image_stride + o0;
        if (cb == CB) b = load(bp);
        else { float t[CB] = {0}; memcpy(t, bp, sizeof(float) * (size_t)cb); b = load(t); }
    }
    for (int i = 0; i < M; i++) {
        int oy = ty * M + i;
        if (oy >= g->out_height) break;
        for (int j = 0; j < M; j++) {
            int ox = tx * M + j;
            if (ox >= g->out_width) break;
            size_t at = (((size_t)image * g->out_height + oy) * g->out_width + ox) * cout + o0;
            vec r = out[i][j] + b;
            if (cb == CB) {
                if (residual) r += load(residual + at);
                store(y + at, r);
            } else {
                float t[CB];
                store(t, r);
                for (int q = 0; q < cb; q++) y[at + q] = residual ? t[q] + residual[at + q] : t[q];
            }
        }
    }
}

#define OUTPUT_BODY                                                                             \
    for (int t = t0; t < t1; t++)                                                               \
        for (int o0 = 0; o0 < g->out_channels; o0 += CB)                                        \
            output_tile(g, m, ld_e, t, t - t_base, o0, g->out_channels - o0 < CB ? g->out_channels - o0 : CB, \
                        bias, bias_image_stride, residual, y);

__attribute__((target("avx512f")))
static void output_avx512(const obc_winograd_geometry *g, const float *m, long ld_e, int t0, int t1, int t_base,
                          const float *bias, long bias_image_stride, const float *residual, float *y) { OUTPUT_BODY }
__attribute__((target("avx2,fma")))
static void output_avx2(const obc_winograd_geometry *g, const float *m, long ld_e, int t0, int t1, int t_base,
                        const float *bias, long bias_image_stride, const float *residual, float *y) { OUTPUT_BODY }
static void output_generic(const obc_winograd_geometry *g, const float *m, long ld_e, int t0, int t1, int t_base,
                           const float *bias, long bias_image_stride, const float *residual, float *y) { OUTPUT_BODY }

void obc_winograd_output(const obc_winograd_geometry *g, const float *m, long ld_e, int t0, int t1, int t_base,
                         const float *bias, long bias_image_stride, const float *residual, float *y) {
    int isa = obc_isa();
    if (isa >= OBC_ISA_AVX512) output_avx512(g, m, ld_e, t0, t1, t_base, bias, bias_image_stride, residual, y);
    else if (isa >= OBC_ISA_AVX2) output_avx2(g, m, ld_e, t0, t1, t_base, bias, bias_image_stride, residual, y);
    else output_generic(g, m, ld_e, t0, t1, t_base, bias, bias_image_stride, residual, y);
}
