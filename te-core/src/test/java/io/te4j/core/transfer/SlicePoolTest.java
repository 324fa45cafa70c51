package io.te4j.core.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The slice pool: a thread's own stack first, then rings every thread reaches; bounded. */
class SlicePoolTest {
  private static Slice slice() {
    return new Slice(new TransferMetrics(), null, null);
  }

  @Test
  void aThreadGetsBackWhatItGaveLastFirst() {
    SlicePool pool = new SlicePool(64);
    assertNull(pool.poll());
    Slice a = slice();
    Slice b = slice();
    assertTrue(pool.offer(a));
    assertTrue(pool.offer(b));
    assertSame(b, pool.poll());
    assertSame(a, pool.poll());
    assertNull(pool.poll());
  }

  @Test
  void slicesGivenBackByOneThreadReachAnother() throws Exception {
    SlicePool pool = new SlicePool(1024);
    int n = SlicePool.PER_THREAD + 500; // past the giver's own stack: the rest goes to the rings
    List<Slice> given = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      given.add(slice());
    }
    CompletableFuture.runAsync(() -> given.forEach(s -> assertTrue(pool.offer(s)))).get();
    Set<Slice> taken = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Slice s; (s = pool.poll()) != null; ) {
      taken.add(s);
    }
    assertEquals(500, taken.size(), "what the giver's stack could not hold");
    assertTrue(given.containsAll(taken));
  }

  @Test
  void aFullPoolDropsWhatIsGivenBack() throws Exception {
    SlicePool pool = new SlicePool(SlicePool.STRIPES * 2); // two per ring
    int held = SlicePool.PER_THREAD + SlicePool.STRIPES * 2;
    for (int i = 0; i < held; i++) {
      assertTrue(pool.offer(slice()), "slice " + i);
    }
    assertFalse(pool.offer(slice()));
    int polled = 0;
    while (pool.poll() != null) {
      polled++;
    }
    assertEquals(held, polled);
  }

  @Test
  void capacityIsAPowerOfTwoOfAtLeastOnePerRing() {
    assertThrows(IllegalArgumentException.class, () -> new SlicePool(100));
    assertThrows(IllegalArgumentException.class, () -> new SlicePool(SlicePool.STRIPES / 2));
  }
}
