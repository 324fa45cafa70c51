package io.te4j.transport.rdma;

import io.te4j.core.Engine;
import io.te4j.core.rpc.RpcClient;
import io.te4j.api.spi.PeerRpc;
import java.time.Duration;
import java.util.Map;

/** Engines of this JVM on the verbs of {@code te4j.rdma.verbs} (soft devices in CI), P2P metadata. */
final class RdmaEngines {
  private RdmaEngines() {}

  static Engine start() {
    return start(Map.of(), Duration.ofSeconds(30));
  }

  static Engine start(Map<String, String> settings, Duration transferTimeout) {
    Engine.Builder b = Engine.builder().protocol("rdma").metadataServer("P2PHANDSHAKE")
        .localHostname("127.0.0.1").transferTimeout(transferTimeout);
    settings.forEach(b::setting);
    return b.start();
  }

  static RdmaTransport transport(Engine engine) {
    return (RdmaTransport) engine.transport("rdma");
  }

  /** Sends one type-0 frame to {@code engine}'s handshake port and returns the reply body. */
  static String frame(Engine engine, String body) {
    return RpcClient.withDefaults().call("127.0.0.1", engine.rpcPort(), PeerRpc.CONNECTION, body);
  }
}
