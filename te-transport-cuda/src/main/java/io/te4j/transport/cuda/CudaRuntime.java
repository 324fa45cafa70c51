package io.te4j.transport.cuda;

/**
 * The CUDA runtime calls te4j makes, behind one seam (CUDA.md 4.1): {@link JnaCudaRuntime} binds
 * the machine's {@code libcudart.so.13}; tests can stand in another. Calls return the {@code
 * cudaError_t} as the runtime does and write out-parameters into arrays the caller initialised
 * (the runtime leaves them untouched on error).
 */
public interface CudaRuntime {
  /** {@code cudaRuntimeGetVersion}: 13000 for CUDA 13.0. */
  int runtimeGetVersion(int[] version);

  /** {@code cudaDriverGetVersion}: 0 when no driver is installed. */
  int driverGetVersion(int[] version);

  /** {@code cudaGetDeviceCount}. */
  int getDeviceCount(int[] count);

  /** {@code cudaDeviceGetAttribute(value, attribute, device)}. */
  int deviceGetAttribute(int[] value, int attribute, int device);

  /** {@code cudaDeviceGetPCIBusId}: a NUL-terminated {@code dddd:bb:dd.f} into {@code busId}. */
  int deviceGetPciBusId(byte[] busId, int length, int device);

  /** {@code cudaGetErrorName}, e.g. {@code cudaErrorInsufficientDriver}. */
  String errorName(int error);

  /** {@code cudaGetErrorString}, the runtime's sentence for an error. */
  String errorString(int error);

  /** {@code cudaMalloc}: device memory's address into {@code pointer[0]}. */
  int malloc(long[] pointer, long bytes);

  /** {@code cudaFree}. */
  int free(long pointer);

  /**
   * {@code cudaPointerGetAttributes} into {@code out}, which must hold {@link
   * CudaLayout#POINTER_ATTRIBUTES_BUFFER} zeroed bytes (the call writes the running runtime's
   * struct, whose size changed in CUDA 13).
   */
  int pointerGetAttributes(long out, long pointer);

  /** {@code cudaMemcpyAsync} (kind {@link CudaLayout#MEMCPY_DEFAULT} infers the direction). */
  int memcpyAsync(long dst, long src, long bytes, int kind, long stream);

  /** {@code cudaStreamCreateWithFlags}. */
  int streamCreateWithFlags(long[] stream, int flags);

  /** {@code cudaStreamDestroy}. */
  int streamDestroy(long stream);

  /** {@code cudaEventCreateWithFlags}. */
  int eventCreateWithFlags(long[] event, int flags);

  /** {@code cudaEventRecord}. */
  int eventRecord(long event, long stream);

  /** {@code cudaEventQuery}: 0 when done, {@link CudaLayout#ERROR_NOT_READY} before. */
  int eventQuery(long event);

  /** {@code cudaEventDestroy}. */
  int eventDestroy(long event);

  /** {@code cudaIpcGetMemHandle}: the 64-byte handle of the allocation holding {@code pointer} into {@code out}. */
  int ipcGetMemHandle(long out, long pointer);

  /** {@code cudaMemGetInfo}: free and total bytes of the current device into {@code free[0]}, {@code total[0]}. */
  int memGetInfo(long[] free, long[] total);

  /** {@code cudaSetDevice}: the calling thread's current device. */
  int setDevice(int device);

  /** {@code cudaGetDevice}: the calling thread's current device into {@code device[0]}. */
  int getDevice(int[] device);

  /** {@code cudaHostRegister}: pins host memory so copies from and to it run asynchronously. */
  int hostRegister(long pointer, long bytes, int flags);

  /** {@code cudaHostUnregister}. */
  int hostUnregister(long pointer);

  /** {@code cudaStreamSynchronize}. */
  int streamSynchronize(long stream);

  /** {@code cudaStreamGetDevice}: the device of {@code stream} into {@code device[0]}. */
  int streamGetDevice(long stream, int[] device);

  /**
   * {@code cudaIpcOpenMemHandle}: maps another process's allocation; the 64-byte {@code handle} is
   * passed by value. The mapping's address (the allocation's base) into {@code pointer[0]}.
   */
  int ipcOpenMemHandle(long[] pointer, byte[] handle, int flags);

  /** {@code cudaIpcCloseMemHandle}: one reference fewer to a mapping opened here. */
  int ipcCloseMemHandle(long pointer);

  /**
   * The driver's {@code cuMemGetAddressRange_v2}: the base and size of the allocation holding
   * {@code pointer} (CUDA.md 2.3: caching allocators hand out interior pointers, and an IPC handle
   * always maps the whole allocation). Returns the {@code CUresult}.
   */
  int memGetAddressRange(long[] base, long[] size, long pointer);

  /**
   * {@code cudaLaunchHostFunc}: once the work enqueued on {@code stream} before has run, the
   * runtime's thread calls {@link HostFunctions#run} with {@code token} (which must make no CUDA
   * call); work enqueued after waits until it returns.
   */
  int launchHostFunc(long stream, long token);
}
