package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.transport.rdma.soft.SoftVerbs;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The data path of RDMA.md 4.5 B over soft verbs: every size class round-trips intact, and slices
 * spread over both QPs of an endpoint and both of the peer's NICs, each with that NIC's key (the
 * soft NIC's random keys refuse a key of the other device).
 */
class RdmaDataPathTest {
  private static final int MIB = 1 << 20;
  private static Engine a;
  private static Engine b;
  private static long aMem;
  private static long bMem;

  @BeforeAll
  static void start() {
    a = RdmaEngines.start();
    b = RdmaEngines.start();
    aMem = a.allocate(64L * MIB).address();
    bMem = b.allocate(64L * MIB).address();
  }

  @AfterAll
  static void stop() {
    a.close();
    b.close();
  }

  @Test
  void everySizeClassRoundTripsIntact() {
    int[] sizes = {1, 4096, (64 << 10) - 1, 64 << 10, 80 << 10, (80 << 10) + 1, 16 * MIB};
    Random random = new Random(7);
    for (int size : sizes) {
      byte[] data = new byte[size];
      random.nextBytes(data);
      long at = 3; // odd addresses too
      a.write(aMem + at, data, 0, size);
      Batch w = a.submitAndWait(b.segmentName(),
          List.of(TransferRequest.write(aMem + at, bMem + at + 5, size)), "rdma");
      assertEquals(TransferState.COMPLETED, w.state(), w::errorMessage);
      assertArrayEquals(data, b.read(bMem + at + 5, size), "written " + size);
      Batch r = a.submitAndWait(b.segmentName(),
          List.of(TransferRequest.read(aMem + 32L * MIB, bMem + at + 5, size)), "rdma");
      assertEquals(TransferState.COMPLETED, r.state(), r::errorMessage);
      assertArrayEquals(data, a.read(aMem + 32L * MIB, size), "read " + size);
    }
  }

  @Test
  void slicesSpreadOverQpsAndPeerNics() {
    long[] servedBefore = new long[2];
    List<Nic> peerNics = RdmaEngines.transport(b).nics();
    for (int i = 0; i < 2; i++) {
      servedBefore[i] = SoftVerbs.served(peerNics.get(i).gid);
    }
    List<TransferRequest> writes = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      writes.add(TransferRequest.write(aMem + i * 65536L, bMem + i * 65536L, 65536));
    }
    for (int round = 0; round < 4; round++) {
      Batch w = a.submitAndWait(b.segmentName(), writes, "rdma");
      assertEquals(TransferState.COMPLETED, w.state(), w::errorMessage);
    }
    for (int i = 0; i < 2; i++) {
      long served = SoftVerbs.served(peerNics.get(i).gid) - servedBefore[i];
      assertTrue(served > 100, "peer NIC " + i + " served " + served + " of 1024 slices");
    }
    int endpointsUsed = 0;
    for (Nic nic : RdmaEngines.transport(a).nics()) {
      for (Endpoint e : nic.endpoints.values()) {
        if (e.canPost()) {
          endpointsUsed++;
          for (int q : e.qpNums) {
            assertTrue(SoftVerbs.executed(nic.gid, q) > 0, e + " QP " + q + " carried work");
          }
        }
      }
    }
    assertTrue(endpointsUsed >= 2, endpointsUsed + " endpoints");
  }
}
