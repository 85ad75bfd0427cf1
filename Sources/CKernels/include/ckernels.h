#ifndef OBCLIP_CKERNELS_H
#define OBCLIP_CKERNELS_H
// C kernels for obclip's tensor core. Each entry point picks the best implementation for the
// running CPU at run time: the GEMM micro-kernel uses AVX-512F where present (and AVX512-BF16
// dot products for bf16 operands), the kernels use AVX2+FMA where present, otherwise portable C
// (which the compiler vectorises with the baseline SSE2). Nothing depends on compile flags, so
// one binary runs on every x86-64 machine.
//
// Threading is the caller's job: every entry point works on a caller-chosen slice (rows,
// columns, a head's query range) and is safe to call concurrently on disjoint outputs.

#include <stddef.h>

/// Instruction-set levels, each including the ones below it. Only the GEMM micro-kernel (and so
/// convolution and attention) has AVX-512 paths; the other kernels use AVX2 at those levels.
enum {
    OBC_ISA_GENERIC = 0,    // portable C
    OBC_ISA_AVX2 = 1,       // AVX2 + FMA + F16C
    OBC_ISA_AVX512 = 2,     // the above + AVX-512F
    OBC_ISA_AVX512BF16 = 3, // the above + AVX-512BW/VL + AVX512-BF16 (bf16 dot products)
    OBC_ISA_BEST = OBC_ISA_AVX512BF16
};

/// The best level this CPU supports, capped by the environment variable `OBCLIP_ISA`
/// (`generic`, `avx2`, `avx512` or `avx512bf16`; an unknown value is reported on stderr and
/// ignored), so a benchmark can compare paths on one machine.
int obclip_detected_isa(void);

/// Caps the level in use at `isa` (OBC_ISA_BEST restores detection). For tests that check
/// every path on one machine; not thread-safe with concurrently running kernels.
void obclip_limit_isa(int isa);

/// The level in use: the detected one, capped by `obclip_limit_isa`.
int obc_isa(void);

/// Name of a level: "generic", "avx2", "avx512" or "avx512bf16".
const char *obclip_isa_name(int isa);

/// Name of the level in use.
const char *obclip_kernel_isa(void);

/// Nonzero when the AVX2+FMA(+F16C) kernels are in use (at the AVX2 or AVX-512 level).
int obc_use_avx2(void);

// MARK: GEMM ------------------------------------------------------------------------------

/// Register tile of the micro-kernel: MR rows of A × NR columns of B.
#define OBC_MR 6
#define OBC_NR 16

/// Element formats a packed B operand (a weight) can be stored in, which also set the arithmetic.
/// f16 panels are widened to f32 as the GEMM streams them (F16C `vcvtph2ps`): half the weight
/// memory and bandwidth, activations and accumulation stay f32. bf16 is a compute format: the
/// A operand (activations) is rounded to bf16 as it is packed too, and the products are AVX512-BF16
/// dot products (`vdpbf16ps`, exact bf16×bf16 products, f32 accumulation) at twice the f32 rate;
/// CPUs without AVX512-BF16 compute the same rounded products with f32 FMAs.
enum {
    OBC_F32 = 0,
    OBC_F16 = 1,  // IEEE binary16, rounded to nearest even when packed
    OBC_BF16 = 2  // bfloat16 (f32's top half), rounded to nearest even; activations rounded too
};

/// Bytes per element of a packed-B format.
size_t obc_format_size(int format);

/// Number of elements in a packed B operand of a K×N matrix in `format` (N padded up to a
/// multiple of NR; K up to even for bf16).
size_t obc_packed_b_count(int k, int n, int format);

/// Packs row-major B (`b[p*ldb + j]`, K×N) into the panel layout the micro-kernel streams:
/// K is split into cache blocks, and each block into NR-column panels stored k-major, with
/// elements in `format` (rounded to nearest even for the half formats). bf16 panels hold
/// k-pairs (`panel[(p/2)*2*NR + 2*j + p%2]`), the operand layout of `vdpbf16ps`.
/// `transposed` = 1 reads B from its transpose instead (`b[j*ldb + p]`, i.e. an N×K matrix,
/// as PyTorch stores linear weights). Packs only panels [panel_begin, panel_end).
void obc_pack_b(const float *b, long ldb, int transposed, int k, int n,
                int panel_begin, int panel_end, int format, void *packed);

/// Rounds n floats to `format` and back (to nearest even), as packing does: the exact values
/// a half-precision GEMM multiplies by. For tests and error analysis.
void obc_round_to_format(const float *x, float *y, long n, int format);

/// Stores n floats in `format` at `dst` (2 bytes each for the half formats, rounded to nearest
/// even; a plain copy for f32).
void obc_narrow(const float *x, long n, int format, void *dst);

/// Widens n elements in `format` at `x` back to f32 (exact).
void obc_widen(const void *x, long n, int format, float *dst);

/// Where the rows of the A operand come from.
typedef struct {
    /// 0: a dense row-major matrix (`a[i*lda + p]`).
    /// 1: implicit im2col of an NHWC image for a square convolution; K is ordered
    ///    (ky, kx, input channel), rows are output pixels (batch, oy, ox).
    int kind;
    const float *a;
    long lda;
    int height, width, channels;      // conv input
    int out_height, out_width;        // conv output
    int kernel, stride, padding;      // conv geometry
} obc_a_source;

/// `C[m0..<m1, n0..<n1] = A·B (+ bias[j]) (+ addend[i*ld_addend + j])`, with B packed by
/// `obc_pack_b` in `b_format` for the full K×N. `addend` (optional) may be C itself, to
/// accumulate, or another matrix, such as a residual fused into the product. `n0` must be a
/// multiple of NR. Uses per-thread scratch buffers for packed A, so concurrent calls on disjoint
/// C tiles are safe.
void obc_gemm(const obc_a_source *a, int m0, int m1, int n0, int n1, int n, int k,
              const void *packed_b, int b_format, float *c, long ldc, const float *bias,
              const float *addend, long ld_addend);

// MARK: Winograd convolution -----------------------------------------------------------------

/// Transforms 3×3 weights in PyTorch's layout (`w[((o·cin + c)·3 + ky)·3 + kx]`) into the
/// (m+2)² Winograd F(m×m, 3×3) matrices `u[(e·cin + c)·cout + o]` = (G g Gᵀ)[e], m = 2 or 4,
/// for input channels [c0, c1) (computed in double, rounded once to f32).
void obc_winograd_weights(const float *w, int cin, int cout, int m, int c0, int c1, float *u);

/// Geometry of a Winograd convolution over an NHWC batch, and whether its input gather upsamples.
typedef struct {
    const float *x;                   // NHWC input (before the fused upsample)
    int height, width, channels;      // x's size
    int upsample;                     // 1: the convolution reads x upsampled 2× (nearest)
    int out_height, out_width, out_channels, padding;
    int tile;                         // output tile side m: 2 (F(2×2, 3×3)) or 4 (F(4×4, 3×3))
    int tiles_y, tiles_x;             // output tiles per image: ceil(out / m)
} obc_winograd_geometry;

/// Input transform of tiles [t0, t1) (batch-major, then row-major): row `t − t_base` of the
/// (m+2)² matrices `v[e·ld_e + row·channels + c]` = (Bᵀ d B)[e] of the tile's (m+2)² pixels d,
/// with zeros for the padding.
void obc_winograd_input(const obc_winograd_geometry *g, int t0, int t1, int t_base, float *v, long ld_e);

/// Output transform of tiles [t0, t1) from the (m+2)² products `m[e·ld_e + row·out_channels + o]`
/// (row = t − t_base): stores `(Aᵀ m A + bias) + residual` into the valid pixels of NHWC `y`.
/// `bias` (optional) is read at `bias + image·bias_image_stride` (stride 0: one shared row);
/// `residual` (optional) has y's shape.
void obc_winograd_output(const obc_winograd_geometry *g, const float *m, long ld_e, int t0, int t1, int t_base,
                         const float *bias, long bias_image_stride, const float *residual, float *y);

// MARK: Attention -------------------------------------------------------------------------

/// Flash-style attention for one (batch, head): queries [q_begin, q_end) of `q` against all
/// `tk` keys, `out[i] = softmax(scale · q[i]·Kᵀ (masked)) · V`, tiled so no queries×keys
/// matrix is formed. Rows are strided: q[i*ldq + t] (t < d), k[j*ldk + t], v[j*ldv + t]
/// (t < dv), out[i*ldo + t]. `causal` masks keys j > i. `format` OBC_BF16 rounds Q, K, V and
/// the probabilities to bf16 and runs both products as bf16 dot products (f32 accumulation,
/// f32 softmax); OBC_F32 computes in f32.
void obc_attention(const float *q, long ldq, const float *k, long ldk, const float *v, long ldv,
                   float *out, long ldo, int tk, int d, int dv, int q_begin, int q_end,
                   int causal, float scale, int format);

// MARK: Elementwise and normalisation -----------------------------------------------------

/// Activations applied by `obc_activation` and fused into other kernels.
enum {
    OBC_ACT_IDENTITY = 0,
    OBC_ACT_SILU = 1,      // x·σ(x)
    OBC_ACT_GELU = 2,      // exact erf GELU
    OBC_ACT_QUICK_GELU = 3 // x·σ(1.702x)
};

/// `y[i] = act(x[i])` for i < n (may alias).
void obc_activation(const float *x, float *y, long n, int act);

/// GEGLU over rows: `y[r, j] = x[r, j] · gelu(x[r, c + j])`, x rows of width 2c.
void obc_geglu(const float *x, float *y, long rows, int c);

/// `y = a + b` (n floats).
void obc_add(const float *a, const float *b, float *y, long n);

/// `y = a · s` (n floats).
void obc_scale(const float *a, float s, float *y, long n);

/// `y[r, j] = x[r, j] + v[j]` for `rows` rows of width c.
void obc_add_row_vector(const float *x, const float *v, float *y, long rows, int c);

/// Per-channel sum and sum of squares over `rows` rows of width c, added into `sum`/`sumsq`
/// (double, c values each). Float partials are flushed to double every few rows.
void obc_channel_moments(const float *x, long rows, int c, double *sum, double *sumsq);

/// `y[r, j] = act(x[r, j]·mul[j] + add[j])` for `rows` rows of width c.
void obc_affine_rows(const float *x, const float *mul, const float *add, float *y,
                     long rows, int c, int act);

/// Layer norm of each of `rows` rows of width c (statistics in double, two passes).
void obc_layer_norm(const float *x, const float *weight, const float *bias, float *y,
                    long rows, int c, float eps);

/// Softmax of each of `rows` rows of width c.
void obc_softmax(const float *x, float *y, long rows, int c);

// MARK: Layout ----------------------------------------------------------------------------

/// `dst[c*rows + r] = src[r*cols + c]`: transposes a row-major rows×cols matrix.
void obc_transpose(const float *src, long rows, long cols, float *dst);

#endif
