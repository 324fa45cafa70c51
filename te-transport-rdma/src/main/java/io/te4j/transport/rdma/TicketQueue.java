package io.te4j.transport.rdma;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Tickets waiting for a NIC's poster: a ring of {@code long}s as large as the in-flight table, so
 * it never fills. One lock per batch offered or drained, none per slice.
 */
final class TicketQueue {
  private final long[] ring;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition nonEmpty = lock.newCondition();
  private int head;
  private int size;

  TicketQueue(int capacity) {
    ring = new long[capacity];
  }

  void offer(long[] tickets, int count) {
    lock.lock();
    try {
      for (int i = 0; i < count; i++) {
        ring[(head + size++) % ring.length] = tickets[i];
      }
      nonEmpty.signal();
    } finally {
      lock.unlock();
    }
  }

  void offer(long ticket) {
    lock.lock();
    try {
      ring[(head + size++) % ring.length] = ticket;
      nonEmpty.signal();
    } finally {
      lock.unlock();
    }
  }

  /** Moves up to {@code out.length} tickets into {@code out}, waiting up to {@code waitNanos} for one. */
  int drain(long[] out, long waitNanos) throws InterruptedException {
    lock.lock();
    try {
      long left = waitNanos;
      while (size == 0 && left > 0) {
        left = nonEmpty.awaitNanos(left);
      }
      int n = Math.min(size, out.length);
      for (int i = 0; i < n; i++) {
        out[i] = ring[head];
        head = (head + 1) % ring.length;
      }
      size -= n;
      return n;
    } finally {
      lock.unlock();
    }
  }

  /** Wakes a waiting drain. */
  void wake() {
    lock.lock();
    try {
      nonEmpty.signalAll();
    } finally {
      lock.unlock();
    }
  }

  static long millis(long ms) {
    return TimeUnit.MILLISECONDS.toNanos(ms);
  }
}
