package io.te4j.api.spi;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferState;
import java.util.concurrent.ThreadFactory;

/**
 * Whether a submitting thread may wait for room in a transport's bounded queues.
 *
 * <p>A batch larger than a transport's queues flows: the application thread that submits it waits
 * for room as earlier slices finish, never past a slice's {@linkplain TransferSlice#deadlineNanos()
 * deadline}. A transport's own threads never wait: completion callbacks run on them, and a callback
 * that submits more work could otherwise wait for room that only its own thread frees. There a full
 * queue fails the slice with {@link io.te4j.api.ErrorCode#TOO_MANY_REQUESTS} as before.
 *
 * <p>The engine marks every thread it makes for a transport ({@link
 * TransportContext#threadFactory}); a transport that makes threads of its own marks them with
 * {@link #transportThreads}.
 */
public final class Backpressure {
  private static final ThreadLocal<Boolean> TRANSPORT_THREAD = new ThreadLocal<>();

  private Backpressure() {}

  /** Threads of {@code threads} whose code runs marked as a transport's own. */
  public static ThreadFactory transportThreads(ThreadFactory threads) {
    return task -> threads.newThread(() -> {
      TRANSPORT_THREAD.set(Boolean.TRUE);
      task.run();
    });
  }

  /** False on a transport's own thread, where a full queue must refuse rather than wait. */
  public static boolean mayWait() {
    return TRANSPORT_THREAD.get() == null;
  }

  /**
   * Fails a slice that found no room in {@code where}: with TRANSFER_TIMEOUT when this thread may
   * wait (so it waited until the deadline), else with TOO_MANY_REQUESTS.
   */
  public static void failNoRoom(TransferSlice slice, String where) {
    if (mayWait()) {
      slice.fail(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT,
          "no room in " + where + " before the transfer's deadline");
    } else {
      slice.fail(TransferState.FAILED, ErrorCode.TOO_MANY_REQUESTS,
          where + " is full and a transport thread cannot wait for room");
    }
  }
}
