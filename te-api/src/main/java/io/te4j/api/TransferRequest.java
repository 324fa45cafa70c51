package io.te4j.api;

import java.util.Objects;

/**
 * One transfer between local memory and a target segment.
 *
 * @param opcode READ or WRITE
 * @param localAddress address of registered local memory
 * @param targetOffset where in the target segment: an absolute address for memory segments
 *     (TCP, RDMA), an offset into the device for CXL, an offset into the segment's files for
 *     NVMe-oF
 * @param length number of bytes, at least 0
 * @param stream an ordering handle the transport orders the copy on, or 0 for none: the CUDA
 *     stream ({@code cudaStream_t}) of the {@code *_on_cuda} operations; handed to each slice
 */
public record TransferRequest(
    TransferOpcode opcode, long localAddress, long targetOffset, long length, long stream) {
  public TransferRequest {
    Objects.requireNonNull(opcode, "opcode");
    if (length < 0) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "negative length " + length);
    }
  }

  /** A request without an ordering handle. */
  public TransferRequest(TransferOpcode opcode, long localAddress, long targetOffset, long length) {
    this(opcode, localAddress, targetOffset, length, 0);
  }

  /** This request ordered on {@code stream} (a CUDA stream), or on none with 0. */
  public TransferRequest onStream(long stream) {
    return new TransferRequest(opcode, localAddress, targetOffset, length, stream);
  }

  public static TransferRequest write(long localAddress, long targetOffset, long length) {
    return new TransferRequest(TransferOpcode.WRITE, localAddress, targetOffset, length);
  }

  public static TransferRequest read(long localAddress, long targetOffset, long length) {
    return new TransferRequest(TransferOpcode.READ, localAddress, targetOffset, length);
  }
}
