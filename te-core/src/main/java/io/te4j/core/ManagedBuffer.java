package io.te4j.core;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;

/**
 * Registered memory from the engine's buddy allocator; closing it returns the memory (once).
 *
 * <p>Obtained from {@link Engine#allocate(long)}.
 */
public final class ManagedBuffer implements AutoCloseable {
  private final Engine engine;
  private final long address;
  private final long length;
  private boolean closed;

  ManagedBuffer(Engine engine, long address, long length) {
    this.engine = engine;
    this.address = address;
    this.length = length;
  }

  /** First address of the buffer. */
  public long address() {
    return address;
  }

  /** Length as requested. */
  public long length() {
    return length;
  }

  /** Returns the memory to the allocator; later calls do nothing. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      int rc = engine.freeManaged(address, length);
      if (rc != 0) {
        throw new TransferException(ErrorCode.of(rc), "free of managed buffer failed");
      }
    }
  }
}
