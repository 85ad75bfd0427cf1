#ifndef OBCLIP_CKERNELS_INTERNAL_H
#define OBCLIP_CKERNELS_INTERNAL_H
// Pieces shared between the kernel files (not part of the public header).

#include "include/ckernels.h"
#include <stdint.h>

/// Cache blocking. KC: the most depth of one packed block, per element format. Each k-block is
/// one more pass of C through the caches, and for SD's 3×3 convolutions (K = 9·channels) C is
/// megabytes; Zen 4's L2 (1 MiB) streams the deeper B tiles well. Measured on SD1.5's UNet
/// forward (single thread, alternating runs): f32 KC 256 → 384 → 768 took 10.3 → 9.6 → 8.6 s,
/// bf16 512 → 768 ≈ 1–3% faster. MC: rows of packed A per block (MC×KC inside L2). NC: columns
/// visited per pass over an A block (KC×NC of B, within the shared L3). On Zen 5 (48 KiB L1d,
/// 1 MiB L2, 6×64 tiles) bf16 KC 384 / 768 / 1152 measured within noise of each other, so the
/// blocking is the same on both: what differs is the tile width (`wide_tiles` in gemm.c).
#define OBC_KC_F32 768  // f32 and widened f16 panels
#define OBC_KC_BF16 768 // bf16 k-pairs
#define OBC_MC 144
#define OBC_NC 4096

/// The deepest a k-block can be as stored: blocks are balanced and start at even depths, which
/// can lengthen one by a row beyond KC, and bf16 pads a block to an even depth.
#define OBC_KC_MAX (OBC_KC_F32 > OBC_KC_BF16 ? OBC_KC_F32 + 2 : OBC_KC_BF16 + 2)

/// The register-tile micro-kernel:
/// `C[i][j] = Σ_p A[p][i]·B[p][j] + bias[j] + c_in[i*ldc_in + j]` for i < mr ≤ MR, j < nr
/// (bias and c_in optional; c_in may be C itself, to accumulate). A is a packed MR-row panel
/// (`a[p*MR + i]`). B holds NR columns per panel: column j < NR of row p at `b[p*ldb + j]`, and
/// for two-panel kernels column NR + j at `b[b_next + p*ldb + j]` — packed weights have
/// ldb = NR and the next panel right after (b_next = depth·NR), attention's score tiles are
/// rows of a wider block. The bf16 kernel's A and B are bf16 k-pairs (`obc_pack_pairs_bf16`):
/// pair row q of B at `b[q*ldb + 2j]`, strides in 16-bit elements.
typedef void (*obc_microkernel)(int kc, const void *a, const void *b, long ldb, long b_next,
                                float *c, long ldc, const float *c_in, long ldc_in,
                                int mr, int nr, const float *bias);

/// A micro-kernel and the widest tile it computes in one call. Every kernel accepts nr ≤ NR
/// (one panel); a kernel with `panels` = P > 1 also accepts nr ≤ P·NR, reading columns
/// q·NR..<(q+1)·NR from the panel at `b + q·b_next` (and no panel beyond the last column).
typedef struct {
    obc_microkernel run;
    int panels;
} obc_microkernel_choice;

/// The f32 micro-kernel for the instruction set in use.
obc_microkernel_choice obc_select_microkernel(void);

/// The AVX512-BF16 micro-kernel (bf16 k-pair operands, up to `panels` panels); only for CPUs at
/// the OBC_ISA_AVX512BF16 level.
obc_microkernel_choice obc_select_bf16_microkernel(void);

/// Rounds a k-major `depth`×`width` f32 block (`x[p*width + j]`) to bf16 in the k-pair layout
/// `dst[(p/2)*2*width + 2*j + p%2]`, padding an odd depth with a zero row: how the bf16 GEMM
/// stores B panels (width NR) and A panels (width MR).
void obc_pack_pairs_bf16(const float *x, int depth, int width, uint16_t *dst);
/// The vpermw order that turns `vcvtne2ps2bf16(row1, row0)` (16 columns each) into their k-pairs.
extern const uint16_t obc_pair_interleave16[32];

/// The inverse of `obc_pack_pairs_bf16` (exact): a k-major f32 block of `depth` rows.
void obc_unpack_pairs_bf16(const uint16_t *x, int depth, int width, float *dst);

/// Interleaves `len` values from each of MR row pointers into a packed A panel: f32
/// (`dst[p*MR + i]`) or bf16 k-pairs (`dst[(p/2)*2*MR + 2*i + p%2]`, len even). Either way the
/// values of depth p start at element p·MR. The AVX2 form stores 8 floats per depth, the last
/// two of which the next depth overwrites: `dst` needs 2 floats of slack after the panel.
typedef void (*obc_interleave_fn)(const float *const rows[OBC_MR], int len, void *dst);

/// The interleave for the ISA in use; `pairs` (bf16) only at the OBC_ISA_AVX512BF16 level.
obc_interleave_fn obc_select_interleave(int pairs);

/// `dst[c*ldd + r] = src[r*lds + c] · col_scale[c]` (scale optional) for r < rows, c < cols.
void obc_transpose_strided(const float *src, long lds, int rows, int cols, float *dst, long ldd,
                           const float *col_scale);

/// The k-blocks `obc_pack_b` splits depth k into for `format`: block `index` starts at *k0 and
/// has *kc rows.
int obc_kblock_count(int k, int format);
void obc_kblock(int k, int format, int index, int *k0, int *kc);

#endif
