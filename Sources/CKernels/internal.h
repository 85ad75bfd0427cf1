#ifndef OBCLIP_CKERNELS_INTERNAL_H
#define OBCLIP_CKERNELS_INTERNAL_H
// Pieces shared between the kernel files (not part of the public header).

#include "include/ckernels.h"

/// Cache blocking. KC: depth of one packed block (an NR-wide B panel of KC floats is 16 KiB,
/// half of Zen's 32 KiB L1d, so it stays resident while A streams past; the AVX-512 kernel's two
/// panels, 32 KiB, fit Ice Lake's 48 KiB L1d). MC: rows of packed A
/// per block (MC×KC floats = 144 KiB, well inside the 512 KiB L2). NC: columns visited per
/// pass over an A block (KC×NC floats = 4 MiB of B, within the shared 8 MiB L3).
#define OBC_KC 256
#define OBC_MC 144
#define OBC_NC 4096

/// The register-tile micro-kernel: `C[mr×nr] = A·B (+ C if load_c) (+ bias[j])` where A is a
/// packed MR-row panel (`a[p*MR + i]`) and B a packed NR-column panel (`b[p*NR + j]`) of
/// depth kc. mr ≤ MR and nr ≤ NR select the valid corner of the tile.
typedef void (*obc_microkernel)(int kc, const float *a, const float *b, float *c, long ldc,
                                int mr, int nr, int load_c, const float *bias);

/// A micro-kernel and the widest tile it computes in one call. Every kernel accepts nr ≤ NR
/// (one panel); a kernel with `panels` = 2 also accepts nr ≤ 2·NR, reading columns NR..<2·NR
/// from the next packed panel, which `obc_pack_b` stores right after (at `b + kc*NR`).
typedef struct {
    obc_microkernel run;
    int panels;
} obc_microkernel_choice;

/// The micro-kernel for the instruction set in use.
obc_microkernel_choice obc_select_microkernel(void);

/// Stores n floats in `format` (rounded to nearest even for the half formats).
void obc_narrow(const float *x, long n, int format, void *dst);

/// Widens n elements stored in `format` to f32 (exact).
void obc_widen(const void *x, long n, int format, float *dst);

/// The k-blocks `obc_pack_b` splits depth k into: block `index` starts at *k0 and has *kc rows.
int obc_kblock_count(int k);
void obc_kblock(int k, int index, int *k0, int *kc);

#endif
