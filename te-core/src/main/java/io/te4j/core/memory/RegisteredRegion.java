package io.te4j.core.memory;

import io.te4j.api.spi.MemoryRegion;
import io.te4j.nativelib.NativeMemory;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A region registered with a {@link MemoryRegistryImpl}: its bounds, where it lives, whether peers
 * may reach it, and the chunk buffers transports read and write it through.
 *
 * <p>Immutable; the chunk buffers are built once at construction and shared by all threads (see
 * {@link MemoryRegion}: never move their position or limit, take a duplicate per thread). A region
 * made from a user's {@link ByteBuffer} keeps a strong reference to it ({@link #owner()}), so the
 * GC cannot free memory a transport may still use.
 */
public final class RegisteredRegion implements MemoryRegion {
  private final long address;
  private final long length;
  private final String location;
  private final boolean remoteAccessible;
  private final ByteBuffer[] chunks;
  private final Object owner;

  private RegisteredRegion(
      long address,
      long length,
      String location,
      boolean remoteAccessible,
      ByteBuffer[] chunks,
      Object owner) {
    this.address = address;
    this.length = length;
    this.location = location;
    this.remoteAccessible = remoteAccessible;
    this.chunks = chunks;
    this.owner = owner;
  }

  /** A region over raw memory; the chunks are views made with {@link NativeMemory#view}. */
  static RegisteredRegion ofAddress(
      long address, long length, String location, boolean remoteAccessible, Object owner) {
    if (length <= 0) {
      throw new IllegalArgumentException("region length must be > 0: " + length);
    }
    int count = (int) ((length + CHUNK_SIZE - 1) >>> CHUNK_SHIFT);
    ByteBuffer[] chunks = new ByteBuffer[count];
    for (int i = 0; i < count; i++) {
      long offset = (long) i << CHUNK_SHIFT;
      chunks[i] = NativeMemory.view(address + offset, (int) Math.min(CHUNK_SIZE, length - offset));
    }
    return new RegisteredRegion(
        address, length, Objects.requireNonNull(location), remoteAccessible, chunks, owner);
  }

  /**
   * A region over the whole capacity of a direct buffer; the chunks are slices of it, and the
   * buffer is the region's {@link #owner()}.
   */
  static RegisteredRegion ofBuffer(ByteBuffer direct, String location, boolean remoteAccessible) {
    long address = NativeMemory.addressOf(direct);
    int capacity = direct.capacity();
    if (capacity <= 0) {
      throw new IllegalArgumentException("region length must be > 0: " + capacity);
    }
    int count = (int) ((capacity + CHUNK_SIZE - 1) >>> CHUNK_SHIFT);
    ByteBuffer[] chunks = new ByteBuffer[count];
    for (int i = 0; i < count; i++) {
      int offset = (int) ((long) i << CHUNK_SHIFT);
      // slice(index, length) ignores position and limit, so a user moving them changes nothing.
      chunks[i] = direct.slice(offset, (int) Math.min(CHUNK_SIZE, capacity - (long) offset));
    }
    return new RegisteredRegion(
        address, capacity, Objects.requireNonNull(location), remoteAccessible, chunks, direct);
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
  public int chunkCount() {
    return chunks.length;
  }

  @Override
  public ByteBuffer chunk(int index) {
    return chunks[index];
  }

  /**
   * What keeps this memory alive or owns it: the user's {@link ByteBuffer} for a buffer
   * registration, the {@link ManagedMemory} for its arenas, the object given to {@link
   * MemoryRegistryImpl#register(long, long, String, boolean, Object)}, or null.
   */
  public Object owner() {
    return owner;
  }

  /** The exclusive end address, {@code address + length} (unsigned; never wraps). */
  public long end() {
    return address + length;
  }

  @Override
  public String toString() {
    return "RegisteredRegion{0x"
        + Long.toHexString(address)
        + ", "
        + length
        + " bytes, "
        + location
        + (remoteAccessible ? ", remote" : ", local only")
        + "}";
  }
}
