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
 */
public record TransferRequest(
    TransferOpcode opcode, long localAddress, long targetOffset, long length) {
  public TransferRequest {
    Objects.requireNonNull(opcode, "opcode");
    if (length < 0) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "negative length " + length);
    }
  }

  public static TransferRequest write(long localAddress, long targetOffset, long length) {
    return new TransferRequest(TransferOpcode.WRITE, localAddress, targetOffset, length);
  }

  public static TransferRequest read(long localAddress, long targetOffset, long length) {
    return new TransferRequest(TransferOpcode.READ, localAddress, targetOffset, length);
  }
}
