package io.te4j.transport.cuda;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The test controls of the fake CUDA runtime ({@code src/test/c/fakecudart.c}) that the
 * integration tests bind through {@code te4j.cuda.cudart}: live objects, calls made from host
 * functions, injected faults, and a CPU read of fake device memory.
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

    void tefake_set_sticky(int code);

    void tefake_fail_next_copies(int count, int code);

    void tefake_set_jitter_us(int us);

    void tefake_pause_stream(long stream, int paused);

    int tefake_peek(long pointer, byte[] out, long bytes);
  }

  private FakeCuda() {}

  /** The fake's path; fails naming what is missing when the build could not make it. */
  public static Path library() {
    String p = System.getProperty(JnaCudaRuntime.LIBRARY_PROPERTY);
    if (p == null || !Files.isRegularFile(Path.of(p))) {
      throw new AssertionError("the fake CUDA runtime is not built (" + p + "): the build makes "
          + "it from src/test/c/fakecudart.c with gcc and the CUDA 13 headers (CUDA_HOME, default "
          + "/usr/local/cuda)");
    }
    return Path.of(p);
  }

  /** The controls of the fake this JVM bound (the same library instance JnaCudaRuntime uses). */
  public static Controls controls() {
    return Holder.CONTROLS;
  }

  private static final class Holder {
    static final Controls CONTROLS = Native.load(library().toString(), Controls.class);
  }
}
