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

  private final Batch batch;
  private final TransferOpcode opcode;
  private final long localAddress;
  private final MemoryRegion localRegion;
  private final long targetOffset;
  private final long length;
  private final SegmentDescriptor target;
  private final TransferMetrics metrics;
  @SuppressWarnings("unused") // written through FINISHED
  private volatile int finished;

  Slice(Batch batch, TransferOpcode opcode, long localAddress, MemoryRegion localRegion,
      long targetOffset, long length, SegmentDescriptor target, TransferMetrics metrics) {
    this.batch = batch;
    this.opcode = opcode;
    this.localAddress = localAddress;
    this.localRegion = localRegion;
    this.targetOffset = targetOffset;
    this.length = length;
    this.target = target;
    this.metrics = metrics;
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
    return batch.deadlineNanos();
  }

  @Override
  public void complete() {
    if (FINISHED.compareAndSet(this, 0, 1)) {
      metrics.sliceCompleted(length);
      batch.sliceCompleted();
    }
  }

  @Override
  public void fail(TransferState state, ErrorCode code, String message) {
    if (FINISHED.compareAndSet(this, 0, 1)) {
      metrics.sliceFailed();
      batch.sliceFailed(state, code, message);
    }
  }
}
