// libpng reports errors by longjmp, which Swift cannot catch: this file is the setjmp frame.
#include "png_writer.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *data;
    size_t size, capacity;
} buffer;

static void append(png_structp png, png_bytep bytes, size_t count) {
    buffer *out = png_get_io_ptr(png);
    if (out->size + count > out->capacity) {
        size_t capacity = out->capacity ? out->capacity : 4096;
        while (capacity < out->size + count) capacity *= 2;
        unsigned char *grown = realloc(out->data, capacity);
        if (!grown) png_error(png, "out of memory");
        out->data = grown;
        out->capacity = capacity;
    }
    memcpy(out->data + out->size, bytes, count);
    out->size += count;
}

static void flush(png_structp png) { (void)png; }

static void record_error(png_structp png, png_const_charp message) {
    char *error = png_get_error_ptr(png);
    if (error) strncpy(error, message, 255);
    png_longjmp(png, 1);
}

int obclip_png_encode_rgb(const unsigned char *pixels, int width, int height,
                          unsigned char **png_out, size_t *png_size, char *error, size_t error_size) {
    char message[256] = {0};
    buffer out = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, message, record_error, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, NULL);
        strncpy(error, "libpng could not start", error_size - 1);
        return 0;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(out.data);
        strncpy(error, message, error_size - 1);
        return 0;
    }
    png_set_write_fn(png, &out, append, flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * 3 * (size_t)width);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *png_out = out.data;
    *png_size = out.size;
    return 1;
}
