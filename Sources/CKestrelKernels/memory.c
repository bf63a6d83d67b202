// Process-wide allocator tuning for executables that allocate and free the same large buffers repeatedly.
#include "kestrel_kernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int kk_keep_freed_memory(void) {
#if defined(__GLIBC__)
    // Serve large blocks from the heap rather than fresh mmaps, and do not trim the heap after frees.
    return mallopt(M_MMAP_THRESHOLD, 1 << 30) && mallopt(M_TRIM_THRESHOLD, 1 << 30);
#else
    return 0;
#endif
}
