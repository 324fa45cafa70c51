package io.te4j.metadata.etcd;

import static io.te4j.metadata.etcd.EtcdEngines.writeAndCheck;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.te4j.api.MetadataKeys;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A three-member etcd cluster loses the member the engines list first, its leader. */
class EtcdFailoverIT {
  private static final MetadataKeys KEYS = MetadataKeys.forCluster(null);

  @Test
  void killingTheLeaderListedFirstLeavesStoresAndEnginesWorking() throws Exception {
    List<EtcdTestServer> members = EtcdTestServer.startCluster(3);
    try {
      EtcdTestServer leader = leaderOf(members);
      List<EtcdTestServer> ordered = new ArrayList<>(members);
      ordered.remove(leader);
      ordered.add(0, leader);
      List<EtcdTestServer> survivors = ordered.subList(1, 3);
      String all = "etcd://" + EtcdTestServer.endpoints(ordered);

      try (Engine a = EtcdEngines.builder(all).setting(EtcdStoreConfig.LEASE_TTL_SECONDS, "2")
              .start();
          Engine b = EtcdEngines.builder(all).setting(EtcdStoreConfig.LEASE_TTL_SECONDS, "2")
              .start();
          ManagedBuffer inA = a.allocate(1 << 20);
          EtcdMetadataStore store = EtcdMetadataStoreIT.open(EtcdTestServer.endpoints(ordered));
          Client survivorClient = Client.builder().endpoints(survivors.stream()
              .map(s -> "http://" + s.endpoint()).toArray(String[]::new)).build()) {
        writeAndCheck(b, a, inA.address(), 1 << 20, 21);
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        store.watch("mooncake/fo/", seen::add);

        leader.kill();

        // Every operation keeps working through the other members.
        store.put("mooncake/fo/ram/after", "{}");
        assertEquals(Optional.of("{}"), store.get("mooncake/fo/ram/after"));
        // Keys may be signalled more than once (a re-established watch signals what it knew).
        assertTrue(awaitKey(seen, "mooncake/fo/ram/after"), "own put seen");
        survivorClient.getKVClient().put(ByteSequence.from("mooncake/fo/ram/other", UTF_8),
            ByteSequence.from("{}", UTF_8)).get(10, TimeUnit.SECONDS);
        assertTrue(awaitKey(seen, "mooncake/fo/ram/other"),
            "the watch follows to a surviving member");

        // A new engine starts against the same list and reaches a; b still reaches a.
        try (Engine c = EtcdEngines.builder(all).start()) {
          writeAndCheck(c, a, inA.address(), 1 << 20, 22);
        }
        writeAndCheck(b, a, inA.address(), 1 << 20, 23);

        // The leases outlive the failover: after three TTLs the engines' keys are all there.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
        while (System.nanoTime() < until) {
          for (Engine e : List.of(a, b)) {
            assertTrue(store.get(KEYS.segmentKey(e.segmentName())).isPresent(),
                e.segmentName() + " lost its descriptor after the failover");
            assertTrue(store.get(KEYS.rpcMetaKey(e.segmentName())).isPresent());
          }
          Thread.sleep(250); // observing that nothing expires over time: no event to wait for
        }
      }
    } finally {
      members.forEach(EtcdTestServer::close);
    }
  }

  /** Waits up to 15 s until {@code key} is signalled, skipping other keys. */
  private static boolean awaitKey(BlockingQueue<String> seen, String key) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    for (long left; (left = deadline - System.nanoTime()) > 0; ) {
      if (key.equals(seen.poll(left, TimeUnit.NANOSECONDS))) {
        return true;
      }
    }
    return false;
  }

  /** The member every member names as leader. */
  private static EtcdTestServer leaderOf(List<EtcdTestServer> members) throws Exception {
    try (Client c = Client.builder().endpoints("http://" + members.get(0).endpoint()).build()) {
      long leaderId = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (leaderId == 0 && System.nanoTime() < deadline) {
        leaderId = c.getMaintenanceClient().statusMember("http://" + members.get(0).endpoint())
            .get(5, TimeUnit.SECONDS).getLeader();
      }
      for (EtcdTestServer m : members) {
        StatusResponse s = c.getMaintenanceClient().statusMember("http://" + m.endpoint())
            .get(5, TimeUnit.SECONDS);
        if (s.getHeader().getMemberId() == leaderId) {
          return m;
        }
      }
    }
    throw new IllegalStateException("no leader among " + members);
  }
}
