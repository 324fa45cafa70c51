package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.testkit.TestRegion;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Staged reads hand out exactly the bytes that arrived, in order, whatever the frame sizes. */
class ReadAheadTest {
  /** A channel that returns at most {@code chunk} bytes per read, counting the reads. */
  private static final class Trickle implements ReadableByteChannel {
    final ReadableByteChannel in;
    final int chunk;
    int reads;

    Trickle(byte[] bytes, int chunk) {
      this.in = Channels.newChannel(new ByteArrayInputStream(bytes));
      this.chunk = chunk;
    }

    @Override
    public int read(ByteBuffer dst) throws java.io.IOException {
      reads++;
      int limit = dst.limit();
      dst.limit(Math.min(limit, dst.position() + chunk));
      try {
        return in.read(dst);
      } finally {
        dst.limit(limit);
      }
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  @Test
  void framesAndPayloadsComeOutAsTheyWentIn() throws Exception {
    byte[] wire = new byte[200_000];
    new Random(7).nextBytes(wire);
    for (int chunk : new int[] {1, 7, 4096, 1 << 20}) {
      Trickle ch = new Trickle(wire, chunk);
      ReadAhead in = new ReadAhead(4096);
      in.reset(ch);
      TestRegion region = TestRegion.allocate(0x10000, 150_000, true);
      ChunkViews views = new ChunkViews(new MemoryViews(new io.te4j.testkit.TestContext(
          new io.te4j.testkit.TestMemory())));
      ByteBuffer header = ByteBuffer.allocate(24);
      assertTrue(in.readMessageOrEof(header));
      in.readIntoRegion(views, region, 0x10000, 100); // small: through the stage
      ByteBuffer status = ByteBuffer.allocate(8);
      in.readFully(status);
      in.readIntoRegion(views, region, 0x10000 + 100, 120_000); // large: mostly straight in
      byte[] got = new byte[24 + 100 + 8 + 120_000];
      header.flip().get(got, 0, 24);
      region.chunk(0).duplicate().position(0).limit(100).get(got, 24, 100);
      status.flip().get(got, 124, 8);
      region.chunk(0).duplicate().position(100).limit(120_100).get(got, 132, 120_000);
      byte[] sent = java.util.Arrays.copyOf(wire, got.length);
      assertArrayEquals(sent, got, "chunk " + chunk);
      if (chunk >= 4096) {
        assertTrue(ch.reads < 40, "few reads: " + ch.reads);
      }
    }
  }

  @Test
  void manySmallFramesTakeOneRead() throws Exception {
    byte[] wire = new byte[64 * 8];
    Trickle ch = new Trickle(wire, 1 << 20);
    ReadAhead in = new ReadAhead(4096);
    in.reset(ch);
    ByteBuffer status = ByteBuffer.allocate(8);
    for (int i = 0; i < 64; i++) {
      in.readFully(status.clear());
    }
    assertEquals(1, ch.reads);
    assertFalse(in.readMessageOrEof(status.clear()), "a clean end after the last frame");
  }

  @Test
  void anEndInsideAFrameIsAnError() {
    ReadAhead in = new ReadAhead(4096);
    in.reset(new Trickle(new byte[10], 3));
    assertThrows(EOFException.class, () -> in.readMessageOrEof(ByteBuffer.allocate(24)));
  }

  @Test
  void resetDropsWhatAnotherConnectionLeft() throws Exception {
    ReadAhead in = new ReadAhead(4096);
    in.reset(new Trickle(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 100));
    ByteBuffer one = ByteBuffer.allocate(1);
    in.readFully(one);
    assertEquals(8, in.staged());
    in.reset(new Trickle(new byte[] {42}, 100));
    in.readFully(one.clear());
    assertEquals(42, one.get(0));
  }
}
