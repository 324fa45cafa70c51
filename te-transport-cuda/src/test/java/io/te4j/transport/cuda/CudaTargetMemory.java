package io.te4j.transport.cuda;

import io.te4j.core.Engine;
import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TargetMemory;

/**
 * A contract target's memory on {@code cuda:0}: one {@code cudaMalloc} allocation handed out in
 * consecutive pieces (so the target's buffers are interior pointers of one allocation, published
 * with their offsets), read back through a device-to-host copy.
 */
public final class CudaTargetMemory implements TargetMemory {
  private static final long HEADROOM = 1 << 20;
  private final CudaRuntime cuda = new JnaCudaRuntime();
  private long base;
  private long next;

  public CudaTargetMemory() {}

  /**
   * An nvlink pair: an initiator engine here and a target engine in a child JVM whose memory is
   * this class's, both on the CUDA runtime this JVM binds ({@code te4j.cuda.cudart}).
   */
  public static ChildTargetPair pair() throws Exception {
    return pair("nvlink");
  }

  /** A pair running {@code protocol} whose target's memory is this class's. */
  public static ChildTargetPair pair(String protocol) throws Exception {
    return onThisRuntime(ChildTargetPair.builder(protocol).protocol(protocol))
        .targetMemory(CudaTargetMemory.class.getName())
        .open();
  }

  /** {@code pair} with its target JVM bound to the CUDA runtime and driver this JVM binds. */
  static ChildTargetPair.Builder onThisRuntime(ChildTargetPair.Builder pair) {
    return pair
        .targetJvmOption("-D" + JnaCudaRuntime.LIBRARY_PROPERTY + "=" + FakeCuda.library())
        .targetJvmOption("-D" + JnaCudaRuntime.DRIVER_PROPERTY + "="
            + System.getProperty(JnaCudaRuntime.DRIVER_PROPERTY, "libcuda.so.1"));
  }

  @Override
  public long reserve(Engine engine, long bytes) {
    if (base == 0) {
      long[] p = {0};
      check(cuda.malloc(p, bytes + HEADROOM), "cudaMalloc");
      base = p[0];
      next = base;
    }
    long at = next;
    next += bytes;
    return at;
  }

  @Override
  public String location() {
    return "cuda:0";
  }

  @Override
  public void read(long local, byte[] out) {
    com.sun.jna.Memory host = new com.sun.jna.Memory(Math.max(1, out.length));
    check(cuda.memcpyAsync(com.sun.jna.Pointer.nativeValue(host), local, out.length,
        CudaLayout.MEMCPY_DEVICE_TO_HOST, 0), "cudaMemcpyAsync");
    check(cuda.streamSynchronize(0), "cudaStreamSynchronize");
    host.read(0, out, 0, out.length);
  }

  private void check(int rc, String call) {
    CudaErrors.check(cuda, rc, call);
  }
}
