package io.te4j.core;

/**
 * A registration of local memory; closing it unregisters the memory (once).
 *
 * <p>Obtained from {@link Engine#register}.
 */
public final class RegisteredMemory implements AutoCloseable {
  private final Engine engine;
  private final long address;
  private final long length;
  private boolean closed;

  RegisteredMemory(Engine engine, long address, long length) {
    this.engine = engine;
    this.address = address;
    this.length = length;
  }

  /** First registered address. */
  public long address() {
    return address;
  }

  /** Registered length in bytes. */
  public long length() {
    return length;
  }

  /** Unregisters the memory; later calls do nothing. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      engine.unregister(address);
    }
  }
}
