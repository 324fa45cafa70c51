package io.te4j.testkit;

import io.te4j.api.PeerAccess;
import io.te4j.api.spi.MemoryRegion;
import java.nio.ByteBuffer;

/**
 * A registered region over real direct memory at an address the test gives: a made-up one (a TCP
 * peer only sees the numbers) or the buffer's real native address (for transports that hand the
 * memory to the kernel). {@link #get}, {@link #put} and {@link #snapshot} take addresses, like the
 * SPI, and copy without moving the buffers' positions, so they are safe beside a transport.
 */
public final class TestRegion implements MemoryRegion {
  private final long address;
  private final long length;
  private final PeerAccess access;
  private final ByteBuffer[] chunks;

  /** One chunk: {@code buffer} (direct, at most {@link #CHUNK_SIZE}) covers the whole region. */
  public TestRegion(long address, ByteBuffer buffer, boolean remoteAccessible) {
    this(address, new ByteBuffer[] {buffer}, PeerAccess.of(remoteAccessible));
  }

  /** Several direct chunks, read-write for peers or local only. */
  public TestRegion(long address, ByteBuffer[] chunks, boolean remoteAccessible) {
    this(address, chunks, PeerAccess.of(remoteAccessible));
  }

  /** Several direct chunks; all but the last must be {@link #CHUNK_SIZE} long. */
  public TestRegion(long address, ByteBuffer[] chunks, PeerAccess access) {
    if (chunks.length == 0) {
      throw new IllegalArgumentException("no chunk");
    }
    long total = 0;
    for (int i = 0; i < chunks.length; i++) {
      if (!chunks[i].isDirect()) {
        throw new IllegalArgumentException("chunk " + i + " is not direct");
      }
      if (i < chunks.length - 1 && chunks[i].capacity() != CHUNK_SIZE) {
        throw new IllegalArgumentException("chunk " + i + " must be 1 GiB");
      }
      total += chunks[i].capacity();
    }
    this.address = address;
    this.length = total;
    this.access = access;
    this.chunks = chunks.clone();
  }

  /** A region of {@code bytes} fresh zeroed direct memory at the made-up {@code address}. */
  public static TestRegion allocate(long address, int bytes, boolean remoteAccessible) {
    return allocate(address, bytes, PeerAccess.of(remoteAccessible));
  }

  /** Like {@link #allocate(long, int, boolean)}, peers allowed {@code access}. */
  public static TestRegion allocate(long address, int bytes, PeerAccess access) {
    return new TestRegion(address, new ByteBuffer[] {ByteBuffer.allocateDirect(bytes)}, access);
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
    return "cpu:0";
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
  public ByteBuffer chunk(int index) {
    if (index < 0 || index >= chunks.length) {
      throw new IndexOutOfBoundsException("chunk " + index + " of " + chunks.length);
    }
    return chunks[index];
  }

  /** A copy of the {@code length} bytes at {@code address} (which may span chunks). */
  public byte[] get(long address, int length) {
    byte[] out = new byte[length];
    copy(address, out, false);
    return out;
  }

  /** Copies {@code data} in at {@code address} (which may span chunks). */
  public void put(long address, byte[] data) {
    copy(address, data, true);
  }

  /** A copy of every byte, for "memory untouched" checks (regions under 2 GiB). */
  public byte[] snapshot() {
    return get(address, Math.toIntExact(length));
  }

  private void copy(long at, byte[] data, boolean in) {
    if (!contains(at, data.length)) {
      throw new IndexOutOfBoundsException(String.format("[%#x, +%d) is outside [%#x, +%d)", at,
          data.length, address, length));
    }
    long offset = at - address;
    int done = 0;
    while (done < data.length) {
      long o = offset + done;
      ByteBuffer chunk = chunks[(int) (o >>> CHUNK_SHIFT)];
      int inChunk = (int) (o & (CHUNK_SIZE - 1));
      int n = Math.min(data.length - done, chunk.capacity() - inChunk);
      // Absolute bulk transfers: the shared chunk's position and limit stay as they are.
      if (in) {
        chunk.put(inChunk, data, done, n);
      } else {
        chunk.get(inChunk, data, done, n);
      }
      done += n;
    }
  }

  @Override
  public String toString() {
    return String.format("TestRegion[%#x, +%d, %s]", address, length,
        access.isRemote() ? "peers " + access : "local only");
  }
}
