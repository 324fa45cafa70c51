package io.te4j.core.rpc;

import io.te4j.api.TransferNotify;

/**
 * What an {@link RpcServer} asks of the engine for each request on the handshake port. Every method
 * runs on one of the server's handler threads, possibly on several at once: implementations must be
 * thread-safe and should return quickly (the connection's deadline keeps running).
 */
public interface RpcHandler {
  /**
   * The reference's reply to an RDMA handshake when there is nothing to connect: every field empty,
   * keys sorted as jsoncpp writes them.
   */
  String EMPTY_HANDSHAKE_REPLY =
      "{\"local_gid\":\"\",\"local_lid\":0,\"local_nic_path\":\"\",\"payload\":\"\","
          + "\"peer_nic_path\":\"\",\"qp_num\":[],\"reply_msg\":\"\"}";

  /**
   * The body of the reply to a type-1 (metadata) request: this engine's segment descriptor as
   * compact JSON, or null when there is none yet (the reply is then {@code {}}).
   */
  String localDescriptorJson();

  /**
   * A type-2 notification arrived; the server replies {@code {"name":"","notify_msg":"success"}}.
   */
  void onNotify(TransferNotify notify);

  /**
   * The reply body to a type-0 (RDMA connection) request or a legacy untyped frame.
   *
   * @param requestBody the request, trailing whitespace removed, well-formed JSON
   */
  default String onRdmaHandshake(String requestBody) {
    return EMPTY_HANDSHAKE_REPLY;
  }
}
