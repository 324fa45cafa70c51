package io.te4j.api.spi;

import java.util.Set;

/**
 * Found by {@link java.util.ServiceLoader}: list the implementation in {@code
 * META-INF/services/io.te4j.api.spi.TransportProvider}. The engine picks providers by {@link
 * #name()} (or an alias) from its configuration.
 */
public interface TransportProvider {
  /** The protocol name this provider's transport speaks, e.g. {@code tcp}. */
  String name();

  /**
   * Whether the transport can work on this machine, and why not: a {@link ProbedAvailability} with
   * kind {@code transport}, so that {@code te4j.transport.<name>.disabled} switches it off. The
   * default has no probe, only the kill switch.
   */
  default Availability availability() {
    return ProbedAvailability.always("transport", name());
  }

  /**
   * The settings this transport reads, each with its default, range and a line of documentation:
   * the engine checks them all when it starts, {@code te config} lists them, and the README's
   * table is made from them. Its kill switch is declared by the engine. The default: none.
   */
  default java.util.List<Setting<?>> settings() {
    return java.util.List.of();
  }

  /** Other names that select this provider (the CUDA transport answers to {@code nvlink}). */
  default Set<String> aliases() {
    return Set.of();
  }

  /** When several providers claim one name, the highest rank wins. */
  default int rank() {
    return 0;
  }

  /**
   * True for a transport the engine starts beside whatever protocol it is configured with, when
   * available, without making it the primary (the descriptor keeps the primary's protocol, so
   * other engines see nothing new): same-host shared memory is one. Disabled like any provider,
   * with its kill switch.
   */
  default boolean startsAlongside() {
    return false;
  }

  /**
   * Whether this engine's settings give the transport what it needs to start (a device path, for
   * instance). The engine starts a provider it was not asked for by name ({@code protocol auto},
   * {@link #startsAlongside()}) only when this holds; named explicitly, the transport's {@link
   * Transport#start} says what is missing. The default: nothing is needed.
   */
  default boolean isConfigured(TransportContext context) {
    return true;
  }

  /**
   * Creates a transport for one engine. Called only when {@link #availability()} says it is available.
   *
   * @throws io.te4j.api.TransferException when set-up fails
   */
  Transport create(TransportContext context);
}
