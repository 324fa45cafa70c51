package io.te4j.transport.cuda;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * The machine's CUDA runtime, bound with JNA direct mapping by explicit soname (CUDA.md 1.1, 1.7):
 * {@code libcudart.so.13}, or the file named by {@code te4j.cuda.cudart}. Never a bare {@code
 * cudart}, which JNA resolves to whatever version the search path holds highest, so 12.x
 * signatures could meet a 13.x library. No vendor runtime is bundled: the machine's is used.
 */
public final class JnaCudaRuntime implements CudaRuntime {
  /** System property naming the runtime library file to bind instead of {@code libcudart.so.13}. */
  public static final String LIBRARY_PROPERTY = "te4j.cuda.cudart";
  /** The runtime's major version these bindings were written for. */
  public static final int MAJOR = 13;
  /** Why the runtime could not be bound, or null. */
  private static final Throwable LINK_FAILURE = bind();

  private static Throwable bind() {
    String library = System.getProperty(LIBRARY_PROPERTY, "libcudart.so." + MAJOR);
    try {
      Native.register(JnaCudaRuntime.class, NativeLibrary.getInstance(library));
      return null;
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      UnsatisfiedLinkError err = new UnsatisfiedLinkError("the CUDA " + MAJOR + " runtime ("
          + library + ") cannot be loaded: install the CUDA " + MAJOR + " runtime (toolkit or the "
          + "nvidia-cuda-runtime package) or set -D" + LIBRARY_PROPERTY + "=PATH");
      err.initCause(e);
      return err;
    }
  }

  /** Why the runtime could not be bound, or null when it is. */
  public static Throwable linkFailure() {
    return LINK_FAILURE;
  }

  /** Public no-argument constructor; calls fail with {@link #linkFailure()} when unbound. */
  public JnaCudaRuntime() {}

  private static native int cudaRuntimeGetVersion(int[] version);

  private static native int cudaDriverGetVersion(int[] version);

  private static native int cudaGetDeviceCount(int[] count);

  private static native int cudaDeviceGetAttribute(int[] value, int attribute, int device);

  private static native int cudaDeviceGetPCIBusId(byte[] busId, int length, int device);

  private static native String cudaGetErrorName(int error);

  private static native String cudaGetErrorString(int error);

  private static void linked() {
    if (LINK_FAILURE != null) {
      UnsatisfiedLinkError e = new UnsatisfiedLinkError(LINK_FAILURE.getMessage());
      e.initCause(LINK_FAILURE);
      throw e;
    }
  }

  @Override
  public int runtimeGetVersion(int[] version) {
    linked();
    return cudaRuntimeGetVersion(version);
  }

  @Override
  public int driverGetVersion(int[] version) {
    linked();
    return cudaDriverGetVersion(version);
  }

  @Override
  public int getDeviceCount(int[] count) {
    linked();
    return cudaGetDeviceCount(count);
  }

  @Override
  public int deviceGetAttribute(int[] value, int attribute, int device) {
    linked();
    return cudaDeviceGetAttribute(value, attribute, device);
  }

  @Override
  public int deviceGetPciBusId(byte[] busId, int length, int device) {
    linked();
    return cudaDeviceGetPCIBusId(busId, length, device);
  }

  @Override
  public String errorName(int error) {
    linked();
    return cudaGetErrorName(error);
  }

  @Override
  public String errorString(int error) {
    linked();
    return cudaGetErrorString(error);
  }
}
