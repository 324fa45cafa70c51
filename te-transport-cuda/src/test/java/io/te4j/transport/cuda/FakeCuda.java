package io.te4j.transport.cuda;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The test controls of the fake CUDA runtime ({@code src/test/c/fakecudart.c}) that the
 * integration tests bind through {@code te4j.cuda.cudart}: live objects, calls made from host
 * functions, injected faults, held-back streams.
 */
public final class FakeCuda {
  /** What {@link Controls#tefake_live} counts. */
  public static final int ALLOCATIONS = 0;
  public static final int IPC_MAPPINGS = 1;
  public static final int STREAMS = 2;
  public static final int EVENTS = 3;
  public static final int HOST_REGISTRATIONS = 4;

  /** The exported {@code tefake_*} functions. */
  public interface Controls extends Library {
    int tefake_live(int what);

    long tefake_violations();

    long tefake_ipc_opens();

    void tefake_set_sticky(int code);

    void tefake_fail_next_copies(int count, int code);

    void tefake_set_jitter_us(int us);

    void tefake_pause_stream(long stream, int paused);
  }

  private FakeCuda() {}

  /**
   * The runtime the tests bind ({@code te4j.cuda.cudart}: the fake in CI, the machine's runtime in
   * the GPU check); fails naming what is missing when the build could not make the fake.
   */
  public static String library() {
    String p = System.getProperty(JnaCudaRuntime.LIBRARY_PROPERTY, "libcudart.so.13");
    if (p.contains("/") && !Files.isRegularFile(Path.of(p))) {
      throw new AssertionError("the fake CUDA runtime is not built (" + p + "): the build makes "
          + "it from src/test/c/fakecudart.c with gcc and the CUDA 13 headers (CUDA_HOME, default "
          + "/usr/local/cuda)");
    }
    return p;
  }

  /** True when the tests run over the fake (CI), not a real GPU (the GPU check). */
  public static boolean active() {
    String p = System.getProperty(JnaCudaRuntime.LIBRARY_PROPERTY, "");
    return p.endsWith("libte_fakecudart.so");
  }

  /** Skips a test that injects faults or counts the fake's objects, on a real GPU. */
  public static void assumeActive() {
    org.junit.jupiter.api.Assumptions.assumeTrue(active(),
        "needs the fake runtime's fault injection and counters; a real GPU has neither");
  }

  /** The controls of the fake this JVM bound (the same library instance JnaCudaRuntime uses). */
  public static Controls controls() {
    return Holder.CONTROLS;
  }

  private static final class Holder {
    static final Controls CONTROLS = Native.load(library(), Controls.class);
  }
}
