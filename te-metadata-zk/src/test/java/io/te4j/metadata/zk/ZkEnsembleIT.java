package io.te4j.metadata.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.transfer.Batch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Engines on a three-server ensemble named by a multi-host location with a root. */
class ZkEnsembleIT {
  private static final int LEN = 64 * 1024;
  private TestingCluster cluster;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void stopAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        // keep closing the rest
      }
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private Engine engine(String metadata, String name) {
    Engine e = Engine.builder().localHostname(name).metadataServer(metadata).protocol("tcp")
        .transferTimeout(Duration.ofSeconds(5)).start();
    open.add(e);
    return e;
  }

  private static void writeAndCheck(Engine from, Engine to, ManagedBuffer dst, long seed) {
    byte[] payload = new byte[LEN];
    new Random(seed).nextBytes(payload);
    try (ManagedBuffer src = from.allocate(LEN)) {
      from.write(src.address(), payload, 0, LEN);
      Batch b = from.submit(to.segmentName(),
          List.of(TransferRequest.write(src.address(), dst.address(), LEN)), "");
      assertEquals(TransferState.COMPLETED, from.await(b), b.errorCode() + " " + b.errorMessage());
      from.freeBatch(b.id());
    }
    assertArrayEquals(payload, to.read(dst.address(), LEN));
  }

  @Test
  void losingTheServerAnEngineUsesKeepsItsNodesAndTransfersGoOn() throws Exception {
    cluster = new TestingCluster(3);
    cluster.start();
    String metadata = "zk://" + cluster.getConnectString() + "/ensemble-root";
    Engine a = engine(metadata, "127.0.0.1:41001");
    Engine b = engine(metadata, "127.0.0.1:41002");
    ManagedBuffer atB = b.allocate(LEN);
    writeAndCheck(a, b, atB, 1);

    ZkMetadataStore storeB = ZkMetadataStore.OPEN.stream()
        .filter(s -> s.owner().equals(b.segmentName())).findFirst().orElseThrow();
    long session = storeB.curator().getZookeeperClient().getZooKeeper().getSessionId();
    InstanceSpec used = cluster.findConnectionInstance(
        storeB.curator().getZookeeperClient().getZooKeeper());
    assertTrue(cluster.killServer(used), "killed " + used);

    try (TreeView plain = new TreeView(cluster.getConnectString())) {
      String seg = "/ensemble-root/mooncake/ram/" + b.segmentName();
      plain.await(Duration.ofSeconds(30), "b's node on the surviving servers, same session",
          () -> plain.holder(seg) == session && storeB.curator().getZookeeperClient()
              .isConnected());
      assertEquals(Optional.of(JsonCodec.descriptorToJson(b.localDescriptor())), plain.data(seg));
    }
    writeAndCheck(a, b, atB, 2);
    Engine c = engine(metadata, "127.0.0.1:41003");
    writeAndCheck(c, b, atB, 3);
  }
}
