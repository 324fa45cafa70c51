package io.te4j.core;

import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.PeerRpc;
import io.te4j.core.config.EngineConfig;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** What the engine gives its metadata store. */
final class EngineStoreContext implements MetadataStoreContext {
  private final EngineConfig config;
  private final String segmentName;
  private final PeerRpc rpc;
  private final Function<String, ThreadFactory> threads;

  EngineStoreContext(EngineConfig config, String segmentName, PeerRpc rpc,
      Function<String, ThreadFactory> threads) {
    this.config = config;
    this.segmentName = segmentName;
    this.rpc = rpc;
    this.threads = threads;
  }

  @Override
  public String localSegmentName() {
    return segmentName;
  }

  @Override
  public PeerRpc rpc() {
    return rpc;
  }

  /** The transfer timeout, at most 10 s: a store that does not answer by then is away. */
  @Override
  public long operationTimeoutNanos() {
    return Math.min(config.transferTimeout().toNanos(), TimeUnit.SECONDS.toNanos(10));
  }

  @Override
  public String setting(String name) {
    return config.settings().get(name);
  }

  @Override
  public ThreadFactory threadFactory(String role) {
    return threads.apply(role);
  }
}
