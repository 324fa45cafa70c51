/*
 * libte_fakecudart.so: a fake CUDA 13 runtime (and the few driver calls te4j makes) for tests on
 * machines without a GPU (CUDA.md 4.3). Test scope only: the build compiles it against the real
 * CUDA 13 headers, so every prototype, struct size and enum is NVIDIA's, and tests bind it through
 * -Dte4j.cuda.cudart / -Dte4j.cuda.driver exactly as production binds libcudart.so.13.
 *
 * What it honours:
 * - Device memory is a memfd mapped twice: the pointer handed out is a PROT_NONE reservation, so a
 *   CPU dereference faults as on a discrete GPU; the "copy engine" uses the read-write mapping.
 *   Anything not found among allocations is host memory.
 * - Streams are FIFOs, each run by its own thread; copies read their source when they run.
 *   Handles 0, cudaStreamLegacy and cudaStreamPerThread are one shared legacy stream.
 * - Events capture the stream's tail when recorded; a never-recorded event is complete.
 * - Host functions run on one shared "driver" thread, in stream order; any fake CUDA call made
 *   from that thread returns cudaErrorNotPermitted and is counted (tefake_violations).
 * - IPC handles name the exporter's memfd (pid, fd, allocation id); another process maps it
 *   through /proc/<pid>/fd. Open refcounts; opening in the exporting process, a freed allocation
 *   or garbage fails.
 * - TEFAKE_NO_DRIVER=<code> makes every call return that code (35, 100, 34); TEFAKE_DEVICES
 *   sets the device count (default 2); tefake_* functions inject faults and count live objects.
 */
#define _GNU_SOURCE
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FAKE_VERSION 13000
#define IPC_MAGIC "TEFKIPC1"

/* ------------------------------------------------------------------ errors and entry */

static atomic_int sticky;          /* a context error every later call returns */
static atomic_int fail_copies;     /* that many next cudaMemcpyAsync calls fail ... */
static atomic_int fail_copies_code; /* ... with this code */
static atomic_int jitter_us;       /* a random delay up to this before each stream operation */
static atomic_long violations;     /* CUDA calls made from a host function */
static atomic_long ipc_opens;      /* successful cudaIpcOpenMemHandle calls */
static __thread int in_host_fn;
static __thread int current_device;

static int forced(void) {
  static int mode = -1;
  if (mode < 0) {
    const char *m = getenv("TEFAKE_NO_DRIVER");
    mode = m == NULL ? 0 : atoi(m);
  }
  return mode;
}

static int device_count(void) {
  const char *visible = getenv("CUDA_VISIBLE_DEVICES");
  if (visible != NULL && visible[0] == 0) {
    return 0; /* as the real runtime: no device visible */
  }
  const char *n = getenv("TEFAKE_DEVICES");
  return n == NULL ? 2 : atoi(n);
}

static int enter(void) {
  if (in_host_fn) {
    atomic_fetch_add(&violations, 1);
    return cudaErrorNotPermitted;
  }
  int f = forced();
  return f != 0 ? f : atomic_load(&sticky);
}

#define ENTER()                  \
  do {                           \
    int e_ = enter();            \
    if (e_ != 0) {               \
      return (cudaError_t)e_;    \
    }                            \
  } while (0)

/* ------------------------------------------------------------------ memory */

typedef struct alloc {
  struct alloc *next;
  uintptr_t alias; /* what callers see: PROT_NONE */
  char *view;      /* what copies use: read-write */
  size_t size;
  int fd;          /* own allocations: the memfd; imports: -1 */
  int device;
  int imported;
  int refs;
  int pid;         /* imports: the exporter */
  uint64_t id;
} alloc_t;

typedef struct host_reg {
  struct host_reg *next;
  uintptr_t base;
  size_t size;
  int allocated; /* cudaMallocHost, not cudaHostRegister */
} host_reg_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static alloc_t *allocs;
static host_reg_t *host_regs;
static uint64_t next_id = 1;

static alloc_t *find_alloc(uintptr_t p) {
  for (alloc_t *a = allocs; a != NULL; a = a->next) {
    if (p >= a->alias && p - a->alias < a->size) {
      return a;
    }
  }
  return NULL;
}

static host_reg_t *find_host(uintptr_t p) {
  for (host_reg_t *h = host_regs; h != NULL; h = h->next) {
    if (p >= h->base && p - h->base < h->size) {
      return h;
    }
  }
  return NULL;
}

static void unlink_alloc(alloc_t *a) {
  for (alloc_t **p = &allocs; *p != NULL; p = &(*p)->next) {
    if (*p == a) {
      *p = a->next;
      return;
    }
  }
}

/* The engine-side address of [p, p + n), or NULL when it runs past its allocation. */
static char *translate(uintptr_t p, size_t n, int *error) {
  pthread_mutex_lock(&lock);
  alloc_t *a = find_alloc(p);
  char *out = (char *)p;
  if (a != NULL) {
    if (n > a->size - (p - a->alias)) {
      *error = cudaErrorInvalidValue;
      out = NULL;
    } else {
      out = a->view + (p - a->alias);
    }
  }
  pthread_mutex_unlock(&lock);
  return out;
}

static alloc_t *map_alloc(int fd, size_t size) {
  char *view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (view == MAP_FAILED) {
    return NULL;
  }
  void *alias = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (alias == MAP_FAILED) {
    munmap(view, size);
    return NULL;
  }
  alloc_t *a = calloc(1, sizeof(*a));
  a->alias = (uintptr_t)alias;
  a->view = view;
  a->size = size;
  a->fd = fd;
  a->refs = 1;
  return a;
}

static void unmap_alloc(alloc_t *a) {
  munmap((void *)a->alias, a->size);
  munmap(a->view, a->size);
  if (a->fd >= 0) {
    close(a->fd);
  }
  free(a);
}

/* Adds a mapped allocation on the current device and hands out its alias. */
static cudaError_t publish(alloc_t *a, void **p) {
  a->device = current_device;
  pthread_mutex_lock(&lock);
  a->next = allocs;
  allocs = a;
  pthread_mutex_unlock(&lock);
  *p = (void *)a->alias;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void **p, size_t size) {
  ENTER();
  if (p == NULL || size == 0) {
    return cudaErrorInvalidValue;
  }
  pthread_mutex_lock(&lock);
  uint64_t id = next_id++;
  pthread_mutex_unlock(&lock);
  char name[64];
  snprintf(name, sizeof(name), "tefake-%llu", (unsigned long long)id);
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
    if (fd >= 0) {
      close(fd);
    }
    return cudaErrorMemoryAllocation;
  }
  alloc_t *a = map_alloc(fd, size);
  if (a == NULL) {
    close(fd);
    return cudaErrorMemoryAllocation;
  }
  a->id = id;
  return publish(a, p);
}

cudaError_t cudaFree(void *p) {
  ENTER();
  if (p == NULL) {
    return cudaSuccess;
  }
  pthread_mutex_lock(&lock);
  alloc_t *a = find_alloc((uintptr_t)p);
  if (a == NULL || a->imported || a->alias != (uintptr_t)p) {
    pthread_mutex_unlock(&lock);
    return cudaErrorInvalidValue;
  }
  unlink_alloc(a);
  pthread_mutex_unlock(&lock);
  unmap_alloc(a);
  return cudaSuccess;
}

/* Every fake device has 80 GiB; what this process allocated on it is in use. */
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
  ENTER();
  size_t total = (size_t)80 << 30, used = 0;
  pthread_mutex_lock(&lock);
  for (alloc_t *a = allocs; a != NULL; a = a->next) {
    if (!a->imported && a->device == current_device) {
      used += a->size;
    }
  }
  pthread_mutex_unlock(&lock);
  if (free_bytes != NULL) {
    *free_bytes = total - used;
  }
  if (total_bytes != NULL) {
    *total_bytes = total;
  }
  return cudaSuccess;
}

cudaError_t cudaHostRegister(void *p, size_t size, unsigned int flags) {
  (void)flags;
  ENTER();
  if (p == NULL || size == 0) {
    return cudaErrorInvalidValue;
  }
  pthread_mutex_lock(&lock);
  for (host_reg_t *h = host_regs; h != NULL; h = h->next) {
    if ((uintptr_t)p < h->base + h->size && h->base < (uintptr_t)p + size) {
      pthread_mutex_unlock(&lock);
      return cudaErrorHostMemoryAlreadyRegistered;
    }
  }
  host_reg_t *h = calloc(1, sizeof(*h));
  h->base = (uintptr_t)p;
  h->size = size;
  h->next = host_regs;
  host_regs = h;
  pthread_mutex_unlock(&lock);
  return cudaSuccess;
}

static cudaError_t host_unregister(void *p, int allocated) {
  pthread_mutex_lock(&lock);
  for (host_reg_t **at = &host_regs; *at != NULL; at = &(*at)->next) {
    host_reg_t *h = *at;
    if (h->base == (uintptr_t)p && h->allocated == allocated) {
      *at = h->next;
      pthread_mutex_unlock(&lock);
      if (allocated) {
        free(p);
      }
      free(h);
      return cudaSuccess;
    }
  }
  pthread_mutex_unlock(&lock);
  return allocated ? cudaErrorInvalidValue : cudaErrorHostMemoryNotRegistered;
}

cudaError_t cudaHostUnregister(void *p) {
  ENTER();
  return host_unregister(p, 0);
}

cudaError_t cudaMallocHost(void **p, size_t size) {
  ENTER();
  void *m = NULL;
  if (p == NULL || posix_memalign(&m, 4096, size == 0 ? 1 : size) != 0) {
    return cudaErrorMemoryAllocation;
  }
  cudaError_t e = cudaHostRegister(m, size == 0 ? 1 : size, 0);
  if (e != cudaSuccess) {
    free(m);
    return e;
  }
  pthread_mutex_lock(&lock);
  host_regs->allocated = 1;
  pthread_mutex_unlock(&lock);
  *p = m;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void *p) {
  ENTER();
  return host_unregister(p, 1);
}

cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *attributes, const void *p) {
  ENTER();
  if (attributes == NULL) {
    return cudaErrorInvalidValue;
  }
  /* The whole CUDA 13 struct (88 bytes), as the real runtime writes it. */
  memset(attributes, 0, sizeof(*attributes));
  pthread_mutex_lock(&lock);
  alloc_t *a = find_alloc((uintptr_t)p);
  host_reg_t *h = a == NULL ? find_host((uintptr_t)p) : NULL;
  if (a != NULL) {
    attributes->type = cudaMemoryTypeDevice;
    attributes->device = a->device;
    attributes->devicePointer = (void *)p;
  } else if (h != NULL) {
    attributes->type = cudaMemoryTypeHost;
    attributes->device = current_device;
    attributes->devicePointer = (void *)p;
    attributes->hostPointer = (void *)p;
  }
  pthread_mutex_unlock(&lock);
  return cudaSuccess;
}

CUresult cuInit(unsigned int flags) {
  (void)flags;
  return (CUresult)enter();
}

CUresult cuDriverGetVersion(int *version) {
  if (version == NULL) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  *version = forced() == cudaErrorInsufficientDriver ? 0 : FAKE_VERSION;
  return CUDA_SUCCESS;
}

CUresult cuMemGetAddressRange(CUdeviceptr *base, size_t *size, CUdeviceptr p) {
  int e = enter();
  if (e != 0) {
    return (CUresult)e;
  }
  pthread_mutex_lock(&lock);
  alloc_t *a = find_alloc((uintptr_t)p);
  if (a != NULL) {
    if (base != NULL) {
      *base = (CUdeviceptr)a->alias;
    }
    if (size != NULL) {
      *size = a->size;
    }
  }
  pthread_mutex_unlock(&lock);
  return a == NULL ? CUDA_ERROR_NOT_FOUND : CUDA_SUCCESS;
}

/* ------------------------------------------------------------------ devices and versions */

cudaError_t cudaRuntimeGetVersion(int *v) {
  if (v == NULL) {
    return cudaErrorInvalidValue;
  }
  *v = FAKE_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *v) {
  if (v == NULL) {
    return cudaErrorInvalidValue;
  }
  *v = forced() == cudaErrorInsufficientDriver ? 0 : FAKE_VERSION;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int *count) {
  ENTER();
  if (count == NULL) {
    return cudaErrorInvalidValue;
  }
  int n = device_count();
  if (n == 0) {
    return cudaErrorNoDevice; /* the count is left as it was, as the real runtime leaves it */
  }
  *count = n;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  ENTER();
  if (device < 0 || device >= device_count()) {
    return cudaErrorInvalidDevice;
  }
  current_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int *device) {
  ENTER();
  if (device == NULL) {
    return cudaErrorInvalidValue;
  }
  *device = current_device;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device) {
  ENTER();
  if (value == NULL) {
    return cudaErrorInvalidValue;
  }
  if (device < 0 || device >= device_count()) {
    return cudaErrorInvalidDevice;
  }
  switch (attr) {
    case cudaDevAttrMultiProcessorCount: *value = 132; break;
    case cudaDevAttrPciBusId: *value = 0x18 + device; break;
    case cudaDevAttrPciDeviceId: *value = 0; break;
    case cudaDevAttrPciDomainId: *value = 0; break;
    case cudaDevAttrUnifiedAddressing: *value = 1; break;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    case cudaDevAttrIpcEventSupport: *value = 1; break;
    case cudaDevAttrAsyncEngineCount: *value = 3; break;
    default: *value = 0; break;
  }
  return cudaSuccess;
}

cudaError_t cudaDeviceGetPCIBusId(char *bus, int len, int device) {
  ENTER();
  if (bus == NULL || len <= 0) {
    return cudaErrorInvalidValue;
  }
  if (device < 0 || device >= device_count()) {
    return cudaErrorInvalidDevice;
  }
  snprintf(bus, (size_t)len, "0000:%02x:00.0", 0x18 + device);
  return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
  return (cudaError_t)enter();
}

const char *cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorStubLibrary: return "cudaErrorStubLibrary";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorDeviceUninitialized: return "cudaErrorDeviceUninitialized";
    case cudaErrorMapBufferObjectFailed: return "cudaErrorMapBufferObjectFailed";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorHostMemoryAlreadyRegistered: return "cudaErrorHostMemoryAlreadyRegistered";
    case cudaErrorHostMemoryNotRegistered: return "cudaErrorHostMemoryNotRegistered";
    case cudaErrorNotPermitted: return "cudaErrorNotPermitted";
    case cudaErrorUnknown: return "cudaErrorUnknown";
    default: return "cudaErrorUnknown";
  }
}

const char *cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInsufficientDriver:
      return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorMapBufferObjectFailed: return "mapping of buffer object failed";
    case cudaErrorNotPermitted: return "operation not permitted";
    default: return "unrecognized error code";
  }
}

/* ------------------------------------------------------------------ streams, events, host functions */

enum op_kind { OP_COPY, OP_HOST_FN };

typedef struct op {
  struct op *next;    /* in its stream */
  struct op *hf_next; /* in the host-function thread's queue */
  enum op_kind kind;
  char *dst;
  const char *src;
  size_t n;
  cudaHostFn_t fn;
  void *user_data;
} op_t;

typedef struct stream {
  pthread_mutex_t m;
  pthread_cond_t c;
  op_t *head, *tail;
  uint64_t enqueued, done;
  int stop;
  int paused; /* tefake_pause_stream: queued work waits */
  int device;
  pthread_t thread;
} stream_t;

typedef struct event {
  stream_t *stream; /* NULL: never recorded */
  uint64_t seq;
} event_t;

static atomic_int live_streams, live_events;

/* The driver's one host-function thread, shared by every stream. */
static pthread_mutex_t hf_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hf_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t hf_done_cond = PTHREAD_COND_INITIALIZER;
static op_t *hf_head, *hf_tail;
static uint64_t hf_enqueued, hf_done;
static pthread_once_t hf_once = PTHREAD_ONCE_INIT;

static void *host_fn_thread(void *arg) {
  (void)arg;
  in_host_fn = 1;
  pthread_mutex_lock(&hf_lock);
  for (;;) {
    while (hf_head == NULL) {
      pthread_cond_wait(&hf_cond, &hf_lock);
    }
    op_t *op = hf_head;
    hf_head = op->hf_next;
    if (hf_head == NULL) {
      hf_tail = NULL;
    }
    pthread_mutex_unlock(&hf_lock);
    op->fn(op->user_data);
    pthread_mutex_lock(&hf_lock);
    hf_done++;
    pthread_cond_broadcast(&hf_done_cond);
  }
  return NULL;
}

static void start_host_fn_thread(void) {
  pthread_t t;
  pthread_create(&t, NULL, host_fn_thread, NULL);
  pthread_detach(t);
}

/* Runs a host function on the driver thread and waits for it, as the stream must. */
static void run_host_fn(op_t *op) {
  pthread_once(&hf_once, start_host_fn_thread);
  pthread_mutex_lock(&hf_lock);
  op->hf_next = NULL;
  if (hf_tail == NULL) {
    hf_head = op;
  } else {
    hf_tail->hf_next = op;
  }
  hf_tail = op;
  uint64_t mine = ++hf_enqueued;
  pthread_cond_signal(&hf_cond);
  while (hf_done < mine) {
    pthread_cond_wait(&hf_done_cond, &hf_lock);
  }
  pthread_mutex_unlock(&hf_lock);
}

static void jitter(void) {
  int max = atomic_load(&jitter_us);
  if (max > 0) {
    long us = max / 2 + rand() % (max - max / 2);
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
  }
}

static void *stream_thread(void *arg) {
  stream_t *s = arg;
  pthread_mutex_lock(&s->m);
  for (;;) {
    while ((s->head == NULL || s->paused) && !s->stop) {
      pthread_cond_wait(&s->c, &s->m);
    }
    if (s->head == NULL) {
      break;
    }
    op_t *op = s->head;
    pthread_mutex_unlock(&s->m);
    jitter();
    if (atomic_load(&sticky) != 0) {
      /* A lost device: queued work is dropped unrun and host functions are never called
         (CUDA.md 1.6); every call answers the sticky error meanwhile. */
    } else if (op->kind == OP_COPY) {
      memmove(op->dst, op->src, op->n);
    } else {
      run_host_fn(op);
    }
    pthread_mutex_lock(&s->m);
    s->head = op->next;
    if (s->head == NULL) {
      s->tail = NULL;
    }
    s->done++;
    pthread_cond_broadcast(&s->c);
    free(op);
  }
  pthread_mutex_unlock(&s->m);
  return NULL;
}

static stream_t *new_stream(void) {
  stream_t *s = calloc(1, sizeof(*s));
  pthread_mutex_init(&s->m, NULL);
  pthread_cond_init(&s->c, NULL);
  s->device = current_device;
  pthread_create(&s->thread, NULL, stream_thread, s);
  return s;
}

static stream_t *legacy;
static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;

static void make_legacy(void) {
  legacy = new_stream();
}

static stream_t *stream_of(cudaStream_t handle) {
  uintptr_t h = (uintptr_t)handle;
  if (h == 0 || h == (uintptr_t)cudaStreamLegacy || h == (uintptr_t)cudaStreamPerThread) {
    pthread_once(&legacy_once, make_legacy);
    return legacy;
  }
  return (stream_t *)handle;
}

static void enqueue(stream_t *s, op_t *op) {
  pthread_mutex_lock(&s->m);
  if (s->tail == NULL) {
    s->head = op;
  } else {
    s->tail->next = op;
  }
  s->tail = op;
  s->enqueued++;
  pthread_cond_broadcast(&s->c);
  pthread_mutex_unlock(&s->m);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned int flags) {
  (void)flags;
  ENTER();
  if (stream == NULL) {
    return cudaErrorInvalidValue;
  }
  *stream = (cudaStream_t)new_stream();
  atomic_fetch_add(&live_streams, 1);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t *stream) {
  return cudaStreamCreateWithFlags(stream, 0);
}

static cudaError_t wait_stream(stream_t *s, uint64_t seq) {
  pthread_mutex_lock(&s->m);
  while (s->done < seq && atomic_load(&sticky) == 0) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 10 * 1000 * 1000;
    if (t.tv_nsec >= 1000000000L) {
      t.tv_sec++;
      t.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->c, &s->m, &t);
  }
  pthread_mutex_unlock(&s->m);
  return (cudaError_t)atomic_load(&sticky);
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  ENTER();
  stream_t *s = stream_of(stream);
  pthread_mutex_lock(&s->m);
  uint64_t seq = s->enqueued;
  pthread_mutex_unlock(&s->m);
  return wait_stream(s, seq);
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  ENTER();
  stream_t *s = stream_of(stream);
  pthread_mutex_lock(&s->m);
  int idle = s->done == s->enqueued;
  pthread_mutex_unlock(&s->m);
  return idle ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaStreamGetDevice(cudaStream_t stream, int *device) {
  ENTER();
  if (device == NULL) {
    return cudaErrorInvalidValue;
  }
  *device = stream_of(stream)->device;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  ENTER();
  stream_t *s = stream_of(stream);
  if (s == legacy) {
    return cudaErrorInvalidResourceHandle;
  }
  /* As CUDA does, work already queued still runs before the stream's resources go. */
  pthread_mutex_lock(&s->m);
  uint64_t seq = s->enqueued;
  pthread_mutex_unlock(&s->m);
  wait_stream(s, seq);
  pthread_mutex_lock(&s->m);
  s->stop = 1;
  pthread_cond_broadcast(&s->c);
  pthread_mutex_unlock(&s->m);
  pthread_join(s->thread, NULL);
  for (op_t *op = s->head; op != NULL;) {
    op_t *next = op->next;
    free(op);
    op = next;
  }
  pthread_mutex_destroy(&s->m);
  pthread_cond_destroy(&s->c);
  free(s);
  atomic_fetch_sub(&live_streams, 1);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind kind,
    cudaStream_t stream) {
  ENTER();
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) {
    return cudaErrorInvalidMemcpyDirection;
  }
  int planned = atomic_load(&fail_copies);
  while (planned > 0) {
    if (atomic_compare_exchange_weak(&fail_copies, &planned, planned - 1)) {
      return (cudaError_t)atomic_load(&fail_copies_code);
    }
  }
  if (n == 0) {
    return cudaSuccess;
  }
  int error = cudaSuccess;
  char *d = translate((uintptr_t)dst, n, &error);
  const char *s = translate((uintptr_t)src, n, &error);
  if (d == NULL || s == NULL) {
    return (cudaError_t)error;
  }
  op_t *op = calloc(1, sizeof(*op));
  op->kind = OP_COPY;
  op->dst = d;
  op->src = s;
  op->n = n;
  enqueue(stream_of(stream), op);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, enum cudaMemcpyKind kind) {
  cudaError_t e = cudaMemcpyAsync(dst, src, n, kind, 0);
  return e != cudaSuccess ? e : cudaStreamSynchronize(0);
}

cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void *user_data) {
  ENTER();
  if (fn == NULL) {
    return cudaErrorInvalidValue;
  }
  op_t *op = calloc(1, sizeof(*op));
  op->kind = OP_HOST_FN;
  op->fn = fn;
  op->user_data = user_data;
  enqueue(stream_of(stream), op);
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags) {
  (void)flags;
  ENTER();
  if (event == NULL) {
    return cudaErrorInvalidValue;
  }
  *event = (cudaEvent_t)calloc(1, sizeof(event_t));
  atomic_fetch_add(&live_events, 1);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  ENTER();
  if (event == NULL) {
    return cudaErrorInvalidResourceHandle;
  }
  event_t *e = (event_t *)event;
  stream_t *s = stream_of(stream);
  pthread_mutex_lock(&s->m);
  e->stream = s;
  e->seq = s->enqueued;
  pthread_mutex_unlock(&s->m);
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  ENTER();
  event_t *e = (event_t *)event;
  if (e == NULL) {
    return cudaErrorInvalidResourceHandle;
  }
  if (e->stream == NULL) {
    return cudaSuccess;
  }
  pthread_mutex_lock(&e->stream->m);
  int done = e->stream->done >= e->seq;
  pthread_mutex_unlock(&e->stream->m);
  return done ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  ENTER();
  event_t *e = (event_t *)event;
  if (e == NULL) {
    return cudaErrorInvalidResourceHandle;
  }
  return e->stream == NULL ? cudaSuccess : wait_stream(e->stream, e->seq);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  ENTER();
  if (event == NULL) {
    return cudaErrorInvalidResourceHandle;
  }
  free(event);
  atomic_fetch_sub(&live_events, 1);
  return cudaSuccess;
}

/* ------------------------------------------------------------------ IPC */

struct ipc_handle {
  char magic[8];
  int32_t pid;
  int32_t fd;
  uint64_t id;
  uint64_t size;
  int32_t device;
};

_Static_assert(sizeof(struct ipc_handle) <= sizeof(cudaIpcMemHandle_t), "handle fits");

cudaError_t cudaIpcGetMemHandle(cudaIpcMemHandle_t *handle, void *p) {
  ENTER();
  if (handle == NULL) {
    return cudaErrorInvalidValue;
  }
  pthread_mutex_lock(&lock);
  alloc_t *a = find_alloc((uintptr_t)p);
  if (a == NULL || a->imported) {
    pthread_mutex_unlock(&lock);
    return cudaErrorInvalidValue;
  }
  struct ipc_handle h;
  memset(&h, 0, sizeof(h));
  memcpy(h.magic, IPC_MAGIC, 8);
  h.pid = getpid();
  h.fd = a->fd;
  h.id = a->id;
  h.size = a->size;
  h.device = a->device;
  pthread_mutex_unlock(&lock);
  memset(handle, 0, sizeof(*handle));
  memcpy(handle, &h, sizeof(h));
  return cudaSuccess;
}

/* True when the exporter's fd still is the memfd of allocation id (fds are reused). */
static int names_allocation(const char *path, uint64_t id) {
  char target[256];
  ssize_t n = readlink(path, target, sizeof(target) - 1);
  if (n < 0) {
    return 0;
  }
  target[n] = 0;
  char want[64];
  snprintf(want, sizeof(want), "/memfd:tefake-%llu ", (unsigned long long)id);
  return strncmp(target, want, strlen(want)) == 0;
}

cudaError_t cudaIpcOpenMemHandle(void **p, cudaIpcMemHandle_t handle, unsigned int flags) {
  ENTER();
  struct ipc_handle h;
  memcpy(&h, &handle, sizeof(h));
  if (p == NULL || flags != cudaIpcMemLazyEnablePeerAccess || memcmp(h.magic, IPC_MAGIC, 8) != 0
      || h.size == 0) {
    return cudaErrorInvalidValue;
  }
  if (h.pid == getpid()) {
    return cudaErrorDeviceUninitialized; /* CUDA refuses to open a handle in its own process */
  }
  pthread_mutex_lock(&lock);
  for (alloc_t *a = allocs; a != NULL; a = a->next) {
    if (a->imported && a->pid == h.pid && a->id == h.id) {
      a->refs++;
      atomic_fetch_add(&ipc_opens, 1);
      *p = (void *)a->alias;
      pthread_mutex_unlock(&lock);
      return cudaSuccess;
    }
  }
  pthread_mutex_unlock(&lock);
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/fd/%d", h.pid, h.fd);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || !names_allocation(path, h.id) || fstat(fd, &st) != 0
      || (uint64_t)st.st_size < h.size) {
    if (fd >= 0) {
      close(fd);
    }
    return cudaErrorMapBufferObjectFailed;
  }
  alloc_t *a = map_alloc(fd, h.size);
  close(fd);
  if (a == NULL) {
    return cudaErrorMapBufferObjectFailed;
  }
  a->fd = -1;
  a->imported = 1;
  atomic_fetch_add(&ipc_opens, 1);
  a->pid = h.pid;
  a->id = h.id;
  return publish(a, p);
}

cudaError_t cudaIpcCloseMemHandle(void *p) {
  ENTER();
  pthread_mutex_lock(&lock);
  alloc_t *a = find_alloc((uintptr_t)p);
  if (a == NULL || !a->imported || a->alias != (uintptr_t)p) {
    pthread_mutex_unlock(&lock);
    return cudaErrorInvalidValue;
  }
  int last = --a->refs == 0;
  if (last) {
    unlink_alloc(a);
  }
  pthread_mutex_unlock(&lock);
  if (last) {
    unmap_alloc(a);
  }
  return cudaSuccess;
}

/* ------------------------------------------------------------------ test controls */

/* Live objects: 0 own allocations, 1 IPC mappings, 2 streams, 3 events, 4 host registrations. */
int tefake_live(int what) {
  int n = 0;
  pthread_mutex_lock(&lock);
  if (what == 0 || what == 1) {
    for (alloc_t *a = allocs; a != NULL; a = a->next) {
      n += a->imported == (what == 1);
    }
  } else if (what == 4) {
    for (host_reg_t *h = host_regs; h != NULL; h = h->next) {
      n++;
    }
  }
  pthread_mutex_unlock(&lock);
  if (what == 2) {
    n = atomic_load(&live_streams);
  } else if (what == 3) {
    n = atomic_load(&live_events);
  }
  return n;
}

long tefake_ipc_opens(void) {
  return atomic_load(&ipc_opens);
}

long tefake_violations(void) {
  return atomic_load(&violations);
}

/* The device is lost: every later call returns code, queued work and host functions never run. */
void tefake_set_sticky(int code) {
  atomic_store(&sticky, code);
}

/* The next count cudaMemcpyAsync calls fail with code. */
void tefake_fail_next_copies(int count, int code) {
  atomic_store(&fail_copies_code, code);
  atomic_store(&fail_copies, count);
}

/* Each stream operation first waits a random time between us/2 and us microseconds. */
void tefake_set_jitter_us(int us) {
  atomic_store(&jitter_us, us);
}

/* While paused, a stream starts none of its queued work (what a slow producer kernel would do). */
void tefake_pause_stream(cudaStream_t stream, int paused) {
  stream_t *s = stream_of(stream);
  pthread_mutex_lock(&s->m);
  s->paused = paused;
  pthread_cond_broadcast(&s->c);
  pthread_mutex_unlock(&s->m);
}
