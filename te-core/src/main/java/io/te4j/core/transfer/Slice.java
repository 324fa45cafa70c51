package io.te4j.core.transfer;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The engine's {@link TransferSlice}: one contiguous piece of a request, finished exactly once per
 * use. Pooled: {@link #init} starts a new use with the next generation, and an end aimed at an
 * earlier generation (a transport's late answer) finds the word changed and does nothing.
 */
final class Slice implements TransferSlice {
  private static final VarHandle WORD;

  static {
    try {
      WORD = MethodHandles.lookup().findVarHandle(Slice.class, "word", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final TransferMetrics metrics;
  private final SlicePool pool;
  private final BatchTable.SliceFailureListener failureListener;
  // Set by init() before the slice is handed to a transport; the hand-over publishes them.
  private Batch batch;
  private int entry;
  private TransferOpcode opcode;
  private long localAddress;
  private MemoryRegion localRegion;
  private long targetOffset;
  private long length;
  private SegmentDescriptor target;
  private long stream;
  // Kept apart from the batch: a transport's watchdog may still read it after the slice finished.
  private long deadlineNanos;
  /** The generation of the current use, shifted left once; bit 0 set once that use ended. */
  @SuppressWarnings("unused") // accessed through WORD
  private volatile long word;

  Slice(TransferMetrics metrics, SlicePool pool,
      BatchTable.SliceFailureListener failureListener) {
    this.metrics = metrics;
    this.pool = pool;
    this.failureListener = failureListener;
  }

  /** Starts the next use: fields first, then the new generation publishes them. */
  Slice init(Batch batch, int entry, TransferOpcode opcode, long localAddress,
      MemoryRegion localRegion, long targetOffset, long length, SegmentDescriptor target,
      long stream) {
    long next = ((long) WORD.getAcquire(this) >>> 1) + 1;
    this.batch = batch;
    this.entry = entry;
    this.opcode = opcode;
    this.localAddress = localAddress;
    this.localRegion = localRegion;
    this.targetOffset = targetOffset;
    this.length = length;
    this.target = target;
    this.stream = stream;
    this.deadlineNanos = batch.deadlineNanos();
    WORD.setRelease(this, next << 1);
    return this;
  }

  @Override
  public TransferOpcode opcode() {
    return opcode;
  }

  @Override
  public long localAddress() {
    return localAddress;
  }

  @Override
  public MemoryRegion localRegion() {
    return localRegion;
  }

  @Override
  public long targetOffset() {
    return targetOffset;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public SegmentDescriptor target() {
    return target;
  }

  @Override
  public long deadlineNanos() {
    return deadlineNanos;
  }

  @Override
  public long stream() {
    return stream;
  }

  @Override
  public long generation() {
    return (long) WORD.getAcquire(this) >>> 1;
  }

  @Override
  public boolean complete(long generation) {
    if (!WORD.compareAndSet(this, generation << 1, (generation << 1) | 1)) {
      return false; // ended already, or an earlier use
    }
    Batch b = batch;
    int e = entry;
    release();
    b.sliceCompleted(e);
    return true;
  }

  @Override
  public boolean fail(long generation, TransferState state, ErrorCode code, String message) {
    if (!WORD.compareAndSet(this, generation << 1, (generation << 1) | 1)) {
      return false;
    }
    Batch b = batch;
    int e = entry;
    long len = length;
    metrics.sliceFailed();
    release();
    // Before the batch can end: whoever waits on it then finds the stale descriptor dropped.
    failureListener.sliceFailed(b, state, code);
    b.sliceFailed(e, len, state, code, message);
    return true;
  }

  /** Back to the pool: the SPI forbids a transport to touch a slice after finishing it. */
  private void release() {
    batch = null;
    localRegion = null;
    target = null;
    pool.offer(this);
  }
}
