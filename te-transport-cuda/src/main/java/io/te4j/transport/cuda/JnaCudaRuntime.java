package io.te4j.transport.cuda;

import com.sun.jna.Callback;
import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Structure;

/**
 * The machine's CUDA runtime, bound with JNA direct mapping by explicit soname (CUDA.md 1.1, 1.7):
 * {@code libcudart.so.13}, or the file named by {@code te4j.cuda.cudart}. Never a bare {@code
 * cudart}, which JNA resolves to whatever version the search path holds highest, so 12.x
 * signatures could meet a 13.x library. No vendor runtime is bundled: the machine's is used.
 */
public final class JnaCudaRuntime implements CudaRuntime {
  /** System property naming the runtime library file to bind instead of {@code libcudart.so.13}. */
  public static final String LIBRARY_PROPERTY = "te4j.cuda.cudart";
  /** System property naming the driver library file to bind instead of {@code libcuda.so.1}. */
  public static final String DRIVER_PROPERTY = "te4j.cuda.driver";
  /** The runtime's major version these bindings were written for. */
  public static final int MAJOR = 13;
  /**
   * The one host function handed to the runtime (CUDA.md 3.3): held strongly for the life of the
   * class, since the native trampoline dies with the Java object, and its driver threads stay
   * attached to the JVM (attaching per call costs about 20 us). It only hands the token to {@link
   * HostFunctions}.
   */
  private static final HostFn HOST_FN = HostFunctions::run;

  static {
    Native.setCallbackThreadInitializer(HOST_FN,
        new CallbackThreadInitializer(true, false, "te4j-cuda-hostfn"));
  }

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

  private static native int cudaSetDevice(int device);

  private static native int cudaMemGetInfo(long[] free, long[] total);

  private static native int cudaGetDevice(int[] device);

  private static native int cudaHostRegister(long pointer, long bytes, int flags);

  private static native int cudaHostUnregister(long pointer);

  private static native int cudaStreamSynchronize(long stream);

  private static native int cudaStreamGetDevice(long stream, int[] device);

  private static native int cudaIpcOpenMemHandle(long[] pointer, IpcMemHandle.ByValue handle,
      int flags);

  private static native int cudaIpcCloseMemHandle(long pointer);

  private static native int cudaLaunchHostFunc(long stream, HostFn fn, long token);

  /** {@code cudaHostFn_t}: {@code void (*)(void *userData)}, the user data a token. */
  public interface HostFn extends Callback {
    void invoke(long token);
  }

  /** {@code cudaIpcMemHandle_t}: 64 opaque bytes, passed by value (CUDA.md 1.7 item 10). */
  @Structure.FieldOrder("reserved")
  public static class IpcMemHandle extends Structure {
    public byte[] reserved = new byte[CudaLayout.IPC_HANDLE_BYTES];

    /** The by-value form {@code cudaIpcOpenMemHandle} takes. */
    public static final class ByValue extends IpcMemHandle implements Structure.ByValue {}
  }

  /**
   * The driver ({@code libcuda.so.1}, installed with the NVIDIA driver, or the file named by
   * {@value #DRIVER_PROPERTY}), bound by the versioned names the CUDA 13 headers map to (CUDA.md
   * 1.3): bound on first use, so a machine without a driver still loads this class.
   */
  private static final class Driver {
    static final Throwable LINK_FAILURE = bindDriver();

    private static Throwable bindDriver() {
      String library = System.getProperty(DRIVER_PROPERTY, "libcuda.so.1");
      try {
        Native.register(Driver.class, NativeLibrary.getInstance(library));
        return null;
      } catch (UnsatisfiedLinkError | RuntimeException e) {
        UnsatisfiedLinkError err = new UnsatisfiedLinkError("the CUDA driver (" + library
            + ") cannot be loaded: it comes with the NVIDIA driver, or set -D" + DRIVER_PROPERTY
            + "=PATH");
        err.initCause(e);
        return err;
      }
    }

    static native int cuMemGetAddressRange_v2(long[] base, long[] size, long pointer);
  }

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

  @Override
  public int setDevice(int device) {
    linked();
    return cudaSetDevice(device);
  }

  @Override
  public int memGetInfo(long[] free, long[] total) {
    linked();
    return cudaMemGetInfo(free, total);
  }

  @Override
  public int getDevice(int[] device) {
    linked();
    return cudaGetDevice(device);
  }

  @Override
  public int hostRegister(long pointer, long bytes, int flags) {
    linked();
    return cudaHostRegister(pointer, bytes, flags);
  }

  @Override
  public int hostUnregister(long pointer) {
    linked();
    return cudaHostUnregister(pointer);
  }

  @Override
  public int streamSynchronize(long stream) {
    linked();
    return cudaStreamSynchronize(stream);
  }

  @Override
  public int streamGetDevice(long stream, int[] device) {
    linked();
    return cudaStreamGetDevice(stream, device);
  }

  @Override
  public int ipcOpenMemHandle(long[] pointer, byte[] handle, int flags) {
    linked();
    if (handle.length != CudaLayout.IPC_HANDLE_BYTES) {
      throw new IllegalArgumentException("an IPC handle has " + CudaLayout.IPC_HANDLE_BYTES
          + " bytes, not " + handle.length);
    }
    IpcMemHandle.ByValue h = new IpcMemHandle.ByValue();
    System.arraycopy(handle, 0, h.reserved, 0, handle.length);
    return cudaIpcOpenMemHandle(pointer, h, flags);
  }

  @Override
  public int ipcCloseMemHandle(long pointer) {
    linked();
    return cudaIpcCloseMemHandle(pointer);
  }

  @Override
  public int memGetAddressRange(long[] base, long[] size, long pointer) {
    if (Driver.LINK_FAILURE != null) {
      UnsatisfiedLinkError e = new UnsatisfiedLinkError(Driver.LINK_FAILURE.getMessage());
      e.initCause(Driver.LINK_FAILURE);
      throw e;
    }
    return Driver.cuMemGetAddressRange_v2(base, size, pointer);
  }

  @Override
  public int launchHostFunc(long stream, long token) {
    linked();
    return cudaLaunchHostFunc(stream, HOST_FN, token);
  }
}
