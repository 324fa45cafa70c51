package io.te4j.api.spi;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;

/**
 * One unit of work the engine hands a transport: a contiguous range of a request, already checked
 * against local registered memory. The transport ends it exactly once, with {@link #complete} or
 * {@link #fail}, from any thread.
 *
 * <p>The engine reuses slice objects: once a slice ended, the same object may carry another
 * request's range. Each use has its own {@link #generation()}: a transport that may end a slice
 * late (a watchdog, a peer's late answer, a completion queue) takes the generation when it is handed
 * the slice, reads the fields it needs then, and ends it with {@link #complete(long)} or {@link
 * #fail(long, TransferState, ErrorCode, String)}; a call for a generation that is over does
 * nothing, so it can never end the next use. The forms without a generation are for a transport
 * that ends the slice before {@code submit} returns.
 */
public interface TransferSlice {
  TransferOpcode opcode();

  /** Local address; lies inside {@link #localRegion()}. */
  long localAddress();

  /** The registered local region that holds the whole slice. */
  MemoryRegion localRegion();

  /** Where in the target segment (see {@link io.te4j.api.TransferRequest#targetOffset()}). */
  long targetOffset();

  /** Bytes to move, greater than zero. */
  long length();

  /** The target's descriptor as the engine last resolved it. */
  SegmentDescriptor target();

  /** {@link System#nanoTime()} after which the slice has timed out. */
  long deadlineNanos();

  /**
   * The request's ordering handle ({@link io.te4j.api.TransferRequest#stream()}: the CUDA stream of
   * the {@code *_on_cuda} operations), or 0 for none.
   */
  default long stream() {
    return 0;
  }

  /** Identifies this use of the slice object; another use has another value. */
  long generation();

  /**
   * The bytes are in place (for a WRITE: in target memory; for a READ: in local memory).
   *
   * @return false when that use already ended (or is over): nothing was done
   */
  boolean complete(long generation);

  /**
   * The slice failed.
   *
   * @param state {@link TransferState#FAILED} or {@link TransferState#TIMEOUT}
   * @param code why
   * @param message what happened, for logs and exceptions
   * @return false when that use already ended (or is over): nothing was done
   */
  boolean fail(long generation, TransferState state, ErrorCode code, String message);

  /** {@link #complete(long)} of the current use: only while it is certainly still ours. */
  default void complete() {
    complete(generation());
  }

  /** {@link #fail(long, TransferState, ErrorCode, String)} of the current use, likewise. */
  default void fail(TransferState state, ErrorCode code, String message) {
    fail(generation(), state, code, message);
  }
}
