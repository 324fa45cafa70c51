/*
 * The C baseline of the GPU check (CUDA.md section 5, G1/G6/G8): the copies te4j makes, timed the
 * same way the Java side times them (wall clock around a stream synchronisation, medians of 10
 * runs after warm-up), plus the IPC edge codes. Prints one JSON object per line.
 *
 *   cuda_ref                    all baselines
 *   cuda_ref ipc-child HEX SIZE the IPC-mapped copy, in the process that opens the handle
 *
 * Built on the GPU machine: gcc -O2 -I$CUDA_HOME/include cuda_ref.c -L<dir of libcudart.so.13>
 * -l:libcudart.so.13 -o cuda_ref
 */
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call)                                                                   \
  do {                                                                                \
    cudaError_t e_ = (call);                                                          \
    if (e_ != cudaSuccess) {                                                          \
      printf("{\"error\":\"%s\",\"code\":%d,\"line\":%d}\n", #call, (int)e_, __LINE__); \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* GB/s of copying n bytes (reps copies a run), median of 10 runs after 3 warm-up runs. */
static double rate(void *dst, const void *src, size_t n, int reps, cudaStream_t s) {
  double runs[10];
  for (int r = -3; r < 10; r++) {
    double t0 = now();
    for (int i = 0; i < reps; i++) {
      CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, s));
    }
    CHECK(cudaStreamSynchronize(s));
    if (r >= 0) {
      runs[r] = (double)n * reps / (now() - t0) / 1e9;
    }
  }
  qsort(runs, 10, sizeof(double), cmp);
  return (runs[4] + runs[5]) / 2;
}

static void report(const char *what, size_t n, double gbps) {
  printf("{\"check\":\"%s\",\"bytes\":%zu,\"gbps\":%.3f}\n", what, n, gbps);
  fflush(stdout);
}

static int reps_for(size_t n) {
  return n >= (64u << 20) ? 2 : n >= (1u << 20) ? 20 : 200;
}

static void ipc_child(const char *hex, size_t n) {
  cudaIpcMemHandle_t h;
  for (int i = 0; i < 64; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2X", &v);
    ((unsigned char *)&h)[i] = (unsigned char)v;
  }
  void *peer, *mine;
  cudaStream_t s;
  CHECK(cudaIpcOpenMemHandle(&peer, h, cudaIpcMemLazyEnablePeerAccess));
  CHECK(cudaMalloc(&mine, n));
  CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  for (size_t b = 1u << 20; b <= n; b *= 64) {
    report("c_ipc_d2d", b, rate(mine, peer, b, reps_for(b), s));
  }
  CHECK(cudaIpcCloseMemHandle(peer));
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "ipc-child") == 0) {
    ipc_child(argv[2], strtoull(argv[3], NULL, 10));
    return 0;
  }
  int count = 0, rt = 0, drv = 0;
  cudaError_t rc = cudaGetDeviceCount(&count);
  cudaRuntimeGetVersion(&rt);
  cudaDriverGetVersion(&drv);
  printf("{\"check\":\"c_probe\",\"rc\":%d,\"devices\":%d,\"runtime\":%d,\"driver\":%d}\n",
      (int)rc, count, rt, drv);
  if (rc != cudaSuccess || count == 0) {
    return 1;
  }
  /* G7: fabric handles (MNNVL) need this driver attribute on every GPU; te4j has no fabric path. */
  void *libcuda = dlopen("libcuda.so.1", RTLD_NOW);
  CUresult (*get)(int *, CUdevice_attribute, CUdevice) =
      libcuda == NULL ? NULL : (CUresult(*)(int *, CUdevice_attribute, CUdevice))dlsym(libcuda, "cuDeviceGetAttribute");
  int fabric = -1;
  if (get != NULL) {
    get(&fabric, CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED, 0);
  }
  printf("{\"check\":\"c_fabric_supported\",\"value\":%d}\n", fabric);
  size_t big = 1u << 30, host = 256u << 20;
  void *a, *b, *pinned, *pageable;
  cudaStream_t s;
  CHECK(cudaMalloc(&a, big));
  CHECK(cudaMalloc(&b, big));
  CHECK(cudaMallocHost(&pinned, host));
  pageable = malloc(host);
  memset(pageable, 1, host);
  CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  size_t sizes[] = {4096, 1u << 20, 64u << 20, 1u << 30};
  for (int i = 0; i < 4; i++) {
    report("c_d2d", sizes[i], rate(b, a, sizes[i], reps_for(sizes[i]), s));
  }
  for (int i = 0; i < 3; i++) {
    report("c_h2d_pinned", sizes[i], rate(a, pinned, sizes[i], reps_for(sizes[i]), s));
    report("c_d2h_pinned", sizes[i], rate(pinned, a, sizes[i], reps_for(sizes[i]), s));
  }
  report("c_h2d_pageable", host, rate(a, pageable, host, 2, s));
  /* IPC edge codes: same-process open, garbage handle (CUDA.md 6, open questions). */
  cudaIpcMemHandle_t h;
  CHECK(cudaIpcGetMemHandle(&h, a));
  void *p = NULL;
  printf("{\"check\":\"c_ipc_same_process\",\"rc\":%d}\n",
      (int)cudaIpcOpenMemHandle(&p, h, cudaIpcMemLazyEnablePeerAccess));
  cudaIpcMemHandle_t garbage;
  memset(&garbage, 0, sizeof(garbage));
  printf("{\"check\":\"c_ipc_garbage\",\"rc\":%d}\n",
      (int)cudaIpcOpenMemHandle(&p, garbage, cudaIpcMemLazyEnablePeerAccess));
  cudaGetLastError();
  /* The IPC-mapped copy, in a child that opens this allocation's handle. */
  char hex[129], cmd[512];
  for (int i = 0; i < 64; i++) {
    sprintf(hex + 2 * i, "%02X", ((unsigned char *)&h)[i]);
  }
  snprintf(cmd, sizeof(cmd), "%s ipc-child %s %zu", argv[0], hex, (size_t)(64u << 20));
  fflush(stdout);
  if (system(cmd) != 0) {
    printf("{\"check\":\"c_ipc_d2d\",\"error\":\"the child failed\"}\n");
  }
  CHECK(cudaFree(a));
  CHECK(cudaFree(b));
  CHECK(cudaFreeHost(pinned));
  free(pageable);
  return 0;
}
