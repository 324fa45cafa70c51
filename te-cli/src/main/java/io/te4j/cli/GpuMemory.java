package io.te4j.cli;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.transport.cuda.CudaLayout;
import io.te4j.transport.cuda.CudaProbe;
import io.te4j.transport.cuda.CudaRuntime;
import io.te4j.transport.cuda.JnaCudaRuntime;
import java.util.concurrent.atomic.AtomicLong;

/**
 * GPU memory for {@code te bench --gpu N}: buffers on one GPU, filled through a host copy (the CPU
 * cannot touch them), and the bench's baseline for GPU memory, the same copies made with {@code
 * cudaMemcpyAsync} and no engine.
 */
final class GpuMemory {
  private static final CudaRuntime CUDA = new JnaCudaRuntime();

  private GpuMemory() {}

  /** Fails with the reason when there is no usable GPU {@code gpu}. */
  static void check(int gpu) {
    CudaProbe.Result r = CudaProbe.probe();
    if (!r.available()) {
      throw new UsageException("--gpu " + gpu + ": " + r.cause());
    }
    if (gpu < 0 || gpu >= r.gpus().size()) {
      throw new UsageException("--gpu " + gpu + ": this machine has GPUs 0.."
          + (r.gpus().size() - 1));
    }
  }

  /** {@code bytes} of memory on GPU {@code gpu}, each byte {@code value}. */
  static long allocate(int gpu, long bytes, byte value) {
    int[] previous = {0};
    CUDA.getDevice(previous);
    check(CUDA.setDevice(gpu), "cudaSetDevice");
    try {
      long[] p = {0};
      check(CUDA.malloc(p, bytes), "cudaMalloc");
      long chunk = Math.min(bytes, 64L << 20);
      com.sun.jna.Memory host = new com.sun.jna.Memory(chunk);
      host.setMemory(0, chunk, value);
      for (long at = 0; at < bytes; at += chunk) {
        check(CUDA.memcpyAsync(p[0] + at, com.sun.jna.Pointer.nativeValue(host),
            Math.min(chunk, bytes - at), CudaLayout.MEMCPY_HOST_TO_DEVICE, 0), "cudaMemcpyAsync");
      }
      check(CUDA.streamSynchronize(0), "cudaStreamSynchronize");
      return p[0];
    } finally {
      CUDA.setDevice(previous[0]);
    }
  }

  static void free(long pointer) {
    CUDA.free(pointer);
  }

  /**
   * GB/s of device-to-device {@code cudaMemcpyAsync}s of the bench's shape on GPU {@code gpu}:
   * {@code threads} threads, each with its own stream, copying {@code block} bytes at a time round
   * its own {@code batch x block} range and waiting for each batch, for {@code seconds}.
   */
  static double memcpyBaseline(int gpu, long block, int batch, int threads, int seconds)
      throws InterruptedException {
    long perThread = block * batch;
    long src = allocate(gpu, perThread * threads, (byte) 0x5a);
    long dst = allocate(gpu, perThread * threads, (byte) 0);
    try {
      return Baselines.inParallel("cudamemcpy", threads, seconds, (t, deadline, bytes) ->
          copyUntil(gpu, dst + t * perThread, src + t * perThread, block, batch, deadline, bytes));
    } finally {
      free(src);
      free(dst);
    }
  }

  private static void copyUntil(int gpu, long dst, long src, long block, int batch,
      long deadline, AtomicLong bytes) {
    check(CUDA.setDevice(gpu), "cudaSetDevice");
    long[] s = {0};
    check(CUDA.streamCreateWithFlags(s, CudaLayout.STREAM_NON_BLOCKING), "cudaStreamCreate");
    try {
      while (System.nanoTime() < deadline) {
        for (int i = 0; i < batch; i++) {
          check(CUDA.memcpyAsync(dst + i * block, src + i * block, block,
              CudaLayout.MEMCPY_DEFAULT, s[0]), "cudaMemcpyAsync");
        }
        check(CUDA.streamSynchronize(s[0]), "cudaStreamSynchronize");
        bytes.addAndGet(block * batch);
      }
    } finally {
      CUDA.streamDestroy(s[0]);
    }
  }

  private static void check(int rc, String call) {
    if (rc != 0) {
      throw new TransferException(ErrorCode.TRANSFER_FAILED, call + " returned " + rc + " ("
          + CUDA.errorName(rc) + ")");
    }
  }
}
