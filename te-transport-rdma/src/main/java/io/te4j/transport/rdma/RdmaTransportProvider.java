package io.te4j.transport.rdma;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.Availability;
import io.te4j.api.spi.ProbedAvailability;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.SettingSource;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;
import io.te4j.transport.rdma.verbs.VerbsException;
import java.util.List;

/**
 * Finds the RDMA transport for {@link java.util.ServiceLoader} under the name {@code rdma}.
 * Available where the verbs chosen by {@code te4j.rdma.verbs} list at least one device; otherwise
 * the cause says what is missing: libte4jrdma (the classifier JAR), libibverbs (rdma-core), kernel
 * support ({@code ibv_get_device_list} failing with ENOSYS) or a device.
 */
public final class RdmaTransportProvider implements TransportProvider {
  static final String NAME = "rdma";

  private final Availability availability = ProbedAvailability.of("transport", NAME,
      () -> probe(RdmaSettings.VERBS.valueIn(SettingSource.system())));

  /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
  public RdmaTransportProvider() {}

  /** Why the verbs named {@code verbs} cannot run here, or null. */
  static Throwable probe(String verbs) {
    try {
      if (VerbsChoice.create(verbs).devices().isEmpty()) {
        return new VerbsException("no RDMA device: ibv_get_device_list found none");
      }
      return null;
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return e;
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Availability availability() {
    return availability;
  }

  @Override
  public List<Setting<?>> settings() {
    return RdmaSettings.ALL;
  }

  @Override
  public Transport create(TransportContext context) {
    try {
      return new RdmaTransport(context, VerbsChoice.create(context.setting(RdmaSettings.VERBS)));
    } catch (IllegalArgumentException e) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION, e.getMessage(), e);
    }
  }
}
