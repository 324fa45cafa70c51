package io.te4j.core;

/** Memory an engine handed out; {@link #close()} gives it back exactly once. */
abstract class MemoryHandle implements AutoCloseable {
  final Engine engine;
  private final long address;
  private final long length;
  private boolean closed;

  MemoryHandle(Engine engine, long address, long length) {
    this.engine = engine;
    this.address = address;
    this.length = length;
  }

  /** First address. */
  public long address() {
    return address;
  }

  /** Length in bytes. */
  public long length() {
    return length;
  }

  /** Gives the memory back; later calls do nothing. */
  @Override
  public final synchronized void close() {
    if (!closed) {
      closed = true;
      release();
    }
  }

  abstract void release();
}
