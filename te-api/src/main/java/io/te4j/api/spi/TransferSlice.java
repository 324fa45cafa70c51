package io.te4j.api.spi;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;

/**
 * One unit of work the engine hands a transport: a contiguous range of a request, already checked
 * against local registered memory. The transport calls exactly one of {@link #complete()} or
 * {@link #fail} exactly once, from any thread; later calls are ignored. The engine may reuse the
 * object after that, so a transport must not keep it.
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

  /** The CUDA stream to order the copy on, or 0 (the default) for none. */
  default long cudaStream() {
    return 0;
  }

  /** The bytes are in place (for a WRITE: in target memory; for a READ: in local memory). */
  void complete();

  /**
   * The slice failed.
   *
   * @param state {@link TransferState#FAILED} or {@link TransferState#TIMEOUT}
   * @param code why
   * @param message what happened, for logs and exceptions
   */
  void fail(TransferState state, ErrorCode code, String message);
}
