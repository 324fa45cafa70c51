package io.te4j.testkit;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A slice whose end is a future. It counts how often the transport ended it ({@link #ends()}: the
 * SPI says once) and keeps the first end as its {@link #outcome()}. Local memory is given as an
 * address, like {@link TransferSlice#localAddress()}.
 */
public final class TestSlice implements TransferSlice {
  /** The deadline of slices made without one, and how long {@link #await()} waits. */
  public static final long DEFAULT_TIMEOUT_MILLIS = 30_000;

  /** How a slice ended: {@code code} and {@code message} are null when it completed. */
  public record Outcome(TransferState state, ErrorCode code, String message) {
    /** True when the slice completed. */
    public boolean ok() {
      return state == TransferState.COMPLETED;
    }

    @Override
    public String toString() {
      return state + (code == null ? "" : " " + code + ": " + message);
    }
  }

  private static final long GENERATION = 1;
  private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
  private final AtomicInteger ends = new AtomicInteger();
  private volatile Runnable onEnd = () -> {};
  private final TransferOpcode opcode;
  private final MemoryRegion region;
  private final long localAddress;
  private final SegmentDescriptor target;
  private final long targetOffset;
  private final long length;
  private final long deadlineNanos;

  /**
   * A slice of {@code length} bytes between {@code localAddress} (inside {@code region}) and
   * {@code targetOffset} of {@code target}, timing out {@code timeoutMillis} from now.
   */
  public TestSlice(TransferOpcode opcode, MemoryRegion region, long localAddress,
      SegmentDescriptor target, long targetOffset, long length, long timeoutMillis) {
    this.opcode = opcode;
    this.region = region;
    this.localAddress = localAddress;
    this.target = target;
    this.targetOffset = targetOffset;
    this.length = length;
    this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
  }

  /** A WRITE from {@code localAddress} to {@code targetOffset} of {@code target}. */
  public static TestSlice write(MemoryRegion local, long localAddress, SegmentDescriptor target,
      long targetOffset, long length, long timeoutMillis) {
    return new TestSlice(TransferOpcode.WRITE, local, localAddress, target, targetOffset, length,
        timeoutMillis);
  }

  /** A WRITE with the {@link #DEFAULT_TIMEOUT_MILLIS default timeout}. */
  public static TestSlice write(MemoryRegion local, long localAddress, SegmentDescriptor target,
      long targetOffset, long length) {
    return write(local, localAddress, target, targetOffset, length, DEFAULT_TIMEOUT_MILLIS);
  }

  /** A READ from {@code targetOffset} of {@code target} into {@code localAddress}. */
  public static TestSlice read(MemoryRegion local, long localAddress, SegmentDescriptor target,
      long targetOffset, long length, long timeoutMillis) {
    return new TestSlice(TransferOpcode.READ, local, localAddress, target, targetOffset, length,
        timeoutMillis);
  }

  /** A READ with the {@link #DEFAULT_TIMEOUT_MILLIS default timeout}. */
  public static TestSlice read(MemoryRegion local, long localAddress, SegmentDescriptor target,
      long targetOffset, long length) {
    return read(local, localAddress, target, targetOffset, length, DEFAULT_TIMEOUT_MILLIS);
  }

  /**
   * Runs {@code action} inside {@link #complete()} and {@link #fail}, on the transport's thread,
   * before the outcome is set (a dependent of {@link #outcome()} may run on a thread waiting for
   * it instead); returns this.
   */
  public TestSlice onEnd(Runnable action) {
    this.onEnd = action;
    return this;
  }

  /** The first end; the future completes (never exceptionally) when the transport ends it. */
  public CompletableFuture<Outcome> outcome() {
    return outcome;
  }

  /** How many times the transport ended this slice so far. */
  public int ends() {
    return ends.get();
  }

  /** The outcome, waiting at most {@code millis}. */
  public Outcome await(long millis)
      throws InterruptedException, ExecutionException, TimeoutException {
    return outcome.get(millis, TimeUnit.MILLISECONDS);
  }

  /** The outcome, waiting at most {@link #DEFAULT_TIMEOUT_MILLIS}. */
  public Outcome await() throws InterruptedException, ExecutionException, TimeoutException {
    return await(DEFAULT_TIMEOUT_MILLIS);
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

  /** Always 1: a test slice has one use. */
  @Override
  public long generation() {
    return GENERATION;
  }

  /** Counts every end of generation 1 (a second one is a transport's bug a test catches). */
  @Override
  public boolean complete(long generation) {
    if (generation != GENERATION) {
      return false;
    }
    ends.incrementAndGet();
    onEnd.run();
    return outcome.complete(new Outcome(TransferState.COMPLETED, null, null));
  }

  @Override
  public boolean fail(long generation, TransferState state, ErrorCode code, String message) {
    if (generation != GENERATION) {
      return false;
    }
    ends.incrementAndGet();
    onEnd.run();
    return outcome.complete(new Outcome(state, code, message));
  }

  @Override
  public String toString() {
    return opcode + " " + length + " B at " + Long.toHexString(localAddress) + " <-> "
        + (target == null ? "?" : target.name()) + "+" + targetOffset;
  }
}
