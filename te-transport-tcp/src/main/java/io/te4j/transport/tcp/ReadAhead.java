package io.te4j.transport.tcp;

import io.te4j.api.spi.MemoryRegion;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * One connection's reads, staged: each read from the socket takes what has arrived, up to the
 * stage's size, so many small frames (headers, status frames, the payloads of small requests) cost
 * one system call between them instead of one or two each. A payload goes from the stage into
 * registered memory by a copy; what the stage does not hold of a large one is read straight into
 * memory. Owned by one thread; the stage is allocated at the first read (a connection that never
 * sends costs nothing), and nothing after that.
 */
final class ReadAhead {
  private static final ByteBuffer UNALLOCATED = ByteBuffer.allocateDirect(0);

  /** The bytes read and not yet consumed: {@code [position, limit)}. */
  private ByteBuffer stage = UNALLOCATED;
  private final int capacity;
  private ReadableByteChannel channel;

  /** @param capacity bytes one read may take */
  ReadAhead(int capacity) {
    this.capacity = capacity;
  }

  /** Reads from {@code channel} from now on, dropping whatever was staged from another. */
  void reset(ReadableByteChannel channel) {
    this.channel = channel;
    stage.limit(0);
  }

  /** Bytes read from the socket and not consumed yet. */
  int staged() {
    return stage.remaining();
  }

  /**
   * Fills {@code dst} (a header or a status frame); false on a clean EOF before its first byte.
   *
   * @throws EOFException on an EOF after the first byte
   */
  boolean readMessageOrEof(ByteBuffer dst) throws IOException {
    while (dst.hasRemaining()) {
      if (!stage.hasRemaining() && !fill()) {
        if (dst.position() == 0) {
          return false;
        }
        throw new EOFException("connection closed in the middle of a frame");
      }
      RegionIo.moveWhatFits(stage, dst);
    }
    return true;
  }

  /** Fills {@code dst}. */
  void readFully(ByteBuffer dst) throws IOException {
    if (!readMessageOrEof(dst)) {
      throw new EOFException("connection closed by peer");
    }
  }

  /** Reads {@code length} bytes into {@code [address, address + length)} of {@code region}. */
  void readIntoRegion(ChunkViews views, MemoryRegion region, long address, long length)
      throws IOException {
    long offset = address - region.address();
    while (length > 0) {
      ByteBuffer view = RegionIo.destination(views, region, offset, length);
      int n = view.remaining();
      while (view.hasRemaining()) {
        if (stage.hasRemaining()) {
          RegionIo.moveWhatFits(stage, view);
        } else if (view.remaining() >= capacity) {
          RegionIo.readFully(channel, view); // no copy for what would not fit the stage
        } else if (!fill()) {
          throw new EOFException("connection closed by peer");
        }
      }
      RegionIo.commit(views, region, offset, n);
      offset += n;
      length -= n;
    }
  }

  /** One read into the empty stage; false on EOF. */
  private boolean fill() throws IOException {
    if (stage == UNALLOCATED) {
      stage = ByteBuffer.allocateDirect(capacity);
    }
    stage.clear();
    int n;
    do {
      n = channel.read(stage);
    } while (n == 0);
    stage.flip();
    return n > 0;
  }
}
