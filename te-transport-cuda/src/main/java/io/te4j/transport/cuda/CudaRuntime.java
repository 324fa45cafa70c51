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
}
