#ifndef OBCLIP_CKERNELS_INTERNAL_H
#define OBCLIP_CKERNELS_INTERNAL_H
// Pieces shared between the kernel files (not part of the public header).

#include "include/ckernels.h"

/// Cache blocking. KC: depth of one packed block (an NR-wide B panel of KC floats is 16 KiB,
/// half of Zen's 32 KiB L1d, so it stays resident while A streams past). MC: rows of packed A
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

/// The micro-kernel for this CPU.
obc_microkernel obc_select_microkernel(void);

/// Stores n floats in `format` (rounded to nearest even for the half formats).
void obc_narrow(const float *x, long n, int format, void *dst);

/// Widens n elements stored in `format` to f32 (exact).
void obc_widen(const void *x, long n, int format, float *dst);

/// The k-blocks `obc_pack_b` splits depth k into: block `index` starts at *k0 and has *kc rows.
int obc_kblock_count(int k);
void obc_kblock(int k, int index, int *k0, int *kc);

#endif
