package io.te4j.transport.nvmeof;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A slice whose end is a future; counts how often it was ended (the SPI says: once). */
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
  /**
   * Runs inside complete()/fail(), on the transport's thread, before the outcome is set. (A
   * dependent of {@link #outcome} may run on a thread waiting for it instead.)
   */
  volatile Runnable onEnd = () -> {};
  private final TransferOpcode opcode;
  private final MemoryRegion region;
  private final long localAddress;
  private final long targetOffset;
  private final long length;
  private final SegmentDescriptor target;
  private final long deadlineNanos;

  TestSlice(TransferOpcode opcode, MemoryRegion region, long localOffset, SegmentDescriptor target,
      long targetOffset, long length, long timeoutMillis) {
    this.opcode = opcode;
    this.region = region;
    this.localAddress = region.address() + localOffset;
    this.targetOffset = targetOffset;
    this.length = length;
    this.target = target;
    this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
  }

  static TestSlice read(MemoryRegion r, long localOffset, SegmentDescriptor d, long offset,
      long length) {
    return new TestSlice(TransferOpcode.READ, r, localOffset, d, offset, length, 30_000);
  }

  static TestSlice write(MemoryRegion r, long localOffset, SegmentDescriptor d, long offset,
      long length) {
    return new TestSlice(TransferOpcode.WRITE, r, localOffset, d, offset, length, 30_000);
  }

  Outcome await() throws Exception {
    return outcome.get(30, TimeUnit.SECONDS);
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
    onEnd.run();
    outcome.complete(new Outcome(TransferState.COMPLETED, null, null));
  }

  @Override
  public void fail(TransferState state, ErrorCode code, String message) {
    ends.incrementAndGet();
    onEnd.run();
    outcome.complete(new Outcome(state, code, message));
  }
}
