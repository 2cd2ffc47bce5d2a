/* The bytes malloc has handed out and not got back, and their peak: preloaded (LD_PRELOAD) into
 * the memory process of bench/python/_deep_bench.py, which reads them through ctypes. It is the
 * CPU's counterpart of torch.cuda.max_memory_allocated: the resident set counts pages (and the
 * free heap chunks a step touched), this counts live allocations, so the two bracket the truth.
 * Sizes are malloc_usable_size(), the chunk as glibc rounds it. glibc only (its __libc_ entry
 * points); built by _deep_bench.py with the system C compiler, and left out where that fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stddef.h>

extern void* __libc_malloc(size_t);
extern void __libc_free(void*);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);
extern void* __libc_valloc(size_t);
extern void* __libc_pvalloc(size_t);

static size_t live, peak;

static void* counted(void* p) {
  if (p) {
    size_t now = __atomic_add_fetch(&live, malloc_usable_size(p), __ATOMIC_RELAXED);
    size_t old = __atomic_load_n(&peak, __ATOMIC_RELAXED);
    while (now > old &&
           !__atomic_compare_exchange_n(&peak, &old, now, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
  }
  return p;
}

static void uncounted(void* p) {
  if (p) __atomic_sub_fetch(&live, malloc_usable_size(p), __ATOMIC_RELAXED);
}

void* malloc(size_t n) {
  return counted(__libc_malloc(n));
}
void* calloc(size_t count, size_t n) {
  return counted(__libc_calloc(count, n));
}
void* memalign(size_t alignment, size_t n) {
  return counted(__libc_memalign(alignment, n));
}
void* aligned_alloc(size_t alignment, size_t n) {
  return memalign(alignment, n);
}
void* valloc(size_t n) {
  return counted(__libc_valloc(n));
}
void* pvalloc(size_t n) {
  return counted(__libc_pvalloc(n));
}

void free(void* p) {
  uncounted(p);
  __libc_free(p);
}

void* realloc(void* p, size_t n) {
  size_t before = p ? malloc_usable_size(p) : 0;
  void* q = __libc_realloc(p, n);
  if (q || (p && n == 0)) { /* moved, resized or freed: the old block is gone */
    __atomic_sub_fetch(&live, before, __ATOMIC_RELAXED);
    counted(q);
  }
  return q;
}

int posix_memalign(void** out, size_t alignment, size_t n) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = counted(__libc_memalign(alignment, n));
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

size_t live_bytes_now(void) {
  return __atomic_load_n(&live, __ATOMIC_RELAXED);
}
size_t live_bytes_peak(void) {
  return __atomic_load_n(&peak, __ATOMIC_RELAXED);
}
void live_bytes_reset_peak(void) {
  __atomic_store_n(&peak, live_bytes_now(), __ATOMIC_RELAXED);
}
