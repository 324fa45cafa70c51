package io.te4j.api.spi;

import io.te4j.api.HostPort;
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

  /**
   * The devices the engine was told to use ({@code MC_DEVICE_NAME}, the reference's {@code
   * device_name}): comma-separated names, or empty for all of the machine's.
   */
  default String deviceNames() {
    return "";
  }

  /**
   * The local topology the engine discovered (sysfs, or {@code MC_CUSTOM_TOPO_JSON}), filtered to
   * {@link #deviceNames()}: which devices are close to which memory. Empty when none is known.
   */
  default io.te4j.api.Topology topology() {
    return io.te4j.api.Topology.empty();
  }

  /**
   * This transport's slot among the engine's transports: the index under which a region keeps
   * what {@link Transport#register} returned ({@link MemoryRegion#attachment}).
   */
  int registrationSlot();

  /** The deadline for each transfer, in nanoseconds (MC_TRANSFER_TIMEOUT). */
  long transferTimeoutNanos();

  /**
   * A setting by name: the system property of that name, else the environment variable, else null.
   * Transports use it for their own options ({@code MC_CXL_DEV_PATH}, ...).
   */
  String setting(String name);

  /**
   * The value of a declared setting ({@link TransportProvider#settings()}) for this engine, or its
   * default; the engine checked it when it started.
   *
   * @throws io.te4j.api.TransferException INVALID_CONFIGURATION naming the key when malformed
   */
  default <T> T setting(Setting<T> setting) {
    return setting.valueIn(this::setting);
  }

  /** A factory of daemon threads named after the engine and {@code role}. */
  ThreadFactory threadFactory(String role);

  /** The client for peers' handshake ports (one request frame, one reply, bounded in time). */
  PeerRpc rpc();

  /**
   * Where the engine owning segment {@code segmentName} answers handshake frames: the name itself
   * in P2P mode ({@code host:port}), else its {@code rpc_meta} entry.
   *
   * @throws io.te4j.api.TransferException METADATA when it cannot be found
   */
  HostPort peerRpcAddress(String segmentName);

  /**
   * Serves frames of {@code frameType} on this engine's handshake port until the returned handle
   * is closed (the engine closes it with the transport). The engine answers types 1 to 3 itself;
   * type {@link PeerRpc#CONNECTION} (0, with the legacy untyped frames) is free for one transport.
   * A frame of a type nobody serves is answered by closing the connection.
   *
   * @throws IllegalArgumentException for a type the engine answers, or outside 0..3
   * @throws IllegalStateException when another transport already serves the type
   */
  AutoCloseable serveFrames(int frameType, FrameHandler handler);

  /**
   * How connections between te4j engines authenticate, shared with the engine's handshake port (a
   * transport with a listening port has each accepted connection {@linkplain PeerAuth#verify
   * verified} and {@linkplain PeerAuth#proveTo proves} itself on each it opens); {@link
   * PeerAuth#NONE} when no cluster secret is set.
   */
  default PeerAuth peerAuth() {
    return PeerAuth.NONE;
  }

  /**
   * How to reach device memory of {@code kind}'s family through host memory, when a module
   * providing it ({@link DeviceMemoryAccess}) is installed and works here; else null. The
   * default: none.
   */
  default DeviceMemoryAccess deviceMemory(io.te4j.api.MemoryKind kind) {
    return null;
  }

  /**
   * Changes this transport's fields of the engine's published descriptor after {@link
   * Transport#start} (a NIC's GID changed, say) and publishes the descriptor again: the engine
   * applies {@code edit} to the fields the transports set at start and republishes. Any thread;
   * the default does nothing (no published descriptor).
   */
  default void republish(java.util.function.Consumer<io.te4j.api.SegmentDescriptor.Builder> edit) {
  }
}
