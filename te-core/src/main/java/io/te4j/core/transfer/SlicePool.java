package io.te4j.core.transfer;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Finished slices kept for reuse, so submitting a request allocates nothing once the pool is warm.
 * A bounded multi-producer multi-consumer ring (Vyukov's sequence-numbered cells): taking and giving
 * back are lock-free and allocation-free; when empty a new slice is made, when full a returned one
 * is left to the GC.
 */
final class SlicePool {
  private final int mask;
  private final AtomicReferenceArray<Slice> cells;
  private final AtomicLongArray sequences;
  private final AtomicLong head = new AtomicLong();
  private final AtomicLong tail = new AtomicLong();

  /** @param capacity a power of two */
  SlicePool(int capacity) {
    if (Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
    }
    mask = capacity - 1;
    cells = new AtomicReferenceArray<>(capacity);
    sequences = new AtomicLongArray(capacity);
    for (int i = 0; i < capacity; i++) {
      sequences.set(i, i);
    }
  }

  /** A pooled slice, or null when the pool is empty. */
  Slice poll() {
    while (true) {
      long pos = head.get();
      int i = (int) pos & mask;
      long seq = sequences.get(i);
      long diff = seq - (pos + 1);
      if (diff == 0) {
        if (head.compareAndSet(pos, pos + 1)) {
          Slice s = cells.get(i);
          cells.lazySet(i, null);
          sequences.set(i, pos + mask + 1);
          return s;
        }
      } else if (diff < 0) {
        return null;
      }
    }
  }

  /** Gives a finished slice back; false (and the slice is dropped) when the pool is full. */
  boolean offer(Slice s) {
    while (true) {
      long pos = tail.get();
      int i = (int) pos & mask;
      long seq = sequences.get(i);
      long diff = seq - pos;
      if (diff == 0) {
        if (tail.compareAndSet(pos, pos + 1)) {
          cells.lazySet(i, s);
          sequences.set(i, pos + 1);
          return true;
        }
      } else if (diff < 0) {
        return false;
      }
    }
  }
}
