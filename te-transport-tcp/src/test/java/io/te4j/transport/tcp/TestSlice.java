package io.te4j.transport.tcp;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A slice whose end is a future; counts how often the transport ended it (must be once). */
final class TestSlice implements TransferSlice {
  /** How a slice ended. */
  record Outcome(TransferState state, ErrorCode code, String message) {
    boolean ok() {
      return state == TransferState.COMPLETED;
    }

    @Override
    public String toString() {
      return state + (code == null ? "" : " " + code + ": " + message);
    }
  }

  final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
  final AtomicInteger ends = new AtomicInteger();
  private final TransferOpcode opcode;
  private final MemoryRegion region;
  private final long localAddress;
  private final long targetOffset;
  private final long length;
  private final SegmentDescriptor target;
  private final long deadlineNanos;

  TestSlice(TransferOpcode opcode, MemoryRegion region, long localAddress, long targetOffset,
      long length, SegmentDescriptor target, long timeoutMillis) {
    this.opcode = opcode;
    this.region = region;
    this.localAddress = localAddress;
    this.targetOffset = targetOffset;
    this.length = length;
    this.target = target;
    this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
  }

  static TestSlice write(MemoryRegion local, long localAddress, SegmentDescriptor target,
      long targetAddress, long length, long timeoutMillis) {
    return new TestSlice(TransferOpcode.WRITE, local, localAddress, targetAddress, length, target,
        timeoutMillis);
  }

  static TestSlice read(MemoryRegion local, long localAddress, SegmentDescriptor target,
      long targetAddress, long length, long timeoutMillis) {
    return new TestSlice(TransferOpcode.READ, local, localAddress, targetAddress, length, target,
        timeoutMillis);
  }

  /** The outcome, waiting at most {@code millis}. */
  Outcome await(long millis) throws Exception {
    return outcome.get(millis, TimeUnit.MILLISECONDS);
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
    return region;
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
    ends.incrementAndGet();
    outcome.complete(new Outcome(TransferState.COMPLETED, null, null));
  }

  @Override
  public void fail(TransferState state, ErrorCode code, String message) {
    ends.incrementAndGet();
    outcome.complete(new Outcome(state, code, message));
  }
}
