package io.te4j.transport.tcp;

import io.te4j.api.MemoryKind;
import io.te4j.api.spi.DeviceMemoryAccess;
import io.te4j.api.spi.TransportContext;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the transport's threads share to reach registered memory: the generation that makes them
 * drop cached chunk views when memory is unregistered, and the way to device memory (GPU memory
 * staged through a pinned host buffer per thread, when a device module provides it).
 */
final class MemoryViews {
  /** Bumped when memory is unregistered. */
  final AtomicInteger generation = new AtomicInteger();
  private final TransportContext context;

  MemoryViews(TransportContext context) {
    this.context = context;
  }

  /** True for host memory, and for device memory a device module reaches. */
  boolean reaches(MemoryKind kind) {
    return kind.isHost() || context.deviceMemory(kind) != null;
  }

  /** The access to device memory of {@code kind}, or null. */
  DeviceMemoryAccess device(MemoryKind kind) {
    return context.deviceMemory(kind);
  }
}
