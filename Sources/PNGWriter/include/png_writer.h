#ifndef OBCLIP_PNG_WRITER_H
#define OBCLIP_PNG_WRITER_H

#include <stddef.h>

/// Encodes 8-bit RGB pixels (`height` rows of `3 * width` bytes) as a PNG with libpng's
/// adaptive row filters and zlib's default level, writing only IHDR, IDAT and IEND chunks (no
/// colour, time or text metadata). On success returns 1 and a malloc'ed buffer the caller
/// frees; on failure returns 0 and copies libpng's message into `error` (`error_size` bytes).
int obclip_png_encode_rgb(const unsigned char *pixels, int width, int height,
                          unsigned char **png, size_t *png_size, char *error, size_t error_size);

#endif
