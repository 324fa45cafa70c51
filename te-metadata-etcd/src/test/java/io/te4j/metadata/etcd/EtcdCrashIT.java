package io.te4j.metadata.etcd;

import static io.te4j.metadata.etcd.EtcdEngines.writeAndCheck;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.MetadataKeys;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.testkit.ChildJvm;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Engines and etcd dying under each other: lease expiry and re-publication. */
// Watches are held open by try-with-resources without being referenced.
@SuppressWarnings("try")
class EtcdCrashIT {
  private static final MetadataKeys KEYS = MetadataKeys.forCluster(null);
  private static final int TTL_SECONDS = 2;

  @Test
  void aKilledEnginesKeysVanishWithinTheLeaseTtl() throws Exception {
    try (EtcdTestServer etcd = EtcdTestServer.start();
        EtcdMetadataStore observer = EtcdMetadataStoreIT.open(etcd.endpoint())) {
      String name = EtcdEngines.uniqueName();
      List<String> keys = List.of(KEYS.segmentKey(name), KEYS.rpcMetaKey(name));
      BlockingQueue<String> changes = new LinkedBlockingQueue<>();
      try (AutoCloseable w = observer.watch(KEYS.prefix(), changes::add);
          ChildJvm child = startChild(etcd.metadataServer(), name)) {
        for (String k : keys) {
          assertTrue(observer.get(k).isPresent(), k + " published by the child");
        }
        assertTrue(child.kill()); // SIGKILL: no close, no revoke
        long killed = System.nanoTime();
        // The keys go when the lease expires: TTL after the last keep-alive, checked by etcd.
        long bound = TimeUnit.SECONDS.toNanos(TTL_SECONDS + 4);
        for (String k : keys) {
          while (observer.get(k).isPresent()) {
            long left = bound - (System.nanoTime() - killed);
            assertTrue(left > 0, k + " still there " + (TTL_SECONDS + 4) + " s after the kill");
            changes.poll(left, TimeUnit.NANOSECONDS); // woken by the DELETE event
          }
        }
        long goneMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        System.out.println("keys of a SIGKILLed engine vanished after " + goneMillis + " ms");
      }
    }
  }

  @Test
  void etcdRestartedWithEmptyDataGetsTheEnginesKeysBackAndTransfersGoOn() throws Exception {
    try (EtcdTestServer etcd = EtcdTestServer.start();
        Engine a = EtcdEngines.builder(etcd.metadataServer())
            .setting(EtcdStoreConfig.LEASE_TTL_SECONDS, Integer.toString(TTL_SECONDS)).start();
        Engine b = EtcdEngines.builder(etcd.metadataServer())
            .setting(EtcdStoreConfig.LEASE_TTL_SECONDS, Integer.toString(TTL_SECONDS)).start();
        ManagedBuffer inA = a.allocate(1 << 20);
        ManagedBuffer inB = b.allocate(1 << 20)) {
      writeAndCheck(b, a, inA.address(), 1 << 20, 11);
      List<String> keys = List.of(KEYS.segmentKey(a.segmentName()),
          KEYS.rpcMetaKey(a.segmentName()), KEYS.segmentKey(b.segmentName()),
          KEYS.rpcMetaKey(b.segmentName()));

      etcd.restart(true); // everything stored is lost, leases included
      try (EtcdMetadataStore observer = EtcdMetadataStoreIT.open(etcd.endpoint())) {
        BlockingQueue<String> changes = new LinkedBlockingQueue<>();
        try (AutoCloseable w = observer.watch(KEYS.prefix(), changes::add)) {
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
          for (String k : keys) {
            Optional<String> v;
            while ((v = observer.get(k)).isEmpty()) {
              long left = deadline - System.nanoTime();
              assertTrue(left > 0, k + " not re-published within 20 s");
              changes.poll(left, TimeUnit.NANOSECONDS); // woken by the re-publishing PUT
            }
            assertTrue(v.get().startsWith("{"), v.get());
          }
        }
        assertEquals(a.localDescriptor().buffers(), io.te4j.core.json.JsonCodec
            .descriptorFromJson(observer.get(KEYS.segmentKey(a.segmentName())).get()).buffers());
      }
      writeAndCheck(b, a, inA.address(), 1 << 20, 12);
      writeAndCheck(a, b, inB.address(), 1 << 20, 13);
    }
  }

  /** An {@link EtcdEngineMain} in a child JVM, started and read until READY (at most 60 s). */
  private static ChildJvm startChild(String metadata, String name) throws Exception {
    return ChildJvm.start(EtcdEngineMain.class,
        List.of("-Xmx128m", "-D" + EtcdStoreConfig.LEASE_TTL_SECONDS + "=" + TTL_SECONDS),
        List.of(metadata, name), "READY " + name, Duration.ofSeconds(60));
  }
}
