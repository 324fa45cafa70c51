package io.te4j.api.spi.inflight;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferOpcode;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class WatchdogTest {
  @Test
  void abortsExpiredSlicesAndKeepsGoingAfterACheckThrows() throws Exception {
    InFlightTable table = new InFlightTable(4);
    InFlightTableTest.Slice slice =
        new InFlightTableTest.Slice(TransferOpcode.WRITE, 0x1000, 8, System.nanoTime());
    long ticket = table.claim(slice);
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch aborted = new CountDownLatch(1);
    AtomicReference<Thread> thread = new AtomicReference<>();
    try (Watchdog dog = new Watchdog(r -> {
      Thread t = new Thread(r, "test-watchdog");
      thread.set(t);
      return t;
    }, 5, () -> {
      if (runs.incrementAndGet() == 1) {
        throw new IllegalStateException("first check fails");
      }
      if (table.abortExpired(System.nanoTime(), "late") > 0) {
        aborted.countDown();
      }
    })) {
      dog.start();
      assertTrue(aborted.await(10, TimeUnit.SECONDS));
      assertTrue(thread.get().isDaemon());
    }
    assertEquals(java.util.List.of("TIMEOUT#1"), slice.ends);
    assertFalse(table.isActive(ticket));
    table.release(ticket);
    thread.get().join(5_000);
    assertFalse(thread.get().isAlive(), "close stops the thread");
  }
}
