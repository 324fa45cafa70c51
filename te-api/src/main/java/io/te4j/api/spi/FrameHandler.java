package io.te4j.api.spi;

/**
 * Answers frames of one type on the engine's handshake port (WIRE.md section 3) for a transport:
 * type {@link PeerRpc#CONNECTION} is the RDMA connection handshake, and the reference's legacy
 * untyped frames arrive as that type too. Registered with {@link TransportContext#serveFrames}.
 *
 * <p>Runs on the RPC server's handler threads, several at once: thread-safe, and quick (the
 * connection's deadline keeps running; the reference's peers wait for the reply).
 */
@FunctionalInterface
public interface FrameHandler {
  /**
   * The reply to one request.
   *
   * @param body the request body: well-formed JSON, trailing whitespace removed
   * @param peer the remote address, for logs
   * @return the reply body (JSON), or null to close the connection without a reply
   */
  String handle(String body, String peer);
}
