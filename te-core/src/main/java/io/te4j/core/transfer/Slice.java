package io.te4j.core.transfer;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** The engine's {@link TransferSlice}: one contiguous piece of a request, finished exactly once. */
final class Slice implements TransferSlice {
  private static final VarHandle FINISHED;

  static {
    try {
      FINISHED = MethodHandles.lookup().findVarHandle(Slice.class, "finished", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final TransferMetrics metrics;
  private final SlicePool pool;
  // Set by init() before the slice is handed to a transport; the hand-over publishes them.
  private Batch batch;
  private TransferOpcode opcode;
  private long localAddress;
  private MemoryRegion localRegion;
  private long targetOffset;
  private long length;
  private SegmentDescriptor target;
  // Kept apart from the batch: a transport's watchdog may still read it after the slice finished.
  private long deadlineNanos;
  @SuppressWarnings("unused") // written through FINISHED
  private volatile int finished;

  Slice(TransferMetrics metrics, SlicePool pool) {
    this.metrics = metrics;
    this.pool = pool;
  }

  Slice init(Batch batch, TransferOpcode opcode, long localAddress, MemoryRegion localRegion,
      long targetOffset, long length, SegmentDescriptor target) {
    this.batch = batch;
    this.opcode = opcode;
    this.localAddress = localAddress;
    this.localRegion = localRegion;
    this.targetOffset = targetOffset;
    this.length = length;
    this.target = target;
    this.deadlineNanos = batch.deadlineNanos();
    FINISHED.setRelease(this, 0);
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
  public void complete() {
    if (FINISHED.compareAndSet(this, 0, 1)) {
      Batch b = batch;
      metrics.sliceCompleted(length);
      release();
      b.sliceCompleted();
    }
  }

  @Override
  public void fail(TransferState state, ErrorCode code, String message) {
    if (FINISHED.compareAndSet(this, 0, 1)) {
      Batch b = batch;
      metrics.sliceFailed();
      release();
      b.sliceFailed(state, code, message);
    }
  }

  /** Back to the pool: the SPI forbids a transport to touch a slice after finishing it. */
  private void release() {
    batch = null;
    localRegion = null;
    target = null;
    pool.offer(this);
  }
}
