package io.te4j.transport.tcp;

import io.te4j.api.spi.MemoryRegion;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Blocking socket I/O (over the socket, or TLS over it) straight into and out of registered
 * memory, chunk by chunk (a range may cross a 1 GiB chunk boundary). No staging copies for host
 * memory; device memory passes through the thread's pinned staging buffer ({@link ChunkViews}).
 * Allocation only on failure.
 */
final class RegionIo {
  private RegionIo() {}

  /** Reads until {@code dst} is full. */
  static void readFully(ReadableByteChannel channel, ByteBuffer dst) throws IOException {
    while (dst.hasRemaining()) {
      if (channel.read(dst) < 0) {
        throw new EOFException("connection closed by peer");
      }
    }
  }

  /**
   * Reads a header-sized message; false on a clean EOF before its first byte.
   *
   * @throws EOFException on an EOF after the first byte
   */
  static boolean readMessageOrEof(ReadableByteChannel channel, ByteBuffer dst) throws IOException {
    while (dst.hasRemaining()) {
      if (channel.read(dst) < 0) {
        if (dst.position() == 0) {
          return false;
        }
        throw new EOFException("connection closed in the middle of a header");
      }
    }
    return true;
  }

  /** Moves as much of {@code src} as fits into {@code dst}, without allocating; the bytes moved. */
  static int moveWhatFits(ByteBuffer src, ByteBuffer dst) {
    int n = Math.min(src.remaining(), dst.remaining());
    int limit = src.limit();
    src.limit(src.position() + n);
    dst.put(src);
    src.limit(limit);
    return n;
  }

  /** Writes all of {@code src}. */
  static void writeFully(WritableByteChannel channel, ByteBuffer src) throws IOException {
    while (src.hasRemaining()) {
      channel.write(src);
    }
  }

  /** Reads {@code length} bytes from the socket into {@code [address, address + length)}. */
  static void readIntoRegion(
      ReadableByteChannel channel, ChunkViews views, MemoryRegion region, long address,
      long length)
      throws IOException {
    long offset = address - region.address();
    while (length > 0) {
      ByteBuffer view = destination(views, region, offset, length);
      int n = view.remaining();
      readFully(channel, view);
      commit(views, region, offset, n);
      offset += n;
      length -= n;
    }
  }

  /**
   * Writes {@code prefix} (may be null) and then the bytes {@code [address, address + length)},
   * the prefix and the first chunk piece in one gathering write.
   *
   * @param pair a reusable two-element array
   */
  static void writeFromRegion(
      GatheringByteChannel channel,
      ChunkViews views,
      MemoryRegion region,
      long address,
      long length,
      ByteBuffer prefix,
      ByteBuffer[] pair)
      throws IOException {
    long offset = address - region.address();
    boolean first = true;
    while (length > 0) {
      ByteBuffer view = source(views, region, offset, length);
      int n = view.remaining();
      if (first && prefix != null) {
        pair[0] = prefix;
        pair[1] = view;
        while (view.hasRemaining()) {
          channel.write(pair);
        }
      } else {
        writeFully(channel, view);
      }
      first = false;
      offset += n;
      length -= n;
    }
    if (first && prefix != null) {
      writeFully(channel, prefix);
    }
  }

  /** Copies {@code [address, address + length)} of the region into {@code dst} at its position. */
  static void copyFromRegion(ChunkViews views, MemoryRegion region, long address, long length,
      ByteBuffer dst) throws IOException {
    long offset = address - region.address();
    while (length > 0) {
      ByteBuffer view = source(views, region, offset, length);
      int n = view.remaining();
      dst.put(view);
      offset += n;
      length -= n;
    }
  }

  /**
   * The bytes at {@code offset} of the region to send, as many as one view holds: a view of host
   * memory, or device memory copied into the staging buffer.
   */
  static ByteBuffer source(ChunkViews views, MemoryRegion region, long offset, long length)
      throws IOException {
    return region.kind().isHost() ? position(views, region, offset, length)
        : views.stageFrom(region, offset, length);
  }

  /**
   * Where to receive the bytes at {@code offset} of the region, as many as one view holds: a view
   * of host memory, or the staging buffer, which {@link #commit} then copies to the device.
   */
  static ByteBuffer destination(ChunkViews views, MemoryRegion region, long offset, long length)
      throws IOException {
    return region.kind().isHost() ? position(views, region, offset, length)
        : views.stageFor(region, length);
  }

  /** The {@code n} bytes received into {@link #destination} are complete: in place on a device. */
  static void commit(ChunkViews views, MemoryRegion region, long offset, int n)
      throws IOException {
    if (!region.kind().isHost()) {
      views.commit(region, offset, n);
    }
  }

  /** Sets a view over the bytes at {@code offset} of the region, up to the end of its chunk. */
  static ByteBuffer position(
      ChunkViews views, MemoryRegion region, long offset, long length) throws IOException {
    int index = (int) (offset >>> MemoryRegion.CHUNK_SHIFT);
    int inChunk = (int) (offset & (MemoryRegion.CHUNK_SIZE - 1));
    ByteBuffer view = views.view(region, index);
    int n = (int) Math.min(length, (long) view.capacity() - inChunk);
    if (n <= 0) {
      throw new IOException(
          "chunk " + index + " of region 0x" + Long.toHexString(region.address())
              + " is shorter than the region");
    }
    view.limit(inChunk + n).position(inChunk);
    return view;
  }
}
