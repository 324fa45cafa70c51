package io.te4j.transport.cuda;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Something copies use while it may go away (a registered region's CUDA state, a peer's IPC
 * mapping): its owner holds one reference and each copy in flight one more; {@link #retire} drops
 * the owner's, and {@link #freed} runs once, after the last copy using it has ended.
 */
abstract class Shared implements CopyEngine.Hold {
  private final AtomicInteger users = new AtomicInteger(1);
  private final AtomicBoolean retired = new AtomicBoolean();

  /** One more user, unless it is already freed (then nothing may use it). */
  final boolean acquire() {
    for (int u = users.get(); u > 0; u = users.get()) {
      if (users.compareAndSet(u, u + 1)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public final void release() {
    if (users.decrementAndGet() == 0) {
      try {
        freed();
      } finally {
        synchronized (this) {
          notifyAll();
        }
      }
    }
  }

  /** The owner lets go; later {@link #acquire}s fail once the copies in flight end. */
  final void retire() {
    if (retired.compareAndSet(false, true)) {
      release();
    }
  }

  /** Waits until freed, at most {@code nanos}; true when it was. */
  final synchronized boolean awaitFreed(long nanos) throws InterruptedException {
    long end = System.nanoTime() + nanos;
    while (users.get() > 0) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  /** Lets go of the native resource; runs once. */
  abstract void freed();
}
