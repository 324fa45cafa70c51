package io.te4j.core;

import io.te4j.api.HostPort;
import io.te4j.api.spi.Backpressure;
import io.te4j.api.spi.FrameHandler;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.PeerRpc;
import io.te4j.api.spi.TransportContext;
import io.te4j.core.config.EngineConfig;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;

/** What the engine gives the transport with registration slot {@code slot}. */
final class EngineTransportContext implements TransportContext {
  private final EngineConfig config;
  private final String segmentName;
  private final MemoryRegistry memory;
  private final PeerRpc rpc;
  private final Function<String, HostPort> rpcAddresses;
  private final Transports transports;
  private final Function<String, ThreadFactory> threads;
  private final int slot;
  private final io.te4j.api.Topology topology;
  private final Registrations registrations;

  EngineTransportContext(EngineConfig config, String segmentName, MemoryRegistry memory,
      PeerRpc rpc, Function<String, HostPort> rpcAddresses, Transports transports,
      Function<String, ThreadFactory> threads, int slot, io.te4j.api.Topology topology,
      Registrations registrations) {
    this.config = config;
    this.segmentName = segmentName;
    this.memory = memory;
    this.rpc = rpc;
    this.rpcAddresses = rpcAddresses;
    this.transports = transports;
    this.threads = threads;
    this.slot = slot;
    this.topology = topology;
    this.registrations = registrations;
  }

  @Override
  public void republish(
      java.util.function.Consumer<io.te4j.api.SegmentDescriptor.Builder> edit) {
    registrations.editTemplate(edit);
  }

  @Override
  public io.te4j.api.spi.DeviceMemoryAccess deviceMemory(io.te4j.api.MemoryKind kind) {
    return kind.isHost() ? null : DeviceServices.memoryAccess(kind.family());
  }

  @Override
  public String deviceNames() {
    return config.deviceNames();
  }

  @Override
  public io.te4j.api.Topology topology() {
    return topology;
  }

  @Override
  public String localSegmentName() {
    return segmentName;
  }

  @Override
  public String localHost() {
    return config.localHost();
  }

  @Override
  public String bindAddress() {
    return config.bindAddress();
  }

  @Override
  public int minPort() {
    return config.minPort();
  }

  @Override
  public int maxPort() {
    return config.maxPort();
  }

  @Override
  public MemoryRegistry memory() {
    return memory;
  }

  @Override
  public int registrationSlot() {
    return slot;
  }

  @Override
  public long transferTimeoutNanos() {
    return config.transferTimeout().toNanos();
  }

  @Override
  public String setting(String name) {
    return config.settings().get(name);
  }

  @Override
  public ThreadFactory threadFactory(String role) {
    return Backpressure.transportThreads(threads.apply(role));
  }

  @Override
  public PeerRpc rpc() {
    return rpc;
  }

  @Override
  public HostPort peerRpcAddress(String segment) {
    return rpcAddresses.apply(segment);
  }

  @Override
  public AutoCloseable serveFrames(int frameType, FrameHandler handler) {
    return transports.serveFrames(frameType, handler);
  }

  @Override
  public PeerAuth peerAuth() {
    return config.peerAuth();
  }
}
