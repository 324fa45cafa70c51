package io.te4j.testkit.contract;

import io.te4j.core.Engine;

/**
 * Where a {@link ContractTarget} gets memory of the kind its transport moves, when that is not
 * CPU memory of its own (the default: memory files): a CXL device's range, for example. A public
 * class with a no-argument constructor, named on the target's command line.
 */
public interface TargetMemory {
  /**
   * Reserves {@code bytes} of contiguous memory (not yet registered); every call returns memory
   * right after the previous call's, so two calls give adjacent ranges.
   *
   * @return its local address
   */
  long reserve(Engine engine, long bytes) throws Exception;

  /** How peers address the memory at local address {@code local}: the local address by default. */
  default long peerAddress(Engine engine, long local) {
    return local;
  }

  /** The location the memory is registered with: {@code cpu:0} by default, {@code cuda:0}, ... */
  default String location() {
    return "cpu:0";
  }

  /**
   * Copies {@code out.length} bytes at local address {@code local} into {@code out}: a plain
   * read by default; device memory, which the CPU cannot read, copies through its runtime.
   */
  default void read(long local, byte[] out) throws Exception {
    io.te4j.nativelib.NativeMemory.read(local, out, 0, out.length);
  }
}
