/*
 * Copy routines of te4j's cxl and shm transports (libte4jcxl.so), bound from Java with JNA direct
 * mapping (io.te4j.transport.cxl.CopyRoutines). Every function is thread-safe and allocation-free.
 *
 * te4jcxl_copy:        plain memcpy.
 * te4jcxl_copy_nt:     non-temporal (streaming) stores for the 16-byte-aligned body, plain stores
 *                      for the edges, then sfence: large copies bypass the cache, so nothing of
 *                      the destination is left dirty in this CPU's caches.
 * te4jcxl_copy_wb:     streaming body plus write-back of the edges: nothing dirty left behind.
 * te4jcxl_writeback:   writes every cache line of a range back to memory (clwb, else clflushopt,
 *                      else clflush), then sfence: what a peer on another host reads from a CXL
 *                      device is what this host wrote.
 * te4jcxl_features:    bit 0 sse2, bit 1 clflushopt, bit 2 clwb (probed once, cpuid).
 */
#include <cpuid.h>
#include <emmintrin.h>
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TE_LINE 64

enum { TE_SSE2 = 1, TE_CLFLUSHOPT = 2, TE_CLWB = 4 };

static int te_features = -1;

int te4jcxl_features(void) {
  int f = te_features;
  if (f >= 0) return f;
  unsigned a, b, c, d;
  f = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) && (d & bit_SSE2)) f |= TE_SSE2;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    if (b & (1u << 23)) f |= TE_CLFLUSHOPT;
    if (b & (1u << 24)) f |= TE_CLWB;
  }
  te_features = f;
  return f;
}

int te4jcxl_abi_version(void) { return 3; }

void te4jcxl_copy(uint64_t dst, uint64_t src, uint64_t n) {
  memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, (size_t)n);
}

static void copy_nt_body(char *d, const char *s, size_t n);

void te4jcxl_copy_nt(uint64_t dst, uint64_t src, uint64_t n) {
  copy_nt_body((char *)(uintptr_t)dst, (const char *)(uintptr_t)src, (size_t)n);
  _mm_sfence();
}

/* Non-temporal body, plain edges (at most 15 bytes before, 63 after), no fence. */
static void copy_nt_body(char *d, const char *s, size_t n) {
  size_t head = (16 - ((uintptr_t)d & 15)) & 15;
  if (n < head + 256) {
    memcpy(d, s, n);
    return;
  }
  memcpy(d, s, head);
  d += head;
  s += head;
  n -= head;
  size_t blocks = n / 64;
  for (size_t i = 0; i < blocks; i++) {
    __m128i x0 = _mm_loadu_si128((const __m128i *)(s + 0));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(s + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(s + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(s + 48));
    _mm_stream_si128((__m128i *)(d + 0), x0);
    _mm_stream_si128((__m128i *)(d + 16), x1);
    _mm_stream_si128((__m128i *)(d + 32), x2);
    _mm_stream_si128((__m128i *)(d + 48), x3);
    s += 64;
    d += 64;
  }
  memcpy(d, s, n - blocks * 64);
}

__attribute__((target("clwb"))) static void wb_clwb(char *p, char *end) {
  for (; p < end; p += TE_LINE) _mm_clwb(p);
}

__attribute__((target("clflushopt"))) static void wb_clflushopt(char *p, char *end) {
  for (; p < end; p += TE_LINE) _mm_clflushopt(p);
}

static void wb_clflush(char *p, char *end) {
  for (; p < end; p += TE_LINE) _mm_clflush(p);
}

void te4jcxl_writeback(uint64_t addr, uint64_t n) {
  if (n == 0) return;
  char *p = (char *)(uintptr_t)(addr & ~(uint64_t)(TE_LINE - 1));
  char *end = (char *)(uintptr_t)(addr + n);
  int f = te4jcxl_features();
  if (f & TE_CLWB) {
    wb_clwb(p, end);
  } else if (f & TE_CLFLUSHOPT) {
    wb_clflushopt(p, end);
  } else {
    wb_clflush(p, end);
  }
  _mm_sfence();
}

/*
 * Copy whose result is written back from this CPU's caches when it returns: streaming stores for
 * the body, write-back of the plainly copied edges, one fence (which also drains the streaming
 * stores). Small copies: memcpy, then write-back.
 */
void te4jcxl_copy_wb(uint64_t dst, uint64_t src, uint64_t n) {
  if (n < 512) {
    memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, (size_t)n);
    te4jcxl_writeback(dst, n);
    return;
  }
  copy_nt_body((char *)(uintptr_t)dst, (const char *)(uintptr_t)src, (size_t)n);
  uint64_t head = (16 - (dst & 15)) & 15;
  if (head) te4jcxl_writeback(dst, head);
  te4jcxl_writeback(dst + n - TE_LINE, TE_LINE);
}

/*
 * A C memcpy baseline for the benchmark: copies n bytes iterations times, copy i at offset
 * (i * n) % span of both buffers (span = n: always the same bytes), returns nanoseconds.
 */
#include <time.h>
uint64_t te4jcxl_bench_memcpy(uint64_t dst, uint64_t src, uint64_t n, uint64_t iterations,
                              uint64_t span) {
  struct timespec a, b;
  if (span < n) span = n;
  uint64_t slots = span / n;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (uint64_t i = 0; i < iterations; i++) {
    uint64_t off = (i % slots) * n;
    memcpy((void *)(uintptr_t)(dst + off), (const void *)(uintptr_t)(src + off), (size_t)n);
    __asm__ volatile("" ::: "memory");
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ull + (uint64_t)(b.tv_nsec - a.tv_nsec);
}
