// Debian's libpng (libpng-dev) and the zlib it deflates with.
#include <png.h>
#include <zlib.h>
