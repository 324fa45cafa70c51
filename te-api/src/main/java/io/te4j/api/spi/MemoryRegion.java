package io.te4j.api.spi;

import io.te4j.api.MemoryKind;
import io.te4j.api.PeerAccess;
import java.nio.ByteBuffer;

/**
 * A range of local memory registered with the engine. Transports read and write registered host
 * memory only through these views, so nothing outside a registered range is ever touched.
 *
 * <p>A direct {@link ByteBuffer} covers at most 2 GiB, so a region is exposed as consecutive
 * chunks of {@link #CHUNK_SIZE} bytes (the last one shorter). The chunk buffers are shared by all
 * threads: never move their position or limit; take a {@link ByteBuffer#duplicate()} once per
 * thread and reuse it.
 *
 * <p>Only host memory has views: a region of device memory ({@link #kind()} not host, such as
 * {@code cuda:0}) has no chunks, since the CPU touching it would crash the process. A transport
 * moves such memory only if it says it can ({@code Transport#canMove}).
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

  /** What kind of memory this is, from {@link #location()}. */
  default MemoryKind kind() {
    return MemoryKind.of(location());
  }

  /** False for memory registered for local use only: peers may not read or write it. */
  boolean remoteAccessible();

  /**
   * What peers may do with this memory; a target that serves requests itself refuses the rest.
   * By default read-write when {@link #remoteAccessible()}, else nothing.
   */
  default PeerAccess peerAccess() {
    return PeerAccess.of(remoteAccessible());
  }

  /**
   * What the transport with registration slot {@code slot} ({@link
   * TransportContext#registrationSlot()}) returned from {@link Transport#register} for this region
   * (its memory region on a NIC, say), or null: found from a slice's region without a lookup.
   */
  default Object attachment(int slot) {
    return null;
  }

  /** Number of chunk buffers; 0 for device memory, which has no host view. */
  default int chunkCount() {
    return kind().isHost() ? (int) ((length() + CHUNK_SIZE - 1) >>> CHUNK_SHIFT) : 0;
  }

  /**
   * The direct buffer over chunk {@code index}: bytes {@code [address + index * CHUNK_SIZE, ...)}.
   * Its position is 0 and its capacity the chunk's length.
   *
   * @throws IllegalStateException for device memory, which has no host view
   */
  ByteBuffer chunk(int index);

  /** True when {@code [start, start + len)} lies inside this region (overflow-safe). */
  default boolean contains(long start, long len) {
    return io.te4j.api.AddressRanges.contains(address(), length(), start, len);
  }
}
