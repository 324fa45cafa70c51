package io.te4j.api;

/**
 * Negative result codes, shared by the parity face and {@link TransferException}.
 *
 * <p>The values from -1 to -303 are those of the reference engine, so that code written against
 * its return values ports unchanged; the -400 range is ours.
 */
public enum ErrorCode {
  /** An argument is malformed: null, negative, mismatched list lengths, unknown name. */
  INVALID_ARGUMENT(-1),
  /** More requests than a batch or queue can hold. */
  TOO_MANY_REQUESTS(-2),
  /** An address range does not lie inside memory registered with the engine. */
  ADDRESS_NOT_REGISTERED(-3),
  /** A batch is still in flight and cannot be freed or reused. */
  BATCH_BUSY(-4),
  /** A named device (NIC, GPU, file) does not exist. */
  DEVICE_NOT_FOUND(-6),
  /** A registration overlaps memory that is already registered. */
  ADDRESS_OVERLAPPED(-7),
  /** A host name could not be resolved. */
  DNS_FAIL(-100),
  /** A socket could not be opened, connected, or broke. */
  SOCKET_FAIL(-101),
  /** A JSON document (descriptor, frame body) is malformed. */
  MALFORMED_JSON(-102),
  /** The peer rejected a handshake or a frame. */
  REJECT_HANDSHAKE(-103),
  /** The metadata store failed or does not know the segment. */
  METADATA(-200),
  /** A connection endpoint could not be set up. */
  ENDPOINT(-201),
  /** Memory could not be allocated or mapped. */
  MEMORY(-302),
  /** The operation is not implemented by the selected transport or store. */
  NOT_IMPLEMENTED(-303),
  /** A transfer did not complete before its deadline. */
  TRANSFER_TIMEOUT(-400),
  /** A transfer failed: the peer rejected it or the connection broke. */
  TRANSFER_FAILED(-401),
  /** A batch id is unknown, stale, or was already freed. */
  INVALID_BATCH_ID(-402),
  /** The transport (or store) is not installed, or its probe failed. */
  TRANSPORT_UNAVAILABLE(-403),
  /** The engine is not initialized, or was closed. */
  ENGINE_CLOSED(-404),
  /** A configuration value is malformed or inconsistent. */
  INVALID_CONFIGURATION(-405),
  /**
   * The transport chosen cannot move memory of this kind (device memory over a host-memory
   * transport): nothing was touched.
   */
  MEMORY_KIND_UNSUPPORTED(-406),
  /**
   * The target buffer does not allow this access to peers (a read-only buffer written, a
   * write-only one read; {@link PeerAccess}): refused before anything was sent.
   */
  PEER_ACCESS_DENIED(-407);

  private final int code;

  ErrorCode(int code) {
    this.code = code;
  }

  /** The negative integer the parity face returns for this error. */
  public int code() {
    return code;
  }

  /**
   * The error with this code.
   *
   * @throws IllegalArgumentException when no error has that code
   */
  public static ErrorCode of(int code) {
    for (ErrorCode e : values()) {
      if (e.code == code) {
        return e;
      }
    }
    throw new IllegalArgumentException("no error code " + code);
  }
}
