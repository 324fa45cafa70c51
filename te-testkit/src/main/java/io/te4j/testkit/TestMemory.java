package io.te4j.testkit;

import io.te4j.api.PeerAccess;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A registry of regions the test adds and removes. {@link #find} keeps the SPI's promises (the one
 * region that wholly holds the range; lock-free; no allocation: an indexed loop over an array
 * published on each change), so allocation tests can run on it.
 */
public final class TestMemory implements MemoryRegistry {
  private final List<MemoryRegion> regions = new ArrayList<>();
  private volatile MemoryRegion[] snapshot = new MemoryRegion[0];

  /** Registers {@code region}; returns it. */
  public synchronized <R extends MemoryRegion> R add(R region) {
    regions.add(region);
    snapshot = regions.toArray(new MemoryRegion[0]);
    return region;
  }

  /** Registers {@link TestRegion#allocate fresh memory} at the made-up {@code address}. */
  public TestRegion add(long address, int bytes, boolean remoteAccessible) {
    return add(TestRegion.allocate(address, bytes, remoteAccessible));
  }

  /** Registers fresh memory at the made-up {@code address} that peers may use as {@code access}. */
  public TestRegion add(long address, int bytes, PeerAccess access) {
    return add(TestRegion.allocate(address, bytes, access));
  }

  /** Unregisters, as the engine does first: {@link #find} no longer returns the region. */
  public synchronized void remove(MemoryRegion region) {
    regions.remove(region);
    snapshot = regions.toArray(new MemoryRegion[0]);
  }

  @Override
  public MemoryRegion find(long address, long length) {
    MemoryRegion[] all = snapshot;
    for (int i = 0; i < all.length; i++) {
      if (all[i].contains(address, length)) {
        return all[i];
      }
    }
    return null;
  }

  @Override
  public List<MemoryRegion> regions() {
    List<MemoryRegion> out = new ArrayList<>(List.of(snapshot));
    out.sort(Comparator.comparingLong(MemoryRegion::address));
    return out;
  }
}
