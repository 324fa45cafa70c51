package io.te4j.transport.tcp;

import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A registry of {@link TestRegion}s; {@link #find} as the SPI says (one region, unsigned,
 * allocation-free: an indexed loop over an array snapshot).
 */
final class TestMemory implements MemoryRegistry {
  private final List<TestRegion> regions = new CopyOnWriteArrayList<>();
  private volatile TestRegion[] snapshot = new TestRegion[0];

  TestRegion add(TestRegion region) {
    regions.add(region);
    snapshot = regions.toArray(new TestRegion[0]);
    return region;
  }

  /** Unregisters, as the engine does first: {@link #find} no longer returns the region. */
  void remove(TestRegion region) {
    regions.remove(region);
    snapshot = regions.toArray(new TestRegion[0]);
  }

  TestRegion add(long address, int bytes, boolean remoteAccessible) {
    return add(TestRegion.allocate(address, bytes, remoteAccessible));
  }

  @Override
  public MemoryRegion find(long address, long length) {
    TestRegion[] all = snapshot;
    for (int i = 0; i < all.length; i++) {
      if (all[i].contains(address, length)) {
        return all[i];
      }
    }
    return null;
  }

  @Override
  public List<MemoryRegion> regions() {
    List<MemoryRegion> out = new ArrayList<>(regions);
    out.sort(Comparator.comparingLong(MemoryRegion::address));
    return out;
  }
}
