package io.te4j.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The fakes keep the SPI's promises the modules' tests rely on. */
class FakesTest {
  private static final SegmentDescriptor PEER =
      SegmentDescriptor.builder("127.0.0.1:1", "tcp").build();

  @Test
  void findReturnsTheOneRegionHoldingTheWholeRangeAndForgetsRemovedOnes() {
    TestMemory memory = new TestMemory();
    TestRegion high = memory.add(0x2000, 0x1000, true);
    TestRegion low = memory.add(0x1000, 0x1000, false);
    assertSame(low, memory.find(0x1000, 0x1000));
    assertSame(high, memory.find(0x2ff0, 0x10));
    assertNull(memory.find(0x1ff0, 0x20), "a range across two regions has no region");
    assertNull(memory.find(0x2ff0, 0x11));
    assertEquals(List.of(low, high), memory.regions(), "address order");
    memory.remove(low);
    assertNull(memory.find(0x1000, 1));
    assertEquals(List.<MemoryRegion>of(high), memory.regions());
  }

  @Test
  void getAndPutTakeAddressesAndRefuseBytesOutsideTheRegion() {
    TestRegion r = TestRegion.allocate(0x7000_0000L, 64, true);
    r.put(0x7000_0010L, new byte[] {1, 2, 3});
    assertArrayEquals(new byte[] {0, 1, 2, 3, 0}, r.get(0x7000_000FL, 5));
    assertEquals(1, r.chunk(0).get(0x10), "the bytes are in the chunk buffer transports use");
    assertEquals(0, r.chunk(0).position(), "position untouched");
    assertEquals(64, r.snapshot().length);
    assertThrows(IndexOutOfBoundsException.class, () -> r.get(0x7000_003EL, 3));
    assertThrows(IndexOutOfBoundsException.class, () -> r.put(0x6FFF_FFFFL, new byte[1]));
    assertThrows(IndexOutOfBoundsException.class, () -> r.chunk(1));
    assertThrows(IllegalArgumentException.class,
        () -> new TestRegion(0, ByteBuffer.allocate(8), true), "heap memory");
  }

  @Test
  void aSliceKeepsItsFirstEndCountsEveryEndAndRunsOnEndFirst() throws Exception {
    TestRegion r = TestRegion.allocate(0x1000, 4096, true);
    AtomicReference<Boolean> doneInsideOnEnd = new AtomicReference<>();
    TestSlice s = TestSlice.read(r, 0x1100, PEER, 0x40, 16);
    s.onEnd(() -> doneInsideOnEnd.compareAndSet(null, s.outcome().isDone()));
    assertEquals(TransferOpcode.READ, s.opcode());
    assertEquals(0x1100, s.localAddress());
    assertEquals(0x40, s.targetOffset());
    assertTrue(s.deadlineNanos() - System.nanoTime() > TimeUnit.SECONDS.toNanos(20));
    s.fail(TransferState.FAILED, ErrorCode.SOCKET_FAIL, "reset");
    s.complete();
    assertEquals(false, doneInsideOnEnd.get(), "onEnd ran before the outcome was set");
    assertEquals(2, s.ends());
    TestSlice.Outcome o = s.await(0);
    assertFalse(o.ok());
    assertEquals(ErrorCode.SOCKET_FAIL, o.code());
    assertEquals("FAILED SOCKET_FAIL: reset", o.toString());
    assertTrue(TestSlice.write(r, 0x1000, PEER, 0, 1, 10).deadlineNanos() - System.nanoTime()
        <= TimeUnit.MILLISECONDS.toNanos(10));
  }

  @Test
  void aContextRecordsItsThreadsUntilTheyEnd() throws Exception {
    TestContext c = new TestContext(new TestMemory()).set("k", "v").ports(15000, 15001)
        .transferTimeoutMillis(200);
    assertEquals("v", c.setting("k"));
    assertNull(c.setting("PATH"), "no environment");
    assertEquals(15000, c.minPort());
    assertEquals(TimeUnit.MILLISECONDS.toNanos(200), c.transferTimeoutNanos());
    CountDownLatch release = new CountDownLatch(1);
    Thread t = c.threadFactory("worker").newThread(() -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(t.isDaemon());
    assertTrue(t.getName().contains("-worker-1"), t.getName());
    t.start();
    assertEquals(List.of(t), c.aliveThreads(10));
    release.countDown();
    assertEquals(List.of(), c.aliveThreads(10_000));
    assertEquals(List.of(t), c.threads());
  }

  @Test
  void aStoreContextHasSettingsNamedThreadsAndNoPeersUnlessGiven() {
    TestStoreContext c = TestStoreContext.of("a:1", Duration.ofSeconds(2), "x", "1", "y", "2");
    assertEquals("1", c.setting("x"));
    assertEquals("2", c.setting("y"));
    assertEquals("3", c.with("y", "3").setting("y"));
    assertEquals(Duration.ofSeconds(2).toNanos(), c.operationTimeoutNanos());
    assertEquals(Duration.ofSeconds(5).toNanos(),
        new TestStoreContext("b").operationTimeoutNanos());
    assertTrue(c.threadFactory("watch").newThread(() -> { }).getName().startsWith("test-a:1-"));
    assertThrows(UnsupportedOperationException.class, () -> c.rpc().call("h", 1, 1, "{}"));
    assertEquals("pong", c.rpc((h, p, t, body) -> "pong").rpc().call("h", 1, 1, "{}"));
    assertThrows(IllegalArgumentException.class,
        () -> TestStoreContext.of("a", Duration.ofSeconds(1), "lonely"));
  }
}
