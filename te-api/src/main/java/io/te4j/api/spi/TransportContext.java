package io.te4j.api.spi;

import java.util.concurrent.ThreadFactory;

/** What the engine gives a transport when it creates it. */
public interface TransportContext {
  /** This engine's segment name, as peers address it. */
  String localSegmentName();

  /** The host name or IP peers use to reach this engine (from {@code local_hostname}). */
  String localHost();

  /** Address to bind listening sockets to (MC_TCP_BIND_ADDRESS), or null for all interfaces. */
  String bindAddress();

  /** Lowest port to listen on (MC_MIN_RPC_PORT, default 15000). */
  int minPort();

  /** Highest port to listen on (MC_MAX_RPC_PORT, default 17000). */
  int maxPort();

  /** The engine's registered memory. */
  MemoryRegistry memory();

  /** The deadline for each transfer, in nanoseconds (MC_TRANSFER_TIMEOUT). */
  long transferTimeoutNanos();

  /**
   * A setting by name: the system property of that name, else the environment variable, else null.
   * Transports use it for their own options ({@code MC_CXL_DEV_PATH}, ...).
   */
  String setting(String name);

  /** A factory of daemon threads named after the engine and {@code role}. */
  ThreadFactory threadFactory(String role);
}
