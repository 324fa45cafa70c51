package io.te4j.core.transfer;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of what the engine moved: batches add their completed slices and bytes when they end
 * (nothing shared is written per slice but a failure's count).
 */
public final class TransferMetrics {
  private final LongAdder bytes = new LongAdder();
  private final LongAdder slices = new LongAdder();
  private final LongAdder failedSlices = new LongAdder();
  private final LongAdder batches = new LongAdder();
  private final java.util.concurrent.ConcurrentHashMap<String, LongAdder> batchesByTransport =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** A batch's last slice is back: these of its slices and bytes completed. */
  void slicesCompleted(long count, long length) {
    bytes.add(length);
    slices.add(count);
  }

  void sliceFailed() {
    failedSlices.increment();
  }

  void batchSubmitted(String transport) {
    batches.increment();
    batchesByTransport.computeIfAbsent(transport, t -> new LongAdder()).increment();
  }

  /** Batches sent through the transport of that name: which path the engine chose. */
  public long batchesVia(String transport) {
    LongAdder a = batchesByTransport.get(transport);
    return a == null ? 0 : a.sum();
  }

  public long bytes() {
    return bytes.sum();
  }

  public long completedSlices() {
    return slices.sum();
  }

  public long failedSlices() {
    return failedSlices.sum();
  }

  public long batches() {
    return batches.sum();
  }
}
