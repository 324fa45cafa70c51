package io.te4j.api.spi;

import java.util.List;

/** The engine's registered memory, as transports see it. Safe to call from any thread. */
public interface MemoryRegistry {
  /**
   * The one registered region that wholly contains {@code [address, address + length)}, or null.
   * A range spanning two adjacent regions has no such region. Lock-free; does not allocate.
   */
  MemoryRegion find(long address, long length);

  /** A snapshot of every registered region, in address order. */
  List<MemoryRegion> regions();
}
