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

  private static native int cudaMalloc(long[] pointer, long bytes);

  private static native int cudaFree(long pointer);

  private static native int cudaPointerGetAttributes(long out, long pointer);

  private static native int cudaMemcpyAsync(long dst, long src, long bytes, int kind, long stream);

  private static native int cudaStreamCreateWithFlags(long[] stream, int flags);

  private static native int cudaStreamDestroy(long stream);

  private static native int cudaEventCreateWithFlags(long[] event, int flags);

  private static native int cudaEventRecord(long event, long stream);

  private static native int cudaEventQuery(long event);

  private static native int cudaEventDestroy(long event);

  private static native int cudaIpcGetMemHandle(long out, long pointer);

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

  @Override
  public int malloc(long[] pointer, long bytes) {
    linked();
    return cudaMalloc(pointer, bytes);
  }

  @Override
  public int free(long pointer) {
    linked();
    return cudaFree(pointer);
  }

  @Override
  public int pointerGetAttributes(long out, long pointer) {
    linked();
    return cudaPointerGetAttributes(out, pointer);
  }

  @Override
  public int memcpyAsync(long dst, long src, long bytes, int kind, long stream) {
    linked();
    return cudaMemcpyAsync(dst, src, bytes, kind, stream);
  }

  @Override
  public int streamCreateWithFlags(long[] stream, int flags) {
    linked();
    return cudaStreamCreateWithFlags(stream, flags);
  }

  @Override
  public int streamDestroy(long stream) {
    linked();
    return cudaStreamDestroy(stream);
  }

  @Override
  public int eventCreateWithFlags(long[] event, int flags) {
    linked();
    return cudaEventCreateWithFlags(event, flags);
  }

  @Override
  public int eventRecord(long event, long stream) {
    linked();
    return cudaEventRecord(event, stream);
  }

  @Override
  public int eventQuery(long event) {
    linked();
    return cudaEventQuery(event);
  }

  @Override
  public int eventDestroy(long event) {
    linked();
    return cudaEventDestroy(event);
  }

  @Override
  public int ipcGetMemHandle(long out, long pointer) {
    linked();
    return cudaIpcGetMemHandle(out, pointer);
  }
}
