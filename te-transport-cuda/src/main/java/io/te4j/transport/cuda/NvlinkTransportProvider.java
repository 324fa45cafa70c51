package io.te4j.transport.cuda;

import io.te4j.api.spi.Availability;
import io.te4j.api.spi.ProbedAvailability;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;
import java.util.List;
import java.util.Set;

/**
 * Finds the {@code nvlink} transport (also {@code nvlink_intra} and {@code cuda}, as in the
 * reference): GPU memory of peers on this host, mapped through CUDA IPC handles. Available where
 * the CUDA 13 runtime binds and sees a GPU ({@link CudaProbe}); otherwise the cause names the CUDA
 * error (no driver, no device, the wrong runtime).
 */
public final class NvlinkTransportProvider implements TransportProvider {
  static final String NAME = "nvlink";

  static final ProbedAvailability AVAILABILITY = ProbedAvailability.of("transport", NAME,
      () -> {
        CudaProbe.Result r = CudaProbe.probe();
        return r.available() ? null : new IllegalStateException(r.cause());
      });

  /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
  public NvlinkTransportProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> aliases() {
    return Set.of("nvlink_intra", "cuda");
  }

  @Override
  public Availability availability() {
    return AVAILABILITY;
  }

  @Override
  public List<Setting<?>> settings() {
    return NvlinkSettings.ALL;
  }

  @Override
  public Transport create(TransportContext context) {
    return new NvlinkTransport(context, new JnaCudaRuntime());
  }
}
