package io.te4j.metadata.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.testkit.MetadataStoreContract;
import io.te4j.testkit.TestStoreContext;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store against a real etcd: lease, re-publication, watches, bounds, authentication. */
// Watches are held open by try-with-resources without being referenced.
@SuppressWarnings("try")
class EtcdMetadataStoreIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private static EtcdTestServer etcd;
  private static Client raw;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdTestServer.start();
    raw = Client.builder().endpoints("http://" + etcd.endpoint()).build();
  }

  @AfterAll
  static void stopEtcd() {
    if (raw != null) {
      raw.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  static EtcdMetadataStore open(String location, String... settings) {
    return (EtcdMetadataStore) new EtcdMetadataStoreProvider().create(location,
        TestStoreContext.of("it", TIMEOUT, settings));
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  static KeyValue rawGet(Client client, String key) throws Exception {
    List<KeyValue> kvs = client.getKVClient().get(bytes(key)).get(5, TimeUnit.SECONDS).getKvs();
    return kvs.isEmpty() ? null : kvs.get(0);
  }

  @Test
  void putGetRemoveRoundTripWithEveryKeyUnderTheStoresLease() throws Exception {
    try (EtcdMetadataStore store = open(etcd.endpoint())) {
      store.put("mooncake/rt/ram/a", "{\"name\":\"a\"}");
      store.put("mooncake/rt/rpc_meta/a", "{\"ip_or_host_name\":\"127.0.0.1\",\"rpc_port\":1}");
      assertEquals(Optional.of("{\"name\":\"a\"}"), store.get("mooncake/rt/ram/a"));
      assertEquals(Optional.empty(), store.get("mooncake/rt/ram/nobody"));

      long lease = store.leaseId();
      assertNotEquals(0, lease);
      assertEquals(lease, rawGet(raw, "mooncake/rt/ram/a").getLease());
      assertEquals(lease, rawGet(raw, "mooncake/rt/rpc_meta/a").getLease());
      assertEquals("{\"ip_or_host_name\":\"127.0.0.1\",\"rpc_port\":1}",
          rawGet(raw, "mooncake/rt/rpc_meta/a").getValue().toString(UTF_8));

      store.remove("mooncake/rt/ram/a");
      store.remove("mooncake/rt/ram/a"); // absent: no error
      assertEquals(Optional.empty(), store.get("mooncake/rt/ram/a"));
      assertNull(rawGet(raw, "mooncake/rt/ram/a"));
    }
  }

  @Test
  void closeRevokesTheLeaseSoTheKeysVanishAtOnceAndCloseIsIdempotent() throws Exception {
    EtcdMetadataStore store = open(etcd.endpoint());
    store.put("mooncake/close/ram/x", "{}");
    assertTrue(rawGet(raw, "mooncake/close/ram/x") != null);
    store.close();
    assertNull(rawGet(raw, "mooncake/close/ram/x"), "revoked, not left to expire");
    store.close();
    TransferException e = assertThrows(TransferException.class, () -> store.get("any"));
    assertEquals(ErrorCode.METADATA, e.errorCode());
  }

  @Test
  void watchReportsPutsAndDeletesUnderThePrefixOnly() throws Exception {
    try (EtcdMetadataStore store = open(etcd.endpoint())) {
      BlockingQueue<String> seen = new LinkedBlockingQueue<>();
      AutoCloseable w = store.watch("mooncake/w/", seen::add);
      raw.getKVClient().put(bytes("mooncake/other/ram/x"), bytes("{}")).get(5, TimeUnit.SECONDS);
      raw.getKVClient().put(bytes("mooncake/w/ram/p"), bytes("{}")).get(5, TimeUnit.SECONDS);
      assertEquals("mooncake/w/ram/p", seen.poll(10, TimeUnit.SECONDS), "PUT under the prefix");
      raw.getKVClient().delete(bytes("mooncake/w/ram/p")).get(5, TimeUnit.SECONDS);
      assertEquals("mooncake/w/ram/p", seen.poll(10, TimeUnit.SECONDS), "DELETE");

      w.close();
      BlockingQueue<String> second = new LinkedBlockingQueue<>();
      try (AutoCloseable w2 = store.watch("mooncake/w/", second::add)) {
        raw.getKVClient().put(bytes("mooncake/w/ram/q"), bytes("{}")).get(5, TimeUnit.SECONDS);
        assertEquals("mooncake/w/ram/q", second.poll(10, TimeUnit.SECONDS));
        assertNull(seen.poll(), "a closed watch calls no more");
      }
    }
  }

  @Test
  void aLeaseRevokedBehindTheStoresBackIsReplacedAndEveryKeyPublishedAgain() throws Exception {
    try (EtcdMetadataStore store = open(etcd.endpoint(), EtcdStoreConfig.LEASE_TTL_SECONDS, "3")) {
      Set<String> keys = Set.of("mooncake/rv/ram/a", "mooncake/rv/ram/b", "mooncake/rv/rpc_meta/a");
      for (String k : keys) {
        store.put(k, "{\"k\":\"" + k + "\"}");
      }
      store.put("mooncake/rv/ram/gone", "{}");
      store.remove("mooncake/rv/ram/gone");
      long before = store.leaseId();

      BlockingQueue<String> puts = new LinkedBlockingQueue<>();
      try (Watch.Watcher w = raw.getWatchClient().watch(bytes("mooncake/rv/"),
          WatchOption.builder().isPrefix(true).build(), r -> r.getEvents().stream()
              .filter(e -> e.getEventType() == WatchEvent.EventType.PUT)
              .forEach(e -> puts.add(e.getKeyValue().getKey().toString(UTF_8))))) {
        raw.getLeaseClient().revoke(before).get(5, TimeUnit.SECONDS);
        assertNull(rawGet(raw, "mooncake/rv/ram/a"), "revoking took the keys");

        Set<String> back = new HashSet<>();
        while (!back.containsAll(keys)) {
          String k = puts.poll(15, TimeUnit.SECONDS);
          assertTrue(k != null, "re-published within 15 s; got " + back);
          back.add(k);
        }
      }
      long after = store.leaseId();
      assertNotEquals(before, after);
      assertEquals(1, store.leaseRenewals());
      for (String k : keys) {
        KeyValue kv = rawGet(raw, k);
        assertEquals("{\"k\":\"" + k + "\"}", kv.getValue().toString(UTF_8));
        assertEquals(after, kv.getLease(), k + " lives under the new lease");
      }
      assertNull(rawGet(raw, "mooncake/rv/ram/gone"), "what was removed stays removed");
      // And the store goes on working under the new lease.
      store.put("mooncake/rv/ram/c", "{}");
      assertEquals(after, rawGet(raw, "mooncake/rv/ram/c").getLease());
    }
  }

  @Test
  void aWatchEndedByCompactionIsReestablishedAndSignalsWhatItMissed() throws Exception {
    try (TcpProxy proxy = new TcpProxy(etcd.clientPort());
        EtcdMetadataStore store = open(proxy.endpoint())) {
      raw.getKVClient().put(bytes("mooncake/cp/ram/k1"), bytes("v1")).get(5, TimeUnit.SECONDS);
      assertEquals(Optional.of("v1"), store.get("mooncake/cp/ram/k1"));
      BlockingQueue<String> seen = new LinkedBlockingQueue<>();
      try (AutoCloseable w = store.watch("mooncake/cp/", seen::add)) {
        raw.getKVClient().put(bytes("mooncake/cp/ram/k0"), bytes("v")).get(5, TimeUnit.SECONDS);
        assertEquals("mooncake/cp/ram/k0", seen.poll(10, TimeUnit.SECONDS), "watch is live");

        // Cut the store off, change things and compact them away, then let it back.
        proxy.cut();
        raw.getKVClient().put(bytes("mooncake/cp/ram/k1"), bytes("v2")).get(5, TimeUnit.SECONDS);
        long rev = raw.getKVClient().put(bytes("mooncake/cp/ram/k2"), bytes("v"))
            .get(5, TimeUnit.SECONDS).getHeader().getRevision();
        raw.getKVClient().compact(rev).get(5, TimeUnit.SECONDS);
        proxy.restore();

        Set<String> signalled = new HashSet<>();
        while (!signalled.containsAll(Set.of("mooncake/cp/ram/k1", "mooncake/cp/ram/k2"))) {
          String k = seen.poll(20, TimeUnit.SECONDS);
          assertTrue(k != null, "missed changes signalled after compaction; got " + signalled);
          signalled.add(k);
        }
        raw.getKVClient().put(bytes("mooncake/cp/ram/k3"), bytes("v")).get(5, TimeUnit.SECONDS);
        String k;
        do {
          k = seen.poll(10, TimeUnit.SECONDS);
        } while (k != null && !k.equals("mooncake/cp/ram/k3"));
        assertEquals("mooncake/cp/ram/k3", k, "the new watch reports new changes");
      }
    }
  }

  @Test
  void closedStoresLeaveNoThreadsBehind() throws Exception {
    for (int i = 0; i < 3; i++) {
      try (EtcdMetadataStore store = (EtcdMetadataStore) new EtcdMetadataStoreProvider().create(
          etcd.endpoint(), TestStoreContext.of("leak", TIMEOUT))) {
        store.put("mooncake/leak/ram/a", "{}");
        store.watch("mooncake/leak/", k -> { }).close();
        store.watch("mooncake/leak/", k -> { });
      }
    }
    // Thread pools end asynchronously after shutdown: give them a bounded moment.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<String> left;
    while (true) {
      left = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
          .map(Thread::getName).filter(n -> n.startsWith("test-leak-")).toList();
      if (left.isEmpty() || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(50);
    }
    assertEquals(List.of(), left, "threads of closed stores still alive");
  }

  @Test
  void aStoreDownAtStartUpFailsFastWithAMetadataErrorNamingTheEndpoints() {
    int p1 = EtcdTestServer.freePort();
    int p2 = EtcdTestServer.freePort();
    String location = "127.0.0.1:" + p1 + ",127.0.0.1:" + p2;
    long start = System.nanoTime();
    TransferException e = assertThrows(TransferException.class, () -> open(location));
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(ErrorCode.METADATA, e.errorCode(), e.getMessage());
    assertTrue(e.getMessage().contains("127.0.0.1:" + p1)
        && e.getMessage().contains("127.0.0.1:" + p2), e.getMessage());
    assertTrue(tookMillis < TIMEOUT.toMillis() + 2000, "bounded: took " + tookMillis + " ms");
  }

  @Test
  void aStoreThatGoesDownFailsWithinTheBoundAndCatchesUpWhenEtcdIsBack() throws Exception {
    Duration bound = Duration.ofMillis(1500);
    try (EtcdTestServer own = EtcdTestServer.start();
        EtcdMetadataStore store = (EtcdMetadataStore) new EtcdMetadataStoreProvider().create(
            own.endpoint(), TestStoreContext.of("down", bound))) {
      store.put("mooncake/down/ram/a", "{}");
      store.put("mooncake/down/ram/c", "{}");
      own.stop();
      for (Runnable op : List.<Runnable>of(() -> store.get("mooncake/down/ram/a"),
          () -> store.put("mooncake/down/ram/b", "{}"),
          () -> store.remove("mooncake/down/ram/c"))) {
        long start = System.nanoTime();
        TransferException e = assertThrows(TransferException.class, op::run);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(ErrorCode.METADATA, e.errorCode(), e.getMessage());
        assertTrue(e.getMessage().contains(own.endpoint()), e.getMessage());
        assertTrue(tookMillis < bound.toMillis() + 1000, "bounded: took " + tookMillis + " ms");
      }
      own.restart(false);
      // Same data, lease still valid: a is there; the failed put and remove are carried out.
      assertEquals(Optional.of("{}"), store.get("mooncake/down/ram/a"));
      try (Client ownRaw = Client.builder().endpoints("http://" + own.endpoint()).build()) {
        awaitKey(ownRaw, "mooncake/down/ram/b", true, Duration.ofSeconds(15));
        awaitKey(ownRaw, "mooncake/down/ram/c", false, Duration.ofSeconds(15));
        assertEquals(store.leaseId(), rawGet(ownRaw, "mooncake/down/ram/b").getLease());
      }
    }
  }

  /** Waits, woken by watch events, until {@code key} is present (or absent). */
  static void awaitKey(Client client, String key, boolean present, Duration bound)
      throws Exception {
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    try (Watch.Watcher w = client.getWatchClient().watch(bytes(key), events::add)) {
      long deadline = System.nanoTime() + bound.toNanos();
      while ((rawGet(client, key) != null) != present) {
        long left = deadline - System.nanoTime();
        assertTrue(left > 0, key + (present ? " never appeared" : " never went away"));
        events.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(500)), TimeUnit.NANOSECONDS);
      }
    }
  }

  @Test
  void authenticationWithUserAndPassword() throws Exception {
    try (EtcdTestServer own = EtcdTestServer.start();
        Client admin = Client.builder().endpoints("http://" + own.endpoint()).build()) {
      admin.getAuthClient().userAdd(bytes("root"), bytes("rootpw")).get(5, TimeUnit.SECONDS);
      admin.getAuthClient().userGrantRole(bytes("root"), bytes("root")).get(5, TimeUnit.SECONDS);
      admin.getAuthClient().authEnable().get(5, TimeUnit.SECONDS);

      try (EtcdMetadataStore store = open(own.endpoint(), EtcdStoreConfig.USER, "root",
          EtcdStoreConfig.PASSWORD, "rootpw")) {
        store.put("mooncake/auth/ram/a", "{}");
        assertEquals(Optional.of("{}"), store.get("mooncake/auth/ram/a"));
      }
      TransferException wrong = assertThrows(TransferException.class, () -> open(own.endpoint(),
          EtcdStoreConfig.USER, "root", EtcdStoreConfig.PASSWORD, "wrong"));
      assertEquals(ErrorCode.METADATA, wrong.errorCode());
      assertTrue(wrong.getMessage().contains(own.endpoint()), wrong.getMessage());
      TransferException none = assertThrows(TransferException.class, () -> open(own.endpoint()));
      assertEquals(ErrorCode.METADATA, none.errorCode(), none.getMessage());
    }
  }

  @Test
  void listsByPrefixWithOneRangeRead() {
    try (EtcdMetadataStore a = open(etcd.endpoint()); EtcdMetadataStore b = open(etcd.endpoint())) {
      MetadataStoreContract.listsWhatIsUnderThePrefix(a, b, "mooncake/lst/", true);
    }
  }

  @Test
  void comparesAndSetsInOneTransaction() {
    try (EtcdMetadataStore a = open(etcd.endpoint()); EtcdMetadataStore b = open(etcd.endpoint())) {
      MetadataStoreContract.comparesAndSetsAtomically(a, b, "mooncake/cas/x");
    }
  }
}
