package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.TransferEngine;
import io.te4j.core.config.EngineConfig;
import io.te4j.core.transfer.Batch;
import io.te4j.transport.tcp.TcpDescriptorFields;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Engine life cycle: close under load, a peer restarting with a new descriptor, topology files. */
class EngineLifecycleIT {
  @Test
  void closeFailsInFlightTransfersPromptlyAndFreesThreads() throws Exception {
    try (Engine target = Engines.tcp(); ManagedBuffer dst = target.allocate(64L << 20)) {
      Engine initiator = Engines.tcp();
      ManagedBuffer src = initiator.allocate(64L << 20);
      List<Batch> batches = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        batches.add(initiator.submit(target.segmentName(),
            List.of(TransferRequest.write(src.address(), dst.address(), 16L << 20)), ""));
      }
      long t0 = System.nanoTime();
      initiator.close();
      int closedWith = 0;
      for (Batch b : batches) {
        TransferState s = b.future().get(5, TimeUnit.SECONDS);
        assertTrue(s == TransferState.COMPLETED || s == TransferState.FAILED, s.toString());
        if (s == TransferState.FAILED) {
          closedWith++;
        }
      }
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms < 3000, "close took " + ms + " ms to fail in-flight work");
      assertTrue(closedWith > 0, "640 MiB cannot all have been written before close");
      assertTrue(Engines.engineThreads().stream()
          .noneMatch(n -> n.contains(initiator.segmentName())), Engines.engineThreads().toString());
    }
  }

  @Test
  void restartedPeerWithANewDataPortIsReachedWithoutAFailure() throws Exception {
    int rpcPort = 15_500;
    TransferEngine initiator = new TransferEngine();
    assertEquals(0, initiator.initialize("127.0.0.1", "P2PHANDSHAKE", "tcp", ""));
    long local = initiator.allocateManagedBuffer(1 << 20);
    byte[] data = "after a restart".getBytes();
    initiator.writeBytesToBuffer(local, data, data.length);
    String segment = "127.0.0.1:" + rpcPort;
    try {
      try (Engine first = restartable(rpcPort, 16_000, 16_499);
          ManagedBuffer dst = first.allocate(1 << 20)) {
        assertEquals(segment, first.segmentName());
        assertEquals(0, initiator.transferSyncWrite(segment, local, dst.address(), data.length));
      }
      try (Engine second = restartable(rpcPort, 16_500, 16_999);
          ManagedBuffer dst = second.allocate(1 << 20)) {
        assertNotEquals(0, TcpDescriptorFields.dataPort(second.localDescriptor()));
        assertEquals(0, initiator.transferSyncWrite(segment, local, dst.address(), data.length),
            "the cached descriptor named the old data port; the engine must look again");
        assertArrayEquals(data, second.read(dst.address(), data.length));
      }
    } finally {
      initiator.close();
    }
  }

  private static Engine restartable(int rpcPort, int minPort, int maxPort) {
    return Engine.builder().localHostname("127.0.0.1:" + rpcPort).protocol("tcp")
        .setting("te4j.transport.shm.disabled", "true")
        .setting(EngineConfig.MC_LEGACY_RPC_PORT_BINDING, "1")
        .setting(EngineConfig.MC_MIN_RPC_PORT, Integer.toString(minPort))
        .setting(EngineConfig.MC_MAX_RPC_PORT, Integer.toString(maxPort)).start();
  }

  @Test
  void customTopologyFileReplacesDiscovery(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("topo.json");
    Files.writeString(good, "{\"cpu:0\": [[\"mlx5_0\"], [\"mlx5_1\"]], \"cuda:0\": [[\"mlx5_1\"], []]}");
    TransferEngine e = new TransferEngine();
    assertEquals(0, e.initialize(EngineConfig.builder().localHostname("127.0.0.1")
        .setting(EngineConfig.MC_CUSTOM_TOPO_JSON, good.toString())));
    try {
      assertEquals("{\"cpu:0\":[[\"mlx5_0\"],[\"mlx5_1\"]],\"cuda:0\":[[\"mlx5_1\"],[]]}",
          e.getLocalTopology());
      assertEquals("{\"cpu:0\":[[],[\"mlx5_1\"]],\"cuda:0\":[[\"mlx5_1\"],[]]}",
          e.getLocalTopology("mlx5_1"));
    } finally {
      e.close();
    }
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "{\"cpu:0\": [[\"mlx5_0\"]]}");
    TransferEngine f = new TransferEngine();
    assertEquals(ErrorCode.MALFORMED_JSON.code(), f.initialize(EngineConfig.builder()
        .localHostname("127.0.0.1").setting(EngineConfig.MC_CUSTOM_TOPO_JSON, bad.toString())));
  }
}
