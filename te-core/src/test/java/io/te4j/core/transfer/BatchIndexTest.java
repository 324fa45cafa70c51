package io.te4j.core.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BatchIndexTest {
  private static Batch batch(long id) {
    return new Batch(id, "peer", 1, 0);
  }

  @Test
  void findsWhatIsHeldAndNothingElseThroughGrowthAndRemovals() {
    BatchIndex index = new BatchIndex();
    Map<Long, Batch> expected = new HashMap<>();
    Random random = new Random(42);
    long nextId = 1;
    for (int step = 0; step < 200_000; step++) {
      // Mostly submit-and-free in order, with stragglers freed late and random lookups.
      if (random.nextInt(3) > 0 || expected.isEmpty()) {
        Batch b = batch(nextId++);
        index.put(b);
        expected.put(b.id(), b);
      } else {
        long victim = 1 + (long) random.nextInt((int) nextId);
        index.remove(victim);
        expected.remove(victim);
      }
      long probe = random.nextInt((int) nextId + 10);
      assertSame(expected.get(probe), index.get(probe), "id " + probe + " at step " + step);
    }
    assertEquals(expected.size(), index.size());
    assertEquals(new HashSet<>(expected.values()), new HashSet<>(index.snapshot()));
    for (long id : expected.keySet()) {
      assertSame(expected.get(id), index.get(id));
    }
    for (long id : new HashSet<>(expected.keySet())) {
      index.remove(id);
    }
    assertEquals(0, index.size());
    assertNull(index.get(1));
    assertNull(index.get(0), "0 is never an id");
    assertNull(index.get(-5));
  }

  @Test
  void threadsSubmittingAndFreeingAtOnceLoseNothing() throws InterruptedException {
    BatchIndex index = new BatchIndex();
    AtomicLong ids = new AtomicLong(1);
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    int threads = 4;
    CountDownLatch done = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      Thread thread = new Thread(() -> {
        try {
          for (int i = 0; i < 50_000; i++) {
            Batch b = batch(ids.getAndIncrement());
            index.put(b);
            if (index.get(b.id()) != b) {
              errors.add("lost " + b.id());
            }
            index.remove(b.id());
            if (index.get(b.id()) != null) {
              errors.add("kept " + b.id());
            }
          }
        } finally {
          done.countDown();
        }
      });
      thread.start();
    }
    done.await();
    assertEquals("[]", errors.toString());
    assertEquals(0, index.size());
  }
}
