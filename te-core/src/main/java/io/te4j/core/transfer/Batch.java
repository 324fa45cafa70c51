package io.te4j.core.transfer;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferState;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A group of requests to one target, tracked as a whole. Its slices finish on transport threads;
 * the first failure decides the batch's final state. Thread-safe; state changes happen once.
 */
public final class Batch {
  private final long id;
  private final String target;
  private final long deadlineNanos;
  private final AtomicInteger pendingSlices = new AtomicInteger();
  private final CompletableFuture<TransferState> done = new CompletableFuture<>();
  private final SliceFailureListener failureListener;
  private volatile TransferState state = TransferState.PENDING;
  private volatile ErrorCode errorCode;
  private volatile String errorMessage;
  private volatile long bytes;
  private volatile io.te4j.api.SegmentDescriptor descriptor;

  /** Told when a slice fails, so the engine can drop a stale descriptor. */
  public interface SliceFailureListener {
    void sliceFailed(Batch batch, TransferState state, ErrorCode code);
  }

  Batch(long id, String target, long deadlineNanos, SliceFailureListener failureListener) {
    this.id = id;
    this.target = target;
    this.deadlineNanos = deadlineNanos;
    this.failureListener = failureListener;
  }

  /** The handle the application holds: positive, never reused within an engine. */
  public long id() {
    return id;
  }

  /** The target segment name. */
  public String target() {
    return target;
  }

  /** {@link System#nanoTime()} after which the batch has timed out. */
  public long deadlineNanos() {
    return deadlineNanos;
  }

  /** PENDING until every slice finished, then COMPLETED, FAILED or TIMEOUT. */
  public TransferState state() {
    return state;
  }

  /** Why the batch failed, or null. */
  public ErrorCode errorCode() {
    return errorCode;
  }

  /** What went wrong, or null. */
  public String errorMessage() {
    return errorMessage;
  }

  /** The target's descriptor the batch was sent with. */
  public io.te4j.api.SegmentDescriptor descriptor() {
    return descriptor;
  }

  void descriptor(io.te4j.api.SegmentDescriptor d) {
    this.descriptor = d;
  }

  /** Total bytes the batch moves. */
  public long bytes() {
    return bytes;
  }

  /** Completes with the final state; never completes exceptionally. */
  public CompletableFuture<TransferState> future() {
    return done;
  }

  /** The failure as an exception, or null when the batch completed or is still running. */
  public TransferException failure() {
    TransferState s = state;
    if (s == TransferState.COMPLETED || s == TransferState.PENDING) {
      return null;
    }
    return new TransferException(
        errorCode == null ? ErrorCode.TRANSFER_FAILED : errorCode,
        "batch " + id + " to " + target + " " + s + ": " + errorMessage);
  }

  void expectSlices(int count, long totalBytes) {
    this.bytes = totalBytes;
    if (count == 0) {
      finish(TransferState.COMPLETED);
    } else {
      pendingSlices.set(count);
    }
  }

  void sliceCompleted() {
    if (pendingSlices.decrementAndGet() == 0) {
      finish(errorCode == null ? TransferState.COMPLETED : failedState);
    }
  }

  private volatile TransferState failedState = TransferState.FAILED;

  void sliceFailed(TransferState sliceState, ErrorCode code, String message) {
    recordFailure(sliceState, code, message);
    if (failureListener != null) {
      failureListener.sliceFailed(this, sliceState, code);
    }
    if (pendingSlices.decrementAndGet() == 0) {
      finish(failedState);
    }
  }

  /**
   * Ends the batch now with {@code terminal} (timeout at the engine's deadline, engine closed),
   * whatever its slices still do; late slice results are ignored.
   *
   * @return true when this call ended it
   */
  public boolean abort(TransferState terminal, ErrorCode code, String message) {
    recordFailure(terminal, code, message);
    return finish(terminal);
  }

  private synchronized void recordFailure(TransferState s, ErrorCode code, String message) {
    if (errorCode == null) {
      errorCode = code;
      errorMessage = message;
      failedState = s == TransferState.TIMEOUT ? TransferState.TIMEOUT : TransferState.FAILED;
    }
  }

  private synchronized boolean finish(TransferState s) {
    if (state.isTerminal()) {
      return false;
    }
    state = s;
    done.complete(s);
    return true;
  }

  @Override
  public String toString() {
    return "Batch{" + id + " -> " + target + ", " + state + "}";
  }
}
