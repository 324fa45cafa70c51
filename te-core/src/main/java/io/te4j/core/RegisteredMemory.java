package io.te4j.core;

/**
 * A registration of local memory; closing it unregisters the memory (once).
 *
 * <p>Obtained from {@link Engine#register}.
 */
public final class RegisteredMemory extends MemoryHandle {
  RegisteredMemory(Engine engine, long address, long length) {
    super(engine, address, length);
  }

  @Override
  void release() {
    engine.unregister(address());
  }
}
