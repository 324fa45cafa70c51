package io.te4j.transport.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * What one thread serving data connections owns and lends to the connection it serves at the
 * moment: the stage that socket reads land in, the buffer answers gather in, its views of
 * registered memory (and its pinned staging buffer for device memory), and spare buffers.
 *
 * <p>A connection gives the stage and the answers back empty at the end of its turn, so an event
 * loop serves thousands of connections with one pair. The exception is a connection whose peer
 * does not read its answers: it keeps the unsent answers and the requests not yet acted on, and
 * the thread takes fresh buffers from the spares. How many it may lend at once is bounded; a
 * connection that would go past the bound is closed (its peer reads nothing back).
 */
final class ThreadBuffers {
  /** Bytes of one stage or answer buffer: several small requests or answers per system call. */
  static final int BYTES = 32 * 1024;
  /** Buffers lent to stalled connections at once, per thread (64 MiB). */
  static final int MAX_LENT = 2048;
  private static final int MAX_SPARE = 64;

  /** Where socket reads land; empty between turns. */
  ByteBuffer stage = allocate();
  /** Answers not sent yet, in write mode; empty between turns. */
  ByteBuffer answers = allocate();
  final ChunkViews views;
  final ByteBuffer[] pair = new ByteBuffer[2];
  private final ArrayDeque<ByteBuffer> spares = new ArrayDeque<>();
  private int lent;

  ThreadBuffers(MemoryViews memoryViews) {
    this.views = new ChunkViews(memoryViews);
  }

  /** Lends {@code stage} to the connection, which keeps it; this thread takes a spare. */
  ByteBuffer lendStage() throws IOException {
    ByteBuffer b = stage;
    stage = spare();
    return b;
  }

  /** Lends {@code answers} to the connection, which keeps it; this thread takes a spare. */
  ByteBuffer lendAnswers() throws IOException {
    ByteBuffer b = answers;
    answers = spare();
    return b;
  }

  /** A lent buffer comes back. */
  void giveBack(ByteBuffer b) {
    lent--;
    if (spares.size() < MAX_SPARE) {
      spares.push(b.clear());
    }
  }

  /** Drops the views and the staging buffer (the thread is leaving). */
  void clear() {
    views.clear();
    spares.clear();
  }

  private ByteBuffer spare() throws IOException {
    if (lent >= MAX_LENT) {
      throw new IOException(MAX_LENT + " connections of this thread already hold answers their"
          + " peers do not read");
    }
    lent++;
    ByteBuffer b = spares.poll();
    return b != null ? b : allocate();
  }

  private static ByteBuffer allocate() {
    return ByteBuffer.allocateDirect(BYTES).order(ByteOrder.LITTLE_ENDIAN);
  }
}
