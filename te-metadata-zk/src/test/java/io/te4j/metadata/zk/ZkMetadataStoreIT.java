package io.te4j.metadata.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.MetadataKeys;
import io.te4j.api.TransferException;
import io.te4j.testkit.MetadataStoreContract;
import io.te4j.testkit.TestStoreContext;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One store (or two) against a real in-process ZooKeeper, checked with a plain client. */
class ZkMetadataStoreIT {
  private static final Duration OP_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final MetadataKeys KEYS = MetadataKeys.forCluster(null);
  private static final String JSON =
      "{\"name\":\"10.0.0.1:15001\",\"protocol\":\"tcp\",\"tcp_data_port\":16001}";

  private ZkServer server;
  private TreeView plain;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void startServer() throws Exception {
    server = ZkServer.start();
    plain = new TreeView(server.connectString());
  }

  @AfterEach
  void stopAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    plain.close();
    server.close();
  }

  private ZkMetadataStore store(String location, String name, String sessionTimeoutMs) {
    TestStoreContext ctx = new TestStoreContext(name, OP_TIMEOUT);
    if (sessionTimeoutMs != null) {
      ctx.with(ZkConfig.SESSION_TIMEOUT_MS, sessionTimeoutMs);
    }
    ZkMetadataStore s = (ZkMetadataStore) new ZkMetadataStoreProvider().create(location, ctx);
    open.add(s);
    return s;
  }

  private ZkMetadataStore store(String name) {
    return store(server.connectString(), name, null);
  }

  private static long session(ZkMetadataStore s) throws Exception {
    return s.curator().getZookeeperClient().getZooKeeper().getSessionId();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "/myroot", "/deep/root"})
  void putWritesEphemeralNodesWithTheJsonBytes(String root) throws Exception {
    ZkMetadataStore s = store(server.connectString() + root, "10.0.0.1:15001", null);
    String segKey = KEYS.segmentKey("10.0.0.1:15001");
    String rpcKey = KEYS.rpcMetaKey("10.0.0.1:15001");
    String rpcJson = "{\"ip_or_host_name\":\"10.0.0.1\",\"rpc_port\":15001}";
    s.put(segKey, JSON);
    s.put(rpcKey, rpcJson);

    String base = root.isEmpty() ? "" : root;
    byte[] seg = plain.client.getData().forPath(base + "/mooncake/ram/10.0.0.1:15001");
    byte[] rpc = plain.client.getData().forPath(base + "/mooncake/rpc_meta/10.0.0.1:15001");
    assertArrayEquals(JSON.getBytes(StandardCharsets.UTF_8), seg);
    assertArrayEquals(rpcJson.getBytes(StandardCharsets.UTF_8), rpc);
    assertEquals(session(s), plain.holder(base + "/mooncake/ram/10.0.0.1:15001"));
    assertEquals(session(s), plain.holder(base + "/mooncake/rpc_meta/10.0.0.1:15001"));
    assertEquals(0, plain.holder(base + "/mooncake/ram"), "parents are not ephemeral");
    assertEquals(Optional.of(JSON), s.get(segKey));
    assertEquals(Optional.empty(), s.get(KEYS.segmentKey("nobody")));
  }

  @Test
  void namesWithSlashNestAndOtherCharactersAreKept() throws Exception {
    ZkMetadataStore s = store("n1");
    String odd = "host-1.example:15001@gpu#0 ü";
    s.put(KEYS.segmentKey("nvmeof/x"), "{\"a\":1}");
    s.put(KEYS.segmentKey(odd), "{\"b\":2}");
    assertEquals(Optional.of("{\"a\":1}"), plain.data("/mooncake/nvmeof/x"));
    assertEquals(Optional.of("{\"b\":2}"), plain.data("/mooncake/ram/" + odd));
    assertEquals(Optional.of("{\"b\":2}"), store("n2").get(KEYS.segmentKey(odd)));
    TransferException e = assertThrows(TransferException.class,
        () -> s.put(KEYS.segmentKey("a//b"), "{}"));
    assertEquals(ErrorCode.INVALID_ARGUMENT, e.errorCode());
  }

  @Test
  void updateRewritesTheSameNode() throws Exception {
    ZkMetadataStore s = store("n1");
    String key = KEYS.segmentKey("n1");
    s.put(key, "{\"v\":1}");
    Stat first = plain.stat("/mooncake/ram/n1");
    s.put(key, "{\"v\":2}");
    Stat second = plain.stat("/mooncake/ram/n1");
    assertEquals(first.getCzxid(), second.getCzxid(), "same node, not re-created");
    assertEquals(first.getVersion() + 1, second.getVersion());
    assertEquals(Optional.of("{\"v\":2}"), plain.data("/mooncake/ram/n1"));
  }

  @Test
  void watchReportsCreateChangeAndDeleteWithTheRootStripped() throws Exception {
    String location = server.connectString() + "/myroot";
    ZkMetadataStore writer = store(location, "w", null);
    ZkMetadataStore reader = store(location, "r", null);
    BlockingQueue<String> seen = new LinkedBlockingQueue<>();
    AutoCloseable watch = reader.watch(KEYS.prefix(), seen::add);
    open.add(watch);
    String key = KEYS.segmentKey("w:1");

    writer.put(key, "{\"v\":1}");
    assertEquals(key, nextKeyNot(seen, "mooncake/ram"));
    writer.put(key, "{\"v\":2}");
    assertEquals(key, nextKeyNot(seen, "mooncake/ram"));
    writer.remove(key);
    assertEquals(key, nextKeyNot(seen, "mooncake/ram"));

    watch.close();
    writer.put(KEYS.segmentKey("w:2"), "{}");
    // a write after the watch closed is not reported: a marker write through the plain client
    // under a second watch shows the notifications have caught up.
    BlockingQueue<String> second = new LinkedBlockingQueue<>();
    open.add(reader.watch(KEYS.prefix(), second::add));
    assertEquals(KEYS.segmentKey("w:2"), nextKeyNot(second, "mooncake/ram"));
    assertTrue(seen.stream().noneMatch(k -> k.endsWith("w:2")), seen.toString());
  }

  @Test
  void removeDeletesAndAbsentKeysAreNoError() throws Exception {
    ZkMetadataStore s = store("n1");
    s.put(KEYS.segmentKey("n1"), JSON);
    s.remove(KEYS.segmentKey("n1"));
    s.remove(KEYS.segmentKey("n1"));
    s.remove(KEYS.segmentKey("never-there"));
    assertEquals(-1, plain.holder("/mooncake/ram/n1"));
    assertEquals(Optional.empty(), s.get(KEYS.segmentKey("n1")));
  }

  @Test
  void closeWithdrawsEveryNodeAndIsIdempotent() throws Exception {
    ZkMetadataStore s = store("n1");
    s.put(KEYS.segmentKey("n1"), JSON);
    s.put(KEYS.rpcMetaKey("n1"), "{}");
    s.close();
    s.close();
    assertEquals(-1, plain.holder("/mooncake/ram/n1"));
    assertEquals(-1, plain.holder("/mooncake/rpc_meta/n1"));
    TransferException e = assertThrows(TransferException.class,
        () -> s.get(KEYS.segmentKey("n1")));
    assertEquals(ErrorCode.METADATA, e.errorCode());
  }

  @Test
  void nodeDeletedByAnotherClientIsCreatedAgain() throws Exception {
    ZkMetadataStore s = store("n1");
    s.put(KEYS.segmentKey("n1"), JSON);
    long before = plain.stat("/mooncake/ram/n1").getCzxid();
    plain.client.delete().forPath("/mooncake/ram/n1");
    plain.await(WAIT, "node re-created", () -> {
      Stat st = plain.stat("/mooncake/ram/n1");
      return st != null && st.getCzxid() != before;
    });
    assertEquals(Optional.of(JSON), plain.data("/mooncake/ram/n1"));
    assertEquals(session(s), plain.holder("/mooncake/ram/n1"));
  }

  @Test
  void persistentNodeAtTheKeyIsReplacedByAnEphemeralOne() throws Exception {
    plain.client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT)
        .forPath("/mooncake/ram/n1", "{\"stale\":true}".getBytes(StandardCharsets.UTF_8));
    ZkMetadataStore s = store("n1");
    s.put(KEYS.segmentKey("n1"), JSON);
    assertEquals(session(s), plain.holder("/mooncake/ram/n1"));
    assertEquals(Optional.of(JSON), plain.data("/mooncake/ram/n1"));
    s.close();
    assertEquals(-1, plain.holder("/mooncake/ram/n1"), "gone with the session");
  }

  @Test
  void bytesThatAreNotUtf8AreMalformedJsonNamingTheKey() throws Exception {
    plain.client.create().creatingParentsIfNeeded()
        .forPath("/mooncake/ram/bad", new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'});
    TransferException e = assertThrows(TransferException.class,
        () -> store("n1").get(KEYS.segmentKey("bad")));
    assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode());
    assertTrue(e.getMessage().contains("mooncake/ram/bad"), e.getMessage());
  }

  @Test
  void sessionExpiryPublishesTheNodesAgainAndWatchesGoOn() throws Exception {
    ZkMetadataStore s = store(server.connectString(), "n1", "2000");
    ZkMetadataStore reader = store("r");
    BlockingQueue<String> seen = new LinkedBlockingQueue<>();
    open.add(reader.watch(KEYS.prefix(), seen::add));
    s.put(KEYS.segmentKey("n1"), JSON);
    s.put(KEYS.rpcMetaKey("n1"), "{}");
    long old = session(s);

    s.curator().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();

    // The server ends the old session after its timeout; the nodes must then be ours again.
    plain.await(WAIT, "both nodes held by a new session", () -> {
      long seg = plain.holder("/mooncake/ram/n1");
      long rpc = plain.holder("/mooncake/rpc_meta/n1");
      return seg > 0 && seg != old && seg == session(s) && rpc == seg;
    });
    assertEquals(Optional.of(JSON), plain.data("/mooncake/ram/n1"));
    seen.clear();
    s.put(KEYS.segmentKey("n1"), "{\"after\":1}");
    // Events of the re-publication may still be on their way: wait for the one of this put.
    String key;
    do {
      key = nextKeyNot(seen, "mooncake/ram");
    } while (key.equals(KEYS.rpcMetaKey("n1")));
    assertEquals(KEYS.segmentKey("n1"), key);
    assertEquals(Optional.of("{\"after\":1}"), reader.get(KEYS.segmentKey("n1")));
  }

  @Test
  void emptyServerOnTheSamePortGetsTheNodesAgain() throws Exception {
    ZkMetadataStore s = store(server.connectString() + "/myroot", "n1", "2000");
    s.put(KEYS.segmentKey("n1"), JSON);
    plain.close();
    server.replaceWithEmptyServer();
    plain = new TreeView(server.connectString());
    plain.await(WAIT, "node published on the new server",
        () -> plain.data("/myroot/mooncake/ram/n1").equals(Optional.of(JSON)));
    assertEquals(session(s), plain.holder("/myroot/mooncake/ram/n1"));
  }

  @Test
  void getOfAStoppedServerFailsWithinTheBoundNamingTheEnsemble() throws Exception {
    ZkMetadataStore s = store("n1");
    server.stop();
    long t0 = System.nanoTime();
    TransferException e = assertThrows(TransferException.class,
        () -> s.get(KEYS.segmentKey("peer")));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(ErrorCode.METADATA, e.errorCode());
    assertTrue(e.getMessage().contains(server.connectString()), e.getMessage());
    assertTrue(tookMs < OP_TIMEOUT.toMillis() + 2_000, "took " + tookMs + " ms");

    server.restart();
    s.put(KEYS.segmentKey("n1"), JSON);
    assertEquals(Optional.of(JSON), s.get(KEYS.segmentKey("n1")));
  }

  @Test
  void unreachableEnsembleFailsAtStartWithinTheBound() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    String location = "127.0.0.1:" + port;
    long t0 = System.nanoTime();
    TransferException e = assertThrows(TransferException.class,
        () -> new ZkMetadataStoreProvider().create(location,
            new TestStoreContext("n1", Duration.ofSeconds(2))));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(ErrorCode.METADATA, e.errorCode());
    assertTrue(e.getMessage().contains(location), e.getMessage());
    assertTrue(tookMs < 2_000 + 2_000, "took " + tookMs + " ms");
    assertTrue(ZkMetadataStore.OPEN.stream().noneMatch(st -> st.owner().equals("n1")));
  }

  @Test
  void twoStoresSeeEachOthersKeysAndNotAfterClose() throws Exception {
    ZkMetadataStore a = store("a");
    ZkMetadataStore b = store("b");
    a.put(KEYS.segmentKey("a"), "{\"from\":\"a\"}");
    b.put(KEYS.segmentKey("b"), "{\"from\":\"b\"}");
    assertEquals(Optional.of("{\"from\":\"a\"}"), b.get(KEYS.segmentKey("a")));
    assertEquals(Optional.of("{\"from\":\"b\"}"), a.get(KEYS.segmentKey("b")));
    long aSession = session(a);
    a.close();
    assertEquals(Optional.empty(), b.get(KEYS.segmentKey("a")));
    assertNotEquals(aSession, session(b));
  }

  /** The next reported key other than {@code ignored} (a parent container may be reported too). */
  private static String nextKeyNot(BlockingQueue<String> q, String ignored)
      throws InterruptedException {
    while (true) {
      String k = q.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      if (k == null) {
        throw new AssertionError("no watch event within " + WAIT);
      }
      if (!k.equals(ignored) && !k.equals("mooncake")) {
        return k;
      }
    }
  }

  @Test
  void listsTheSubtreeUnderThePrefix() {
    MetadataStoreContract.listsWhatIsUnderThePrefix(store("la"), store("lb"), "mooncake/lst/", true);
  }

  @Test
  void comparesAndSetsWithZooKeeperVersions() {
    MetadataStoreContract.comparesAndSetsAtomically(store("ca"), store("cb"), "mooncake/cas/x");
  }
}
