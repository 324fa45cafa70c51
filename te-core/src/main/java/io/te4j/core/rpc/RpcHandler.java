package io.te4j.core.rpc;

import io.te4j.api.TransferNotify;

/**
 * What an {@link RpcServer} asks of the engine for each request on the handshake port. Every method
 * runs on one of the server's handler threads, possibly on several at once: implementations must be
 * thread-safe and should return quickly (the connection's deadline keeps running).
 */
public interface RpcHandler {
  /**
   * The body of the reply to a type-1 (metadata) request: this engine's segment descriptor as
   * compact JSON, or null when there is none yet (the reply is then {@code {}}).
   */
  String localDescriptorJson();

  /**
   * A type-2 notification arrived.
   *
   * @return true when it was taken (the server replies {@code
   *     {"name":"","notify_msg":"success"}}); false when it was refused, the received ones not
   *     having been drained (the reply's {@code notify_msg} then says so)
   */
  boolean onNotify(TransferNotify notify);

  /**
   * The reply body to a frame of a type the server does not answer itself: type 0 (the connection
   * handshake of a transport such as RDMA), which legacy untyped frames also are.
   *
   * @param type the frame type (0 for a legacy frame)
   * @param body the request, trailing whitespace removed, well-formed JSON
   * @param peer the remote address, for logs
   * @return the reply body, or null when nothing serves that type (the connection is closed
   *     without a reply)
   */
  default String onOtherFrame(int type, String body, String peer) {
    return null;
  }
}
