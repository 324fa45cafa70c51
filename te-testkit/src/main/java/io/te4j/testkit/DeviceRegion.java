package io.te4j.testkit;

import io.te4j.api.spi.MemoryRegion;
import java.nio.ByteBuffer;

/**
 * A region of device memory ({@code cuda:0}, or a made-up kind such as {@code fakegpu:0}) for
 * tests: no host view, as the engine gives device memory none; {@link #chunk} throws, so a
 * transport that tried to copy it through the CPU would fail the test instead of crashing it.
 */
public final class DeviceRegion implements MemoryRegion {
  private final long address;
  private final long length;
  private final String location;
  private final boolean remoteAccessible;

  /**
   * @param location a location whose kind is not host memory
   * @throws IllegalArgumentException for a host location
   */
  public DeviceRegion(long address, long length, String location, boolean remoteAccessible) {
    this.address = address;
    this.length = length;
    this.location = location;
    this.remoteAccessible = remoteAccessible;
    if (kind().isHost()) {
      throw new IllegalArgumentException(location + " is host memory");
    }
  }

  @Override
  public long address() {
    return address;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public String location() {
    return location;
  }

  @Override
  public boolean remoteAccessible() {
    return remoteAccessible;
  }

  @Override
  public ByteBuffer chunk(int index) {
    throw new IllegalStateException(location + " memory has no host view");
  }
}
