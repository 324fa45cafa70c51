package io.te4j.core;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.RateLimitedLog;
import io.te4j.core.observe.Observers;
import io.te4j.core.transfer.Batch;
import io.te4j.core.transfer.BatchTable;
import io.te4j.core.transfer.TransferMetrics;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's transfers: batches submitted to one target each, their transport chosen per batch,
 * their deadlines, and their results entry by entry. Every failure reaches the caller through the
 * batch (and the future of {@link #transfer}): an unknown target, no transport, a range that is not
 * registered; nothing here throws for those. Thread-safe.
 */
final class Transfers {
  private static final Logger LOG = LoggerFactory.getLogger(Transfers.class);
  /** How long past a batch's deadline the engine waits for its transport before giving up on it. */
  private static final long DEADLINE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** A transport that never hands a slice back is a bug: said, but at most 5 times a second. */
  private static final RateLimitedLog UNSETTLED = new RateLimitedLog(LOG::warn, 5);

  private final BatchTable batches = new BatchTable(this::sliceFailed);
  private final long timeoutNanos;
  private final MemoryRegistry memory;
  /** Made once: a batch allocates no chooser of its own. */
  private final BatchTable.TransportChoice choice =
      (target, hint, regions, count) -> this.transports.choose(target, hint, regions, count);
  private Transports transports;
  private Segments segments;

  private final Observers observers;

  Transfers(long timeoutNanos, MemoryRegistry memory, Observers observers) {
    this.timeoutNanos = timeoutNanos;
    this.memory = memory;
    this.observers = observers;
  }

  void open(Transports transports, Segments segments) {
    this.transports = transports;
    this.segments = segments;
  }

  TransferMetrics metrics() {
    return batches.metrics();
  }

  /**
   * A batch of {@code requests} to {@code target}, submitted; it may already have failed (see
   * {@link Batch#isRejected()} and its entries' states).
   */
  Batch submit(String target, List<TransferRequest> requests, String hint, boolean open) {
    if (!observers.watching()) {
      return submitUnwatched(target, requests, hint, open);
    }
    long start = System.nanoTime();
    Batch b = submitUnwatched(target, requests, hint, open);
    observers.watch(b, requests, start);
    return b;
  }

  private Batch submitUnwatched(String target, List<TransferRequest> requests, String hint,
      boolean open) {
    int n = requests.size();
    if (!open) {
      return batches.rejected(target, n, timeoutNanos, ErrorCode.ENGINE_CLOSED,
          "engine is closed or not started");
    }
    if (target == null || target.isBlank()) {
      return batches.rejected(target, n, timeoutNanos, ErrorCode.INVALID_ARGUMENT,
          "empty target segment name");
    }
    SegmentDescriptor desc;
    try {
      desc = segments.resolve(target);
    } catch (TransferException e) {
      return batches.rejected(target, n, timeoutNanos, e.errorCode(), e.getMessage());
    }
    return batches.submit(target, desc, choice, hint, requests, memory, timeoutNanos);
  }

  /**
   * Submits; the future completes when every entry completed, else exceptionally once the batch is
   * quiescent (or its {@link #settleDeadline} passed).
   */
  CompletableFuture<Void> transfer(String target, List<TransferRequest> requests, String hint,
      boolean open) {
    Batch b = submit(target, requests, hint, open);
    return b.future().thenCompose(s -> whenSettled(b)).thenApply(x -> {
      batches.remove(b.id());
      TransferException f = b.failure();
      if (f != null) {
        throw f;
      }
      return null;
    });
  }

  /**
   * The transport a batch of {@code requests} to {@code target} would go through now.
   *
   * @throws TransferException for an unknown target or when no transport reaches it
   */
  io.te4j.api.spi.Transport transportFor(String target, List<TransferRequest> requests,
      String hint) {
    SegmentDescriptor desc = segments.resolve(target);
    io.te4j.api.spi.MemoryRegion[] regions = new io.te4j.api.spi.MemoryRegion[requests.size()];
    for (int i = 0; i < regions.length; i++) {
      TransferRequest r = requests.get(i);
      regions[i] = memory.find(r.localAddress(), r.length());
    }
    return transports.choose(desc, hint, regions, regions.length);
  }

  /**
   * Submits and waits. When the batch failed at the peer (it could not be connected to, or its
   * engine is gone) and the peer now publishes another descriptor (it restarted: another data
   * port, other memory), it is submitted once more against the new one: a restarted peer costs no
   * failure.
   *
   * @return the finished batch, already removed from the table
   */
  Batch submitAndWait(String target, List<TransferRequest> requests, String hint, boolean open) {
    Batch b = submit(target, requests, hint, open);
    await(b);
    batches.remove(b.id());
    if (b.state() != TransferState.FAILED || b.isRejected() || b.descriptor() == null
        || (b.errorCode() != ErrorCode.SOCKET_FAIL && b.errorCode() != ErrorCode.TRANSFER_FAILED)) {
      return b;
    }
    SegmentDescriptor fresh;
    try {
      fresh = segments.refresh(target);
    } catch (TransferException e) {
      return b; // still unreachable: the first failure stands
    }
    if (fresh.equals(b.descriptor())) {
      return b;
    }
    LOG.info("segment {} republished its descriptor; retrying once", target);
    Batch retry = submit(target, requests, hint, open);
    await(retry);
    batches.remove(retry.id());
    return retry;
  }

  /**
   * Waits until the batch ends, at most until its deadline plus a grace second; a batch still
   * running then is ended as TIMEOUT. It returns once the batch is also {@linkplain
   * Batch#isQuiescent() quiescent}, so a caller may reuse the memory of a failed batch (waiting at
   * most until {@link #settleDeadline}: logged when a transport holds a slice longer).
   */
  TransferState await(Batch b) {
    long wait = b.deadlineNanos() + DEADLINE_GRACE_NANOS - System.nanoTime();
    try {
      b.future().get(Math.max(0, wait), TimeUnit.NANOSECONDS);
      if (!b.isQuiescent()
          && !b.awaitQuiescent(settleDeadline(b) - System.nanoTime())) {
        UNSETTLED.log("batch {} to {} ended {} but a transport still holds a slice of it: its "
            + "memory may still be touched", b.id(), b.target(), b.state());
      }
    } catch (TimeoutException e) {
      b.abort(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "no result before the deadline");
      return await(b); // ended now: wait for its slices to come back
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransferException(ErrorCode.TRANSFER_FAILED, "interrupted while waiting", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("batch futures never fail", e);
    }
    return b.state();
  }

  /**
   * True when the batch ended and its memory may be reused: it is quiescent, or its transport held
   * a slice past {@link #settleDeadline} (then the engine stops waiting for it).
   */
  boolean settled(Batch b) {
    return b.state().isTerminal()
        && (b.isQuiescent() || System.nanoTime() - settleDeadline(b) >= 0);
  }

  private CompletableFuture<Void> whenSettled(Batch b) {
    if (b.isQuiescent()) {
      return CompletableFuture.completedFuture(null);
    }
    return b.quiescence().toCompletableFuture()
        .completeOnTimeout(null, settleDeadline(b) - System.nanoTime(), TimeUnit.NANOSECONDS);
  }

  /**
   * How long the engine waits for a batch's slices to come back: its deadline, the grace second,
   * then one transfer timeout more (transports fail what they hold at the deadline; this bounds a
   * transport that does not).
   */
  private long settleDeadline(Batch b) {
    return b.deadlineNanos() + DEADLINE_GRACE_NANOS + timeoutNanos;
  }

  /** The batch's state now; a batch past its deadline and grace is ended as TIMEOUT. */
  TransferState poll(Batch b) {
    TransferState s = b.state();
    if (s == TransferState.PENDING
        && System.nanoTime() - (b.deadlineNanos() + DEADLINE_GRACE_NANOS) > 0) {
      b.abort(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "no result before the deadline");
      s = b.state();
    }
    return s;
  }

  Batch batch(long id) {
    return batches.get(id);
  }

  void free(long id) {
    Batch b = batches.get(id);
    if (b != null && b.state().isTerminal() && !settled(b)) {
      throw new TransferException(ErrorCode.BATCH_BUSY, "batch " + id + " ended " + b.state()
          + " but a transport still holds a slice of it; wait until it is quiescent");
    }
    batches.free(id);
  }

  void drop(long id) {
    batches.remove(id);
  }

  /** Ends every running batch: the engine is closing. */
  void abortAll() {
    batches.abortAll(TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "engine closed");
  }

  private void sliceFailed(Batch batch, TransferState state, ErrorCode code) {
    // The peer may have restarted with another port or other memory: look it up afresh next time.
    segments.invalidate(batch.target());
  }
}
