package io.te4j.transport.nvmeof;

import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A registry of {@link TestRegion}s; {@link #find} as the SPI says. */
final class TestMemory implements MemoryRegistry {
  private final List<MemoryRegion> regions = new CopyOnWriteArrayList<>();

  TestRegion add(int bytes) {
    TestRegion r = new TestRegion(bytes);
    regions.add(r);
    return r;
  }

  void remove(MemoryRegion r) {
    regions.remove(r);
  }

  @Override
  public MemoryRegion find(long address, long length) {
    for (MemoryRegion r : regions) {
      if (r.contains(address, length)) {
        return r;
      }
    }
    return null;
  }

  @Override
  public List<MemoryRegion> regions() {
    return new ArrayList<>(regions);
  }
}
