package io.te4j.api.spi;

import java.util.concurrent.ThreadFactory;

/** What the engine gives a metadata store when it creates it. */
public interface MetadataStoreContext {
  /** This engine's segment name. */
  String localSegmentName();

  /** The client for peers' handshake ports. */
  PeerRpc rpc();

  /** Deadline for one metadata operation, in nanoseconds. */
  long operationTimeoutNanos();

  /** A setting by name: system property, else environment variable, else null. */
  String setting(String name);

  /**
   * The value of a declared setting ({@link MetadataStoreProvider#settings()}), or its default.
   *
   * @throws io.te4j.api.TransferException INVALID_CONFIGURATION naming the key when malformed
   */
  default <T> T setting(Setting<T> setting) {
    return setting.valueIn(this::setting);
  }

  /** A factory of daemon threads named after the engine and {@code role}. */
  ThreadFactory threadFactory(String role);
}
