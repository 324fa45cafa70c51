package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.transport.rdma.soft.SoftVerbs;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Connections between two engines (RDMA.md 4.5 A3 and A5): both sides opening the same paths at
 * once leave exactly one QP pair per path and no QP behind; a peer restarted (same segment name,
 * new QPs, new keys) is reached again.
 */
class RdmaConnectionTest {
  private static Batch write(Engine from, long local, Engine to, long remote) {
    List<TransferRequest> r = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      r.add(TransferRequest.write(local + i * 65536L, remote + i * 65536L, 65536));
    }
    return from.submitAndWait(to.segmentName(), r, "rdma");
  }

  private static long qps() {
    return SoftVerbs.live().stream().filter("Qp"::equals).count();
  }

  @Test
  void simultaneousOpensLeaveOnePairPerPathAndNoQpBehind() throws Exception {
    long baseline = qps();
    try (Engine a = RdmaEngines.start(); Engine b = RdmaEngines.start()) {
      long aMem = a.allocate(4L << 20).address();
      long bMem = b.allocate(4L << 20).address();
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        for (int round = 0; round < 100; round++) {
          for (Engine e : List.of(a, b)) {
            for (Nic nic : RdmaEngines.transport(e).nics()) {
              nic.endpoints.values().forEach(Endpoint::retire); // the next batches connect anew
            }
          }
          CyclicBarrier start = new CyclicBarrier(2);
          Future<Batch> ab = pool.submit(() -> {
            start.await();
            return write(a, aMem, b, bMem);
          });
          Future<Batch> ba = pool.submit(() -> {
            start.await();
            return write(b, bMem, a, aMem);
          });
          assertEquals(TransferState.COMPLETED, ab.get().state(), ab.get()::errorMessage);
          assertEquals(TransferState.COMPLETED, ba.get().state(), ba.get()::errorMessage);
          pairsMatch(a, b);
          pairsMatch(b, a);
        }
      } finally {
        pool.shutdownNow();
      }
      long endpoints = 0;
      for (Engine e : List.of(a, b)) {
        for (Nic nic : RdmaEngines.transport(e).nics()) {
          nic.reap(false);
          endpoints += nic.endpoints.size();
        }
      }
      assertEquals(2 * endpoints, qps() - baseline, "two QPs per live endpoint, none leaked");
    }
    assertEquals(baseline, qps(), "closing both engines destroys every QP");
  }

  /** Every connected endpoint of {@code x} has its peer's endpoint paired with exactly its QPs. */
  private static void pairsMatch(Engine x, Engine y) {
    for (Nic nic : RdmaEngines.transport(x).nics()) {
      for (Endpoint e : nic.endpoints.values()) {
        if (!e.canPost()) {
          continue;
        }
        Endpoint other = null;
        for (Nic peerNic : RdmaEngines.transport(y).nics()) {
          if (peerNic.nicPath.equals(e.peerNicPath)) {
            other = peerNic.endpoints.get(nic.nicPath);
          }
        }
        assertNotNull(other, "the peer keeps an endpoint for " + e);
        assertArrayEquals(e.qpNums, other.peerQpNums(), "QP i pairs with the peer's QP i");
        assertArrayEquals(other.qpNums, e.peerQpNums());
      }
    }
  }

  @Test
  void aRestartedPeerIsReachedAgain() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Map<String, String> fixed = Map.of("MC_MIN_RPC_PORT", "" + port, "MC_MAX_RPC_PORT", "" + port);
    try (Engine a = RdmaEngines.start(Map.of(), Duration.ofSeconds(10))) {
      long aMem = a.allocate(4L << 20).address();
      byte[] data = new byte[16 * 65536];
      new Random(5).nextBytes(data);
      a.write(aMem, data, 0, data.length);
      Endpoint before;
      try (Engine b = RdmaEngines.start(fixed, Duration.ofSeconds(10))) {
        long bMem = b.allocate(4L << 20).address();
        assertEquals(TransferState.COMPLETED, write(a, aMem, b, bMem).state());
        before = RdmaEngines.transport(a).nics().get(0).endpoints.values().iterator().next();
      }
      try (Engine b2 = RdmaEngines.start(fixed, Duration.ofSeconds(10))) {
        long bMem = b2.allocate(4L << 20).address();
        Batch w = null;
        for (int attempt = 0; attempt < 3; attempt++) { // the first may meet the old descriptor
          w = write(a, aMem, b2, bMem);
          if (w.state() == TransferState.COMPLETED) {
            break;
          }
        }
        assertEquals(TransferState.COMPLETED, w.state(), w::errorMessage);
        assertArrayEquals(data, b2.read(bMem, data.length));
        assertEquals(Endpoint.State.RETIRED, before.state(), "the old endpoint was retired");
        assertTrue(RdmaEngines.transport(a).nics().stream().flatMap(n -> n.endpoints.values()
            .stream()).anyMatch(Endpoint::canPost), "and a new one connected");
      }
    }
  }
}
