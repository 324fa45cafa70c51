package io.te4j.metadata.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.transfer.Batch;
import io.te4j.testkit.ChildJvm;
import io.te4j.transport.tcp.TcpDescriptorFields;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Engines that find each other through a real in-process ZooKeeper and move bytes over TCP. */
class ZkEngineIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicInteger NAMES = new AtomicInteger(40_000);
  private static final int LEN = 256 * 1024;

  private ZkServer server;
  private TreeView plain;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final Random random = new Random(20_240_601);

  @BeforeEach
  void startServer() throws Exception {
    server = ZkServer.start();
    plain = new TreeView(server.connectString());
  }

  @AfterEach
  void stopAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        // keep closing the rest
      }
    }
    plain.close();
    server.close();
  }

  private static String uniqueName() {
    return "127.0.0.1:" + NAMES.incrementAndGet();
  }

  private Engine engine(String metadata, String name, String sessionTimeoutMs) {
    Engine.Builder b = Engine.builder().localHostname(name).metadataServer(metadata)
        .protocol("tcp").transferTimeout(Duration.ofSeconds(5));
    if (sessionTimeoutMs != null) {
      b.setting(ZkConfig.SESSION_TIMEOUT_MS, sessionTimeoutMs);
    }
    Engine e = b.start();
    open.add(e);
    return e;
  }

  private Engine engine(String name) {
    return engine("zk://" + server.connectString(), name, "2000");
  }

  /** Writes random bytes from {@code from} into {@code dst} of {@code to}; checks they arrived. */
  private void writeAndCheck(Engine from, Engine to, ManagedBuffer dst) {
    ManagedBuffer src = from.allocate(LEN);
    try {
      byte[] payload = new byte[LEN];
      random.nextBytes(payload);
      from.write(src.address(), payload, 0, LEN);
      Batch b = from.submit(to.segmentName(),
          List.of(TransferRequest.write(src.address(), dst.address(), LEN)), "");
      TransferState state = from.await(b);
      assertEquals(TransferState.COMPLETED, state, "write to " + to.segmentName() + ": "
          + b.errorCode() + " " + b.errorMessage());
      from.freeBatch(b.id());
      assertArrayEquals(payload, to.read(dst.address(), LEN), "bytes at the target");
    } finally {
      src.close();
    }
  }

  /** Reads {@code src} of {@code from} into {@code to}; checks the bytes. */
  private void readAndCheck(Engine to, Engine from, ManagedBuffer src) {
    byte[] payload = new byte[LEN];
    random.nextBytes(payload);
    from.write(src.address(), payload, 0, LEN);
    ManagedBuffer dst = to.allocate(LEN);
    try {
      Batch b = to.submit(from.segmentName(),
          List.of(TransferRequest.read(dst.address(), src.address(), LEN)), "");
      assertEquals(TransferState.COMPLETED, to.await(b), b.errorCode() + " " + b.errorMessage());
      to.freeBatch(b.id());
      assertArrayEquals(payload, to.read(dst.address(), LEN));
    } finally {
      dst.close();
    }
  }

  private static ZkMetadataStore storeOf(Engine e) {
    return ZkMetadataStore.OPEN.stream().filter(s -> s.owner().equals(e.segmentName()))
        .findFirst().orElseThrow();
  }

  private static long session(Engine e) throws Exception {
    return storeOf(e).curator().getZookeeperClient().getZooKeeper().getSessionId();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "/myroot"})
  void enginesExchangeBytesAndTheirNodesMatchTheirJson(String root) throws Exception {
    String metadata = "zk://" + server.connectString() + root;
    Engine a = engine(metadata, uniqueName(), null);
    Engine b = engine(metadata, uniqueName(), null);
    ManagedBuffer atA = a.allocate(LEN);
    ManagedBuffer atB = b.allocate(LEN);

    writeAndCheck(a, b, atB);
    readAndCheck(a, b, atB);
    writeAndCheck(b, a, atA);

    for (Engine e : List.of(a, b)) {
      String seg = root + "/mooncake/ram/" + e.segmentName();
      String rpc = root + "/mooncake/rpc_meta/" + e.segmentName();
      assertEquals(Optional.of(JsonCodec.descriptorToJson(e.localDescriptor())), plain.data(seg));
      assertEquals(Optional.of(JsonCodec.rpcMetaToJson(new HostPort("127.0.0.1", e.rpcPort()))),
          plain.data(rpc));
      assertEquals(session(e), plain.holder(seg), "ephemeral, held by the engine's session");
      assertEquals(session(e), plain.holder(rpc));
      SegmentDescriptor published = JsonCodec.descriptorFromJson(plain.data(seg).orElseThrow());
      assertNotNull(published.bufferContaining((e == a ? atA : atB).address(), LEN));
    }

    String bName = b.segmentName();
    b.close();
    assertEquals(-1, plain.holder(root + "/mooncake/ram/" + bName), "closed engine withdrawn");
    assertEquals(-1, plain.holder(root + "/mooncake/rpc_meta/" + bName));
  }

  @Test
  void killedEnginesNodesVanishWithinTheSessionTimeout() throws Exception {
    Engine a = engine(uniqueName());
    String name = uniqueName();
    ChildJvm child = startChild("zk://" + server.connectString(), name, "2000");
    open.add(child);
    String seg = "/mooncake/ram/" + name;
    String rpc = "/mooncake/rpc_meta/" + name;
    assertTrue(plain.holder(seg) > 0 && plain.holder(rpc) > 0, "child published its nodes");
    SegmentDescriptor d = a.segment(name);
    assertEquals(name, d.name());
    assertEquals(1, d.buffers().size());

    long killedAt = System.nanoTime();
    assertTrue(child.kill());
    plain.await(Duration.ofSeconds(10), "killed engine's nodes gone",
        () -> plain.holder(seg) == -1 && plain.holder(rpc) == -1);
    long goneMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);

    // The survivor's cache followed the deletion: the segment is unknown now.
    TransferException e = assertThrows(TransferException.class, () -> a.segment(name));
    assertEquals(ErrorCode.METADATA, e.errorCode());
    System.out.println("killed engine's nodes vanished after " + goneMs + " ms");
  }

  @Test
  void afterSessionExpiryTheNodesComeBackAndTransfersContinue() throws Exception {
    Engine a = engine(uniqueName());
    Engine b = engine(uniqueName());
    ManagedBuffer atB = b.allocate(LEN);
    ManagedBuffer atA = a.allocate(LEN);
    writeAndCheck(a, b, atB);
    String seg = "/mooncake/ram/" + b.segmentName();
    String rpc = "/mooncake/rpc_meta/" + b.segmentName();
    long old = session(b);

    storeOf(b).curator().getZookeeperClient().getZooKeeper().getTestable()
        .injectSessionExpiration();

    plain.await(WAIT, "b's nodes held by its new session", () -> {
      long now = session(b);
      return now != old && plain.holder(seg) == now && plain.holder(rpc) == now;
    });
    assertEquals(Optional.of(JsonCodec.descriptorToJson(b.localDescriptor())), plain.data(seg));
    writeAndCheck(a, b, atB);
    writeAndCheck(b, a, atA);
    // b registers more memory after the expiry: the new descriptor reaches the store and peers.
    ManagedBuffer later = b.allocate(LEN);
    plain.await(WAIT, "descriptor with the new buffer", () -> JsonCodec.descriptorFromJson(
        plain.data(seg).orElseThrow()).bufferContaining(later.address(), LEN) != null);
    writeAndCheck(a, b, later);
  }

  @Test
  void serverRestartKeepsTheNodesAndTransfersContinue() throws Exception {
    Engine a = engine(uniqueName());
    Engine b = engine(uniqueName());
    ManagedBuffer atB = b.allocate(LEN);
    writeAndCheck(a, b, atB);
    server.restart();
    String seg = "/mooncake/ram/" + b.segmentName();
    plain.await(WAIT, "b's descriptor on the restarted server", () ->
        plain.data(seg).equals(Optional.of(JsonCodec.descriptorToJson(b.localDescriptor())))
            && plain.holder(seg) == session(b));
    writeAndCheck(a, b, atB);
    // a restarted engine after the server restart: found through the store, bytes move.
    Engine c = engine(uniqueName());
    ManagedBuffer atC = c.allocate(LEN);
    writeAndCheck(a, c, atC);
  }

  @Test
  void emptyServerOnTheSamePortGetsEveryNodeAgain() throws Exception {
    Engine a = engine(uniqueName());
    Engine b = engine(uniqueName());
    ManagedBuffer atB = b.allocate(LEN);
    writeAndCheck(a, b, atB);
    plain.close();
    server.replaceWithEmptyServer();
    plain = new TreeView(server.connectString());
    for (Engine e : List.of(a, b)) {
      String seg = "/mooncake/ram/" + e.segmentName();
      String rpc = "/mooncake/rpc_meta/" + e.segmentName();
      plain.await(WAIT, e.segmentName() + " published again", () ->
          plain.data(seg).equals(Optional.of(JsonCodec.descriptorToJson(e.localDescriptor())))
              && plain.data(rpc).isPresent() && plain.holder(seg) == session(e));
    }
    // a must fetch b afresh from the new server (the reconnect invalidated its cache): a newly
    // started engine that a has never seen proves the store works, b proves the old peer does.
    writeAndCheck(a, b, atB);
    Engine c = engine(uniqueName());
    writeAndCheck(c, b, atB);
  }

  @Test
  void restartedPeerOnANewPortIsReachedOnceTheCacheEventArrives() throws Exception {
    Engine a = engine(uniqueName());
    String name = uniqueName();
    Engine b = engine(name);
    ManagedBuffer atB = b.allocate(LEN);
    writeAndCheck(a, b, atB); // a has b's descriptor cached now
    int oldPort = TcpDescriptorFields.dataPort(b.localDescriptor());
    assertEquals(oldPort, TcpDescriptorFields.dataPort(a.segment(name)));
    b.close();

    // Hold b's old data port while the new b starts, so it must take another; then free it, so
    // a transfer using a stale cached descriptor fails at once.
    Engine b2;
    ServerSocket hold = new ServerSocket();
    try {
      hold.bind(new InetSocketAddress(oldPort));
      b2 = engine(name);
    } finally {
      hold.close();
    }
    ManagedBuffer atB2 = b2.allocate(LEN);
    int newPort = TcpDescriptorFields.dataPort(b2.localDescriptor());
    assertNotEquals(oldPort, newPort);

    // Only the watch can change what a resolves: its cache holds the old descriptor otherwise.
    long t0 = System.nanoTime();
    plain.await(WAIT, "a resolves the new descriptor", () -> {
      SegmentDescriptor d = a.segment(name);
      return TcpDescriptorFields.dataPort(d) == newPort
          && d.bufferContaining(atB2.address(), LEN) != null;
    });
    System.out.println("watch delivered the restarted peer after "
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
    writeAndCheck(a, b2, atB2); // the first transfer after the restart
  }

  @Test
  void malformedJsonUnderASegmentKeyIsReportedAndNothingBreaks() throws Exception {
    Engine a = engine(uniqueName());
    Engine b = engine(uniqueName());
    ManagedBuffer atB = b.allocate(LEN);
    plain.client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT)
        .forPath("/mooncake/ram/broken-seg", "{\"name\": \"broken-seg\", \"buffers\": [{"
            .getBytes(StandardCharsets.UTF_8));

    TransferException e = assertThrows(TransferException.class, () -> a.segment("broken-seg"));
    assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode());
    assertTrue(e.getMessage().contains("broken-seg"), e.getMessage());
    ManagedBuffer src = a.allocate(16);
    Batch s = a.submit("broken-seg", List.of(TransferRequest.write(src.address(), 4096, 16)), "");
    assertTrue(s.isRejected());
    assertEquals(ErrorCode.MALFORMED_JSON, s.errorCode());
    assertTrue(s.errorMessage().contains("broken-seg"), s.errorMessage());

    writeAndCheck(a, b, atB); // the engine and its store carry on
    plain.client.setData().forPath("/mooncake/ram/broken-seg",
        "not json at all".getBytes(StandardCharsets.UTF_8));
    TransferException again = assertThrows(TransferException.class,
        () -> a.segment("broken-seg"));
    assertEquals(ErrorCode.MALFORMED_JSON, again.errorCode());
  }

  @Test
  void storeDownAtStartIsAClearMetadataErrorWithinTheBound() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    String connect = "127.0.0.1:" + port;
    long t0 = System.nanoTime();
    TransferException e = assertThrows(TransferException.class,
        () -> Engine.builder().localHostname(uniqueName()).metadataServer("zk://" + connect)
            .protocol("tcp").transferTimeout(Duration.ofSeconds(3)).start());
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(ErrorCode.METADATA, e.errorCode());
    assertTrue(e.getMessage().contains(connect), e.getMessage());
    assertTrue(tookMs < 3_000 + 3_000, "took " + tookMs + " ms");
  }

  // ------------------------------------------------------------------ child JVM

  private static ChildJvm startChild(String metadata, String name, String sessionTimeoutMs)
      throws IOException, InterruptedException {
    return ChildJvm.start(ZkTargetMain.class,
        List.of("-Xmx256m", "-D" + ZkConfig.SESSION_TIMEOUT_MS + "=" + sessionTimeoutMs),
        List.of(metadata, name), "READY " + name, Duration.ofSeconds(60));
  }
}
