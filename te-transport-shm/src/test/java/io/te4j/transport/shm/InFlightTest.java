package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The hazard slots that let unregistered() wait for copies on a region. */
class InFlightTest {
  @Test
  void waitsForAnOverlappingCopyOnly() throws Exception {
    InFlight f = new InFlight();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread copier = new Thread(() -> {
      int slot = f.enter(0x10000, 0x1000);
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      f.exit(slot);
    });
    copier.start();
    assertTrue(entered.await(10, TimeUnit.SECONDS));
    long soon = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    assertFalse(f.awaitQuiet(0x10800, 0x10, soon), "a copy is in the range");
    assertTrue(f.awaitQuiet(0x11000, 0x1000, soon), "adjacent range is free");
    assertFalse(f.awaitQuiet(0, -1L, System.nanoTime() + 1_000_000), "whole space is busy");
    release.countDown();
    assertTrue(f.awaitQuiet(0x10000, 0x1000, System.nanoTime() + TimeUnit.SECONDS.toNanos(10)));
    copier.join();
  }
}
