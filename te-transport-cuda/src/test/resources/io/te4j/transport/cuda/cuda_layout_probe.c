/* Prints every size, offset and constant CudaLayout holds, from the installed CUDA headers. */
#include <stddef.h>
#include <stdio.h>
#include <cuda_runtime_api.h>

#define P(name, value) printf("%s %ld\n", name, (long)(value))

int main(void) {
  P("POINTER_ATTRIBUTES_BYTES", sizeof(struct cudaPointerAttributes));
  P("POINTER_ATTRIBUTES_BUFFER", sizeof(struct cudaPointerAttributes) <= 128 ? 128 : -1);
  P("PA_TYPE", offsetof(struct cudaPointerAttributes, type));
  P("PA_DEVICE", offsetof(struct cudaPointerAttributes, device));
  P("PA_DEVICE_POINTER", offsetof(struct cudaPointerAttributes, devicePointer));
  P("PA_HOST_POINTER", offsetof(struct cudaPointerAttributes, hostPointer));
  P("IPC_HANDLE_BYTES", sizeof(cudaIpcMemHandle_t));
  P("MEMCPY_HOST_TO_DEVICE", cudaMemcpyHostToDevice);
  P("MEMCPY_DEVICE_TO_HOST", cudaMemcpyDeviceToHost);
  P("MEMCPY_DEVICE_TO_DEVICE", cudaMemcpyDeviceToDevice);
  P("MEMCPY_DEFAULT", cudaMemcpyDefault);
  P("MEMORY_UNREGISTERED", cudaMemoryTypeUnregistered);
  P("MEMORY_HOST", cudaMemoryTypeHost);
  P("MEMORY_DEVICE", cudaMemoryTypeDevice);
  P("MEMORY_MANAGED", cudaMemoryTypeManaged);
  P("STREAM_NON_BLOCKING", cudaStreamNonBlocking);
  P("EVENT_DISABLE_TIMING", cudaEventDisableTiming);
  P("IPC_LAZY_ENABLE_PEER_ACCESS", cudaIpcMemLazyEnablePeerAccess);
  P("SUCCESS", cudaSuccess);
  P("ERROR_INVALID_VALUE", cudaErrorInvalidValue);
  P("ERROR_STUB_LIBRARY", cudaErrorStubLibrary);
  P("ERROR_INSUFFICIENT_DRIVER", cudaErrorInsufficientDriver);
  P("ERROR_NO_DEVICE", cudaErrorNoDevice);
  P("ERROR_NOT_READY", cudaErrorNotReady);
  P("ERROR_NOT_PERMITTED", cudaErrorNotPermitted);
  P("ATTR_UNIFIED_ADDRESSING", cudaDevAttrUnifiedAddressing);
  P("ATTR_COMPUTE_MAJOR", cudaDevAttrComputeCapabilityMajor);
  P("ATTR_COMPUTE_MINOR", cudaDevAttrComputeCapabilityMinor);
  return 0;
}
