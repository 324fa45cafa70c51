package io.te4j.transport.tcp;

import io.te4j.api.spi.MemoryRegion;
import java.nio.ByteBuffer;

/** A registered region over real direct memory, at a FAKE address chosen by the test. */
final class TestRegion implements MemoryRegion {
  private final long address;
  private final long length;
  private final boolean remoteAccessible;
  private final ByteBuffer[] chunks;

  /** One chunk: {@code buffer} covers the whole region. */
  TestRegion(long address, ByteBuffer buffer, boolean remoteAccessible) {
    this(address, new ByteBuffer[] {buffer}, remoteAccessible);
  }

  /** Several chunks; all but the last must be {@link #CHUNK_SIZE} long. */
  TestRegion(long address, ByteBuffer[] chunks, boolean remoteAccessible) {
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
    this.remoteAccessible = remoteAccessible;
    this.chunks = chunks.clone();
  }

  static TestRegion allocate(long address, int bytes, boolean remoteAccessible) {
    return new TestRegion(address, ByteBuffer.allocateDirect(bytes), remoteAccessible);
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
    return remoteAccessible;
  }

  @Override
  public ByteBuffer chunk(int index) {
    return chunks[index];
  }

  /** Copies bytes at {@code addr} (inside one chunk) out, for assertions. */
  byte[] get(long addr, int len) {
    byte[] out = new byte[len];
    long offset = addr - address;
    for (int i = 0; i < len; i++) {
      long o = offset + i;
      out[i] = chunks[(int) (o >>> CHUNK_SHIFT)].get((int) (o & (CHUNK_SIZE - 1)));
    }
    return out;
  }

  /** Copies {@code data} in at {@code addr}. */
  void put(long addr, byte[] data) {
    long offset = addr - address;
    for (int i = 0; i < data.length; i++) {
      long o = offset + i;
      chunks[(int) (o >>> CHUNK_SHIFT)].put((int) (o & (CHUNK_SIZE - 1)), data[i]);
    }
  }

  /** A copy of every byte, for "memory untouched" checks (single-chunk regions only). */
  byte[] snapshot() {
    return get(address, (int) length);
  }
}
