package io.te4j.api.spi;

/**
 * The engine's client for the reference's handshake port (WIRE.md section 3): one request frame,
 * one reply frame, bounded in time. Metadata stores and transports use it to talk to peers.
 */
public interface PeerRpc {
  /**
   * Frame type of the connection handshake ("Connection": RDMA queue pairs), served by the
   * transport that registered for it ({@link TransportContext#serveFrames}), not by the engine.
   */
  int CONNECTION = 0;
  /** Frame type of a segment descriptor request (P2P metadata). */
  int METADATA = 1;
  /** Frame type of a notification. */
  int NOTIFY = 2;
  /** Frame type of a probe. */
  int PROBE = 3;

  /**
   * Sends one typed frame and returns the reply body (JSON, trailing whitespace removed).
   *
   * @throws io.te4j.api.TransferException SOCKET_FAIL when the peer cannot be reached or breaks the
   *     exchange, TRANSFER_TIMEOUT when it does not answer in time, REJECT_HANDSHAKE for a
   *     malformed reply
   */
  String call(String host, int port, int frameType, String jsonBody);
}
