package io.te4j.core;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;

/**
 * Registered memory from the engine's buddy allocator; closing it returns the memory (once).
 *
 * <p>Obtained from {@link Engine#allocate(long)}.
 */
public final class ManagedBuffer extends MemoryHandle {
  ManagedBuffer(Engine engine, long address, long length) {
    super(engine, address, length);
  }

  @Override
  void release() {
    int rc = engine.freeManaged(address(), length());
    if (rc != 0 && rc != ErrorCode.ENGINE_CLOSED.code()) {
      throw new TransferException(ErrorCode.of(rc), "free of managed buffer failed");
    }
  }
}
