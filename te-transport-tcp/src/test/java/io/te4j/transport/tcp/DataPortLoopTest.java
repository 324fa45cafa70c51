package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The data port's I/O threads serve connections in turns: a peer that reads none of its answers
 * stalls only its own connection, whose answers all arrive intact, in order, once it reads.
 */
@Timeout(120)
class DataPortLoopTest {
  private static final long BASE = 0x2000_0000L;

  @Test
  void aPeerThatReadsNoAnswersStallsOnlyItsOwnConnection() throws Exception {
    int blocks = 3000;
    int block = 16 << 10; // small READs: answered from the answer buffer, many per write
    TestMemory memory = new TestMemory();
    TestRegion region = memory.add(BASE, 9 << 20, true);
    byte[] content = TcpTestSupport.random(new Random(11), 8 << 20);
    region.put(BASE, content);
    // One I/O thread: the stalled connection and the healthy one share it.
    TcpTransport target = TcpTestSupport.started(
        new TestContext(memory).set(TcpTarget.IO_THREADS_SETTING, "1"));
    try (RawClient stalled = new RawClient(target.dataPort());
        RawClient healthy = new RawClient(target.dataPort())) {
      // 47 MiB of answers asked for and not read: far more than both socket buffers hold.
      CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
        try {
          ByteArrayOutputStream requests = new ByteArrayOutputStream();
          for (int i = 0; i < blocks; i++) {
            requests.write(RawWire.header(block, BASE + offsetOf(i, block), 0x80));
          }
          stalled.send(requests.toByteArray());
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      Thread.sleep(300);
      for (int round = 0; round < 20; round++) {
        byte[] data = TcpTestSupport.random(new Random(round), 64 << 10);
        long at = BASE + (8 << 20); // past what the stalled peer reads
        healthy.send(RawWire.header(data.length, at, 0x81), data);
        assertArrayEquals(RawWire.STATUS_OK, healthy.read(8));
        healthy.send(RawWire.header(data.length, at, 0x80));
        assertArrayEquals(RawWire.STATUS_OK, healthy.read(8));
        assertArrayEquals(data, healthy.read(data.length));
      }
      for (int i = 0; i < blocks; i++) {
        assertArrayEquals(RawWire.STATUS_OK, stalled.read(8), "status of answer " + i);
        int at = offsetOf(i, block);
        assertArrayEquals(Arrays.copyOfRange(content, at, at + block), stalled.read(block),
            "bytes of answer " + i);
      }
      sent.get(10, TimeUnit.SECONDS);
    } finally {
      target.close();
    }
  }

  @Test
  void aLargeReadThePeerTakesSlowlyGoesOutWholeAndUnregisterWaitsForIt() throws Exception {
    int size = 32 << 20;
    TestMemory memory = new TestMemory();
    TestRegion region = memory.add(BASE, size, true);
    byte[] content = TcpTestSupport.random(new Random(7), size);
    region.put(BASE, content);
    TcpTransport target = TcpTestSupport.started(new TestContext(memory));
    try (RawClient slow = new RawClient(target.dataPort())) {
      slow.send(RawWire.header(size, BASE, 0x80), RawWire.header(16, BASE, 0x80));
      assertArrayEquals(RawWire.STATUS_OK, slow.read(8));
      byte[] first = slow.read(1 << 20);
      Thread.sleep(200); // the socket is full: the READ waits, holding its place in memory
      assertTrue(target.inUse(region), "the READ in progress holds the region");
      byte[] rest = slow.read(size - (1 << 20));
      assertArrayEquals(content, concat(first, rest));
      assertArrayEquals(RawWire.STATUS_OK, slow.read(8)); // the request behind it, in order
      assertArrayEquals(Arrays.copyOf(content, 16), slow.read(16));
      assertTrue(!target.inUse(region), "a finished READ releases the region");
    } finally {
      target.close();
    }
  }

  private static int offsetOf(int i, int block) {
    return (i * 7919 % 500) * block;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

}
