package io.te4j.api.spi;

import java.nio.ByteBuffer;

/**
 * A range of local memory registered with the engine. Transports read and write registered memory
 * only through these views, so nothing outside a registered range is ever touched.
 *
 * <p>A direct {@link ByteBuffer} covers at most 2 GiB, so a region is exposed as consecutive
 * chunks of {@link #CHUNK_SIZE} bytes (the last one shorter). The chunk buffers are shared by all
 * threads: never move their position or limit; take a {@link ByteBuffer#duplicate()} once per
 * thread and reuse it.
 */
public interface MemoryRegion {
  /** log2 of {@link #CHUNK_SIZE}. */
  int CHUNK_SHIFT = 30;
  /** Bytes covered by one chunk buffer (1 GiB). */
  long CHUNK_SIZE = 1L << CHUNK_SHIFT;

  /** First address of the region. */
  long address();

  /** Length in bytes, greater than zero. */
  long length();

  /** Where the memory lives: {@code cpu:0}, {@code cuda:0}, ... */
  String location();

  /** False for memory registered for local use only: peers may not read or write it. */
  boolean remoteAccessible();

  /** Number of chunk buffers. */
  default int chunkCount() {
    return (int) ((length() + CHUNK_SIZE - 1) >>> CHUNK_SHIFT);
  }

  /**
   * The direct buffer over chunk {@code index}: bytes {@code [address + index * CHUNK_SIZE, ...)}.
   * Its position is 0 and its capacity the chunk's length.
   */
  ByteBuffer chunk(int index);

  /** True when {@code [start, start + len)} lies inside this region (overflow-safe). */
  default boolean contains(long start, long len) {
    return io.te4j.api.AddressRanges.contains(address(), length(), start, len);
  }
}
