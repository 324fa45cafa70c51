package io.te4j.transport.cuda;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed number of non-blocking streams on one GPU (CUDA.md 0 item 5: the engine's own, never the
 * legacy default stream), made on first use with that GPU current and handed out in turn.
 */
final class StreamPool {
  private final CudaRuntime cuda;
  private final int device;
  private final int size;
  private final AtomicInteger next = new AtomicInteger();
  private volatile long[] streams;

  /**
   * @param device the GPU the streams belong to, or -1 for the current one of the thread that
   *     first asks
   */
  StreamPool(CudaRuntime cuda, int device, int size) {
    this.cuda = cuda;
    this.device = device;
    this.size = size;
  }

  /** The next stream in turn. */
  long next() {
    long[] s = streams;
    if (s == null) {
      s = make();
    }
    return s[Math.floorMod(next.getAndIncrement(), s.length)];
  }

  private synchronized long[] make() {
    if (streams == null) {
      long[] s = new long[size];
      onDevice(cuda, device, () -> {
        for (int i = 0; i < s.length; i++) {
          long[] out = {0};
          CudaErrors.check(cuda, cuda.streamCreateWithFlags(out, CudaLayout.STREAM_NON_BLOCKING),
              "cudaStreamCreateWithFlags");
          s[i] = out[0];
        }
      });
      streams = s;
    }
    return streams;
  }

  /** Waits for everything enqueued on the streams (a lost device answers with its error). */
  synchronized void synchronize() {
    if (streams != null) {
      for (long s : streams) {
        cuda.streamSynchronize(s);
      }
    }
  }

  synchronized void destroy() {
    if (streams != null) {
      for (long s : streams) {
        cuda.streamDestroy(s);
      }
      streams = null;
    }
  }

  /**
   * Runs {@code r} with GPU {@code device} current (-1: as it is), then makes the caller's GPU
   * current again: the current GPU is per thread, and the caller's must not change under it.
   */
  static void onDevice(CudaRuntime cuda, int device, Runnable r) {
    int[] previous = {0};
    boolean restore = device >= 0 && cuda.getDevice(previous) == 0 && previous[0] != device;
    if (restore) {
      CudaErrors.check(cuda, cuda.setDevice(device), "cudaSetDevice(" + device + ")");
    }
    try {
      r.run();
    } finally {
      if (restore) {
        cuda.setDevice(previous[0]);
      }
    }
  }
}
