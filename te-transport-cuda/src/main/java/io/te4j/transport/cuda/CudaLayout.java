package io.te4j.transport.cuda;

/**
 * Sizes, offsets and constants of the CUDA 13 runtime headers that te4j reads and writes
 * (CUDA.md 1.4, 1.5). {@code CudaLayoutTest} compiles a probe against the installed {@code
 * cuda_runtime_api.h} and checks every value here.
 */
public final class CudaLayout {
  private CudaLayout() {}

  /** {@code sizeof(struct cudaPointerAttributes)}: 88 since CUDA 13 (24 before). */
  public static final int POINTER_ATTRIBUTES_BYTES = 88;
  /**
   * Bytes given to {@code cudaPointerGetAttributes}, which has no size argument and writes the
   * running runtime's struct: more than any version's, zeroed.
   */
  public static final int POINTER_ATTRIBUTES_BUFFER = 128;
  public static final int PA_TYPE = 0;
  public static final int PA_DEVICE = 4;
  public static final int PA_DEVICE_POINTER = 8;
  public static final int PA_HOST_POINTER = 16;
  /** {@code sizeof(cudaIpcMemHandle_t)}, passed by value. */
  public static final int IPC_HANDLE_BYTES = 64;

  // enum cudaMemcpyKind
  public static final int MEMCPY_HOST_TO_DEVICE = 1;
  public static final int MEMCPY_DEVICE_TO_HOST = 2;
  public static final int MEMCPY_DEVICE_TO_DEVICE = 3;
  public static final int MEMCPY_DEFAULT = 4;
  // enum cudaMemoryType
  public static final int MEMORY_UNREGISTERED = 0;
  public static final int MEMORY_HOST = 1;
  public static final int MEMORY_DEVICE = 2;
  public static final int MEMORY_MANAGED = 3;
  // stream and event flags
  public static final int STREAM_NON_BLOCKING = 1;
  public static final int EVENT_DISABLE_TIMING = 2;
  public static final int IPC_LAZY_ENABLE_PEER_ACCESS = 1;
  // cudaError_t
  public static final int SUCCESS = 0;
  public static final int ERROR_INVALID_VALUE = 1;
  public static final int ERROR_STUB_LIBRARY = 34;
  public static final int ERROR_INSUFFICIENT_DRIVER = 35;
  public static final int ERROR_NO_DEVICE = 100;
  public static final int ERROR_NOT_READY = 600;
  public static final int ERROR_NOT_PERMITTED = 800;
  // enum cudaDeviceAttr
  public static final int ATTR_UNIFIED_ADDRESSING = 41;
  public static final int ATTR_COMPUTE_MAJOR = 75;
  public static final int ATTR_COMPUTE_MINOR = 76;
}
