package io.te4j.core.transfer;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Finished slices kept for reuse, so submitting a request allocates nothing once the pool is warm.
 * First a small stack per thread (plain reads and writes: a thread that submits and completes its
 * own slices, as same-host copies do, pays no atomic operation per slice), then {@value #STRIPES}
 * bounded multi-producer multi-consumer rings (Vyukov's sequence-numbered cells), a thread trying
 * the ring its id picks first, then the next ones. A thread that only completes (a transport's
 * receiver) fills its stack, then its ring, where the submitters find the slices when theirs are
 * empty. Lock-free and allocation-free once warm; when all is empty a new slice is made, when all
 * is full a returned one is left to the GC.
 */
final class SlicePool {
  /** Rings: a power of two, a few more than the cores of a typical initiator's busy threads. */
  static final int STRIPES = 8;

  /** Slices a thread keeps for itself at most. */
  static final int PER_THREAD = 256;

  private final Ring[] rings = new Ring[STRIPES];
  private final ThreadLocal<Stack> stacks = ThreadLocal.withInitial(Stack::new);

  /** One thread's slices. */
  private static final class Stack {
    final Slice[] items = new Slice[PER_THREAD];
    int size;
  }

  /** @param capacity slices held at most, a power of two of at least {@value #STRIPES} */
  SlicePool(int capacity) {
    if (Integer.bitCount(capacity) != 1 || capacity < STRIPES) {
      throw new IllegalArgumentException("capacity must be a power of two of at least "
          + STRIPES + ": " + capacity);
    }
    for (int i = 0; i < STRIPES; i++) {
      rings[i] = new Ring(capacity / STRIPES);
    }
  }

  /** A pooled slice, or null when the pool is empty. */
  Slice poll() {
    Stack mine = stacks.get();
    if (mine.size > 0) {
      int i = --mine.size;
      Slice s = mine.items[i];
      mine.items[i] = null;
      return s;
    }
    int home = home();
    for (int i = 0; i < STRIPES; i++) {
      Slice s = rings[(home + i) & (STRIPES - 1)].poll();
      if (s != null) {
        return s;
      }
    }
    return null;
  }

  /** Gives a finished slice back; false (and the slice is dropped) when the pool is full. */
  boolean offer(Slice s) {
    Stack mine = stacks.get();
    if (mine.size < PER_THREAD) {
      mine.items[mine.size++] = s;
      return true;
    }
    int home = home();
    for (int i = 0; i < STRIPES; i++) {
      if (rings[(home + i) & (STRIPES - 1)].offer(s)) {
        return true;
      }
    }
    return false;
  }

  /** The calling thread's first ring: its id, spread (ids of busy threads are often adjacent). */
  @SuppressWarnings("deprecation") // Thread.threadId() is Java 19+; getId() is the same value
  private static int home() {
    return (int) (Thread.currentThread().getId() * 0x9E3779B97F4A7C15L >>> 61);
  }

  /** One bounded MPMC ring. */
  private static final class Ring {
    /** Indices of the head and tail counters in {@link #counters}, 128 bytes apart. */
    private static final int HEAD = 16;
    private static final int TAIL = 32;

    private final int mask;
    private final AtomicReferenceArray<Slice> cells;
    private final AtomicLongArray sequences;
    /** The head and tail on cache lines of their own (takers and givers are different threads). */
    private final AtomicLongArray counters = new AtomicLongArray(48);

    Ring(int capacity) {
      mask = capacity - 1;
      cells = new AtomicReferenceArray<>(capacity);
      sequences = new AtomicLongArray(capacity);
      for (int i = 0; i < capacity; i++) {
        sequences.set(i, i);
      }
    }

    Slice poll() {
      while (true) {
        long pos = counters.get(HEAD);
        int i = (int) pos & mask;
        long seq = sequences.get(i);
        long diff = seq - (pos + 1);
        if (diff == 0) {
          if (counters.compareAndSet(HEAD, pos, pos + 1)) {
            Slice s = cells.get(i);
            cells.lazySet(i, null);
            sequences.lazySet(i, pos + mask + 1); // release: the cell is free for a giver
            return s;
          }
        } else if (diff < 0) {
          return null;
        }
      }
    }

    boolean offer(Slice s) {
      while (true) {
        long pos = counters.get(TAIL);
        int i = (int) pos & mask;
        long seq = sequences.get(i);
        long diff = seq - pos;
        if (diff == 0) {
          if (counters.compareAndSet(TAIL, pos, pos + 1)) {
            cells.lazySet(i, s);
            sequences.lazySet(i, pos + 1); // release: publishes the cell to a taker
            return true;
          }
        } else if (diff < 0) {
          return false;
        }
      }
    }
  }
}
