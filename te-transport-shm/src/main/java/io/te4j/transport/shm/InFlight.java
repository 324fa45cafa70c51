package io.te4j.transport.shm;

import io.te4j.api.AddressRanges;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Which local ranges copying threads touch right now, so that {@code unregistered(region)} can wait
 * for them (hazard slots). A thread publishes its range in a slot of its own, re-checks that the
 * region is still registered, copies, and clears the slot; the unregistering thread, after the
 * registry stopped returning the region, waits until no slot overlaps it. Volatile accesses order
 * the two, so either the copier sees the region gone or the waiter sees the copier's slot.
 *
 * <p>Hot path ({@link #enter}/{@link #exit}): no locks, no allocation after a thread's first use.
 */
final class InFlight {
  private static final int SLOTS = 1024;
  private final AtomicLongArray ranges = new AtomicLongArray(SLOTS * 2);
  private final AtomicReferenceArray<Thread> owners = new AtomicReferenceArray<>(SLOTS);
  /** One past the highest slot ever claimed: waiters scan only that far. */
  private final AtomicInteger highWater = new AtomicInteger();
  private final ThreadLocal<int[]> slotOf = ThreadLocal.withInitial(() -> new int[] {-1});

  /**
   * Publishes {@code [address, address + length)} for the calling thread.
   *
   * @return the slot to pass to {@link #exit}
   */
  int enter(long address, long length) {
    int[] holder = slotOf.get();
    int slot = holder[0];
    if (slot < 0) {
      slot = claimSlot();
      holder[0] = slot;
    }
    // The length first, plainly; the volatile write of the address publishes both and fences
    // before the caller re-checks the registry (the one fence on the copy path).
    ranges.setOpaque(slot * 2 + 1, length);
    ranges.set(slot * 2, address);
    return slot;
  }

  /** Clears the calling thread's slot (a waiter ignores the length of a cleared slot). */
  void exit(int slot) {
    ranges.setRelease(slot * 2, 0); // after the copy: a waiter that reads 0 sees it finished
  }

  /** A free slot, or one whose owner thread has died (its range is clear: exit runs in finally). */
  private int claimSlot() {
    Thread me = Thread.currentThread();
    for (int s = 0; s < SLOTS; s++) {
      Thread owner = owners.get(s);
      if ((owner == null || !owner.isAlive()) && owners.compareAndSet(s, owner, me)) {
        highWater.accumulateAndGet(s + 1, Math::max);
        return s;
      }
    }
    throw new IllegalStateException("more than " + SLOTS + " live threads copy at once");
  }

  /**
   * Waits until no thread's published range overlaps {@code [address, address + length)}, at most
   * until {@code deadlineNanos}.
   *
   * @return false when still busy at the deadline
   */
  boolean awaitQuiet(long address, long length, long deadlineNanos) {
    int used = highWater.get();
    for (int s = 0; s < used; s++) {
      while (true) {
        long a = ranges.get(s * 2);
        long l = ranges.get(s * 2 + 1);
        if (a == 0 || !AddressRanges.overlaps(a, l, address, length)) {
          break;
        }
        if (System.nanoTime() - deadlineNanos > 0) {
          return false;
        }
        Thread.onSpinWait();
      }
    }
    return true;
  }
}
