package io.te4j.core.memory;

import io.te4j.api.MemoryKind;
import io.te4j.api.PeerAccess;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.nativelib.NativeMemory;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A region registered with a {@link MemoryRegistryImpl}: its bounds, where it lives, whether peers
 * may reach it, the chunk buffers transports read and write host memory through, and what each
 * transport attached to it when it was registered.
 *
 * <p>Immutable but for the attachments, set once before the region can be found; the chunk
 * buffers are built once at construction and shared by all threads (see {@link MemoryRegion}:
 * never move their position or limit, take a duplicate per thread). Device memory gets no chunk
 * buffers: the CPU must not touch it. A region made from a user's {@link ByteBuffer} keeps a strong
 * reference to it ({@link #owner()}), so the GC cannot free memory a transport may still use.
 */
public final class RegisteredRegion implements MemoryRegion {
  private final long address;
  private final long length;
  private final String location;
  private final PeerAccess access;
  private final ByteBuffer[] chunks;
  private final Object owner;
  private final MemoryKind kind;
  /** Per transport registration slot; set once, before the registry publishes the region. */
  private volatile Object[] attachments;

  private RegisteredRegion(
      long address,
      long length,
      String location,
      PeerAccess access,
      ByteBuffer[] chunks,
      Object owner) {
    this.address = address;
    this.length = length;
    this.location = location;
    this.access = access;
    this.chunks = chunks;
    this.owner = owner;
    this.kind = MemoryKind.of(location);
  }

  /** A region over raw memory; the chunks are views made with {@link NativeMemory#view}. */
  static RegisteredRegion ofAddress(
      long address, long length, String location, PeerAccess access, Object owner) {
    if (length <= 0) {
      throw new IllegalArgumentException("region length must be > 0: " + length);
    }
    // No views of device memory: touching it from the CPU would crash the process.
    int count = MemoryKind.of(location).isHost() ? (int) ((length + CHUNK_SIZE - 1) >>> CHUNK_SHIFT)
        : 0;
    ByteBuffer[] chunks = new ByteBuffer[count];
    for (int i = 0; i < count; i++) {
      long offset = (long) i << CHUNK_SHIFT;
      chunks[i] = NativeMemory.view(address + offset, (int) Math.min(CHUNK_SIZE, length - offset));
    }
    return new RegisteredRegion(
        address, length, Objects.requireNonNull(location), access, chunks, owner);
  }

  /**
   * A region over the whole capacity of a direct buffer; the chunks are slices of it, and the
   * buffer is the region's {@link #owner()}.
   */
  static RegisteredRegion ofBuffer(ByteBuffer direct, String location, PeerAccess access) {
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
        address, capacity, Objects.requireNonNull(location), access, chunks, direct);
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
    return access.isRemote();
  }

  @Override
  public PeerAccess peerAccess() {
    return access;
  }

  @Override
  public MemoryKind kind() {
    return kind;
  }

  @Override
  public int chunkCount() {
    return chunks.length;
  }

  @Override
  public ByteBuffer chunk(int index) {
    if (chunks.length == 0) {
      throw new IllegalStateException(kind + " at 0x" + Long.toHexString(address)
          + " has no host view");
    }
    return chunks[index];
  }

  @Override
  public Object attachment(int slot) {
    Object[] a = attachments;
    return a == null || slot < 0 || slot >= a.length ? null : a[slot];
  }

  /**
   * Sets what each transport attached at registration, indexed by registration slot: once, before
   * the region is published (the engine does it while the registry prepares the region).
   *
   * @throws IllegalStateException when already set
   */
  public void attach(Object[] byTransport) {
    if (attachments != null) {
      throw new IllegalStateException("attachments of " + this + " are set already");
    }
    attachments = byTransport.clone();
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
        + (access.isRemote() ? ", peers " + access : ", local only")
        + "}";
  }
}
