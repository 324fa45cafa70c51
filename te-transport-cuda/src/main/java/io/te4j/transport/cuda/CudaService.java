package io.te4j.transport.cuda;

import io.te4j.api.spi.Availability;

/**
 * What the CUDA module's engine services ({@link CudaStreamGate}, {@link CudaDeviceMemory}) share:
 * the runtime they call, their family, and the transport's availability (the runtime binds and
 * sees a GPU), so {@code te4j.transport.nvlink.disabled} switches them off too.
 */
abstract class CudaService {
  final CudaRuntime cuda;

  CudaService(CudaRuntime cuda) {
    this.cuda = cuda;
  }

  public final String family() {
    return "cuda";
  }

  public final Availability availability() {
    return NvlinkTransportProvider.AVAILABILITY;
  }
}
