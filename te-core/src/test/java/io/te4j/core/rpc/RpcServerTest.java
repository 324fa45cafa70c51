package io.te4j.core.rpc;

import static io.te4j.core.rpc.FrameCodecTest.bytes;
import static io.te4j.core.rpc.FrameCodecTest.concat;
import static io.te4j.core.rpc.FrameCodecTest.lengthLe;
import static io.te4j.core.rpc.RpcTestSupport.bytesUntilClosed;
import static io.te4j.core.rpc.RpcTestSupport.connect;
import static io.te4j.core.rpc.RpcTestSupport.exchange;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.PeerRpc;
import io.te4j.core.rpc.RpcTestSupport.RecordingHandler;
import io.te4j.core.rpc.RpcTestSupport.TrackingThreadFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RpcServerTest {
  /** The metadata reply body observed from a reference engine (WIRE.md section 3). */
  private static final String SAMPLE =
      "{\"buffers\":[{\"addr\":140537497649152,\"length\":100663296,\"name\":\"127.0.0.1:16057\"}],"
          + "\"name\":\"127.0.0.1:16057\",\"protocol\":\"tcp\",\"tcp_data_port\":16837,"
          + "\"tcp_proto_version\":2,\"timestamp\":\"2026-11-21 20:55:31.992448\"}";

  private static final byte[] PROBE_REPLY =
      concat(new byte[] {0x16, 0, 0, 0, 0, 0, 0, 0, 0x03}, bytes("{\"status\":\"success\"}\n"));

  private final TrackingThreadFactory threads = new TrackingThreadFactory();
  private final RecordingHandler handler = new RecordingHandler(SAMPLE);
  private RpcServer server;

  @BeforeEach
  void startServer() {
    server = RpcTestSupport.start(handler, Duration.ofSeconds(60), threads);
  }

  @AfterEach
  void stopServer() throws InterruptedException {
    server.close();
    assertEquals(List.of(), threads.survivors(5_000), "threads left running after close");
  }

  private void assertProbeAnswered() throws IOException {
    assertArrayEquals(PROBE_REPLY, exchange(server.port(), FrameCodec.encode(3, "{}")));
  }

  @Test
  void probeReplyIsByteForByteTheReferences() throws IOException {
    assertProbeAnswered();
  }

  @Test
  void notifyIsDeliveredAndAnsweredAsTheReferenceDoes() throws Exception {
    byte[] reply =
        exchange(server.port(), FrameCodec.encode(2, "{\"name\":\"n1\",\"notify_msg\":\"hello\"}"));
    byte[] expected =
        concat(
            new byte[] {0x24, 0, 0, 0, 0, 0, 0, 0, 0x02},
            bytes("{\"name\":\"\",\"notify_msg\":\"success\"}\n"));
    assertArrayEquals(expected, reply);
    assertEquals(new TransferNotify("n1", "hello"), handler.notifies.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void metadataReplyIsTheLocalDescriptor() throws IOException {
    byte[] reply = exchange(server.port(), FrameCodec.encode(1, "{\"name\":\"asker\"}"));
    byte[] expected =
        concat(new byte[] {(byte) 0xd3, 0, 0, 0, 0, 0, 0, 0, 0x01}, bytes(SAMPLE + "\n"));
    assertArrayEquals(expected, reply);
  }

  @Test
  void metadataReplyIsAnEmptyObjectWithoutALocalDescriptor() throws IOException {
    handler.descriptor = null;
    byte[] reply = exchange(server.port(), FrameCodec.encode(1, "{}"));
    assertArrayEquals(FrameCodec.encode(1, "{}"), reply);
  }

  @Test
  void legacyUntypedFrameGetsAnUntypedReply() throws Exception {
    byte[] request = concat(lengthLe(8), bytes("{\"a\":1}\n"));
    byte[] reply = exchange(server.port(), request);
    byte[] expected =
        concat(
            new byte[] {0x6e, 0, 0, 0, 0, 0, 0, 0},
            bytes(
                "{\"local_gid\":\"\",\"local_lid\":0,\"local_nic_path\":\"\",\"payload\":\"\","
                    + "\"peer_nic_path\":\"\",\"qp_num\":[],\"reply_msg\":\"\"}\n"));
    assertArrayEquals(expected, reply);
    assertEquals("{\"a\":1}", handler.handshakes.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void typedHandshakeGetsATypedReply() throws Exception {
    byte[] reply =
        exchange(server.port(), FrameCodec.encode(0, "{\"local_nic_path\":\"x\"}  \r\n"));
    assertArrayEquals(FrameCodec.encode(0, RpcTestSupport.CONNECTION_REPLY), reply);
    assertEquals("{\"local_nic_path\":\"x\"}", handler.handshakes.poll(5, TimeUnit.SECONDS));
  }

  /** te-core keeps no knowledge of the connection handshake: unserved, it gets no reply. */
  @Test
  void handshakeNobodyServesIsClosedWithoutAReply() throws Exception {
    handler.connectionReply = null;
    assertArrayEquals(new byte[0], exchange(server.port(), FrameCodec.encode(0, "{}")));
    assertArrayEquals(new byte[0],
        exchange(server.port(), concat(lengthLe(8), bytes("{\"a\":1}\n"))));
    // The port goes on serving.
    assertArrayEquals(FrameCodec.encode(3, RpcServer.PROBE_REPLY),
        exchange(server.port(), FrameCodec.encode(3, "{}")));
  }

  static Stream<Arguments> badHeaders() {
    byte[] clientHello =
        concat(
            new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03},
            new byte[32]);
    return Stream.of(
        Arguments.of("HTTP GET", bytes("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")),
        Arguments.of("HTTP POST", bytes("POST /metadata HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")),
        Arguments.of("TLS ClientHello", clientHello),
        Arguments.of("zero length", concat(lengthLe(0), new byte[] {3})),
        Arguments.of(
            "oversize length",
            concat(lengthLe(FrameCodec.DEFAULT_MAX_FRAME_BYTES + 1L), new byte[] {1})));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badHeaders")
  void refusesBadHeadersWithoutReadingFurther(String label, byte[] header) throws IOException {
    try (Socket s = connect(server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(header);
      // A long tail: a server that believed the header would wait for more of it (the deadline is
      // 60 s, the read below gives up after 10 s); one that refuses it closes at once.
      byte[] tail = new byte[64 * 1024];
      java.util.Arrays.fill(tail, (byte) 'x');
      try {
        out.write(tail);
        out.flush();
      } catch (IOException alreadyClosed) {
        // The server may have closed (reset) before the tail went out: just as good.
      }
      assertEquals(0, bytesUntilClosed(s), label + ": the server must close without a reply");
    }
    assertEquals(1, server.refusedConnections(), label);
    assertProbeAnswered();
  }

  @Test
  void malformedNotifyBodyClosesTheConnection() throws IOException {
    try (Socket s = connect(server.port())) {
      s.getOutputStream().write(FrameCodec.encode(2, "{\"name\": oops"));
      assertEquals(0, bytesUntilClosed(s));
    }
    assertTrue(handler.notifies.isEmpty());
    assertEquals(1, server.refusedConnections());
    assertProbeAnswered();
  }

  @Test
  void fiftyConcurrentClientsAreAllServed() throws Exception {
    RpcClient client = new RpcClient(Duration.ofSeconds(5), Duration.ofSeconds(30), 1 << 20);
    int clients = 50;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<String>> replies = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        String body = "{\"name\":\"c" + i + "\",\"notify_msg\":\"m" + i + "\"}";
        replies.add(
            pool.submit(
                () -> {
                  go.await();
                  return client.call("127.0.0.1", server.port(), PeerRpc.NOTIFY, body);
                }));
      }
      go.countDown();
      for (Future<String> reply : replies) {
        assertEquals(RpcServer.NOTIFY_REPLY, reply.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    Set<String> names = new HashSet<>();
    TransferNotify n;
    while ((n = handler.notifies.poll()) != null) {
      assertEquals("m" + n.name().substring(1), n.msg());
      names.add(n.name());
    }
    assertEquals(clients, names.size());
  }

  @Test
  void aStalledClientDoesNotBlockAnother() throws IOException {
    byte[] probe = FrameCodec.encode(3, "{}");
    try (Socket stalled = connect(server.port())) {
      stalled.getOutputStream().write(probe, 0, 3);
      stalled.getOutputStream().flush();
      // Served one at a time, this call would wait for the stalled client, which only finishes
      // after this call returns: it would time out.
      RpcClient client = new RpcClient(Duration.ofSeconds(5), Duration.ofSeconds(10), 1 << 20);
      assertEquals(
          RpcServer.PROBE_REPLY, client.call("127.0.0.1", server.port(), PeerRpc.PROBE, "{}"));
      // The stalled client was being served all along: it can still finish its frame.
      stalled.getOutputStream().write(probe, 3, probe.length - 3);
      assertArrayEquals(PROBE_REPLY, stalled.getInputStream().readAllBytes());
    }
  }

  @Test
  void aStalledClientIsDroppedAtItsDeadline() throws Exception {
    server.close();
    server = RpcTestSupport.start(handler, Duration.ofMillis(300), threads);
    try (Socket stalled = connect(server.port())) {
      stalled.getOutputStream().write(new byte[] {1, 0, 0});
      stalled.getOutputStream().flush();
      assertEquals(0, bytesUntilClosed(stalled));
    }
    assertEquals(1, server.refusedConnections());
    assertProbeAnswered();
  }

  @Test
  void manyStalledClientsAreAllDroppedAtTheirDeadline() throws Exception {
    server.close();
    server = RpcTestSupport.start(handler, Duration.ofMillis(300), threads);
    List<Socket> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) {
        Socket s = connect(server.port());
        s.getOutputStream().write(new byte[] {1, 0, 0});
        stalled.add(s);
      }
      for (Socket s : stalled) {
        assertEquals(0, bytesUntilClosed(s));
      }
      assertEquals(20, server.refusedConnections());
      assertProbeAnswered();
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
  }

  @Test
  void aClientThatNeverReadsItsReplyIsCutAtTheDeadline() throws Exception {
    server.close();
    server = RpcTestSupport.start(handler, Duration.ofMillis(300), threads);
    // A reply larger than every socket buffer on the way: writing it blocks until the peer
    // reads, which this one never does.
    char[] filler = new char[12 << 20];
    java.util.Arrays.fill(filler, 'x');
    handler.descriptor = "{\"pad\":\"" + new String(filler) + "\"}";
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(8 * 1024);
      s.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()), 5_000);
      s.getOutputStream().write(FrameCodec.encode(1, "{}"));
      assertTimeoutPreemptively(
          Duration.ofSeconds(20),
          () -> {
            // Polls a counter the server bumps when it cuts the connection; nothing to wait on.
            while (server.refusedConnections() == 0) {
              Thread.sleep(10);
            }
          });
    }
    handler.descriptor = SAMPLE;
    assertProbeAnswered();
  }

  @Test
  void aThousandIdleConnectionsHoldNoThreadAndCannotLockARealPeerOut() throws Exception {
    List<Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 1000; i++) {
        Socket s = connect(server.port());
        if (i % 2 == 0) {
          s.getOutputStream().write(new byte[] {1, 0, 0}); // half a header, then nothing
        }
        idle.add(s);
      }
      // A real peer is answered while they all wait (they share its address: loopback).
      for (int i = 0; i < 20; i++) {
        assertProbeAnswered();
      }
      long threadsAlive = threads.threads.stream().filter(Thread::isAlive).count();
      // the selector + the bounded pool, however many connections wait
      assertTrue(threadsAlive <= RpcServer.WORKER_THREADS + 1, "threads: " + threadsAlive);
      assertTrue(server.openConnections() <= RpcServer.MAX_CONNECTIONS_PER_ADDRESS,
          "open: " + server.openConnections());
      // Over the per-address bound the oldest idle ones were closed to make room.
      assertTrue(server.refusedConnections() >= 1000 - RpcServer.MAX_CONNECTIONS_PER_ADDRESS,
          "refused: " + server.refusedConnections());
    } finally {
      for (Socket s : idle) {
        s.close();
      }
    }
  }

  @Test
  void unfinishedFramesHoldBoundedMemory() throws Exception {
    server.close();
    server = RpcServer.start(handler, PeerAuth.NONE, "127.0.0.1", 0, 0, 16 << 20,
        Duration.ofSeconds(60), threads);
    // Each announces a 16 MiB frame and sends one byte of it: 128 MiB announced, but the port
    // holds at most MAX_BUFFERED_BYTES of bodies, closing older unfinished ones for room (which
    // are older depends on the order the selector reads the headers in).
    List<Socket> partial = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        Socket s = connect(server.port());
        s.getOutputStream().write(concat(lengthLe(16 << 20), new byte[] {1}));
        partial.add(s);
      }
      assertProbeAnswered(); // a real peer's frame gets room too
      long held = 8 - server.refusedConnections();
      assertTrue(held * (16 << 20) <= RpcServer.MAX_BUFFERED_BYTES, "held " + held);
    } finally {
      for (Socket s : partial) {
        s.close();
      }
    }
  }

  @Test
  void closeIsIdempotentFreesThePortAndDropsOpenConnections() throws Exception {
    int port = server.port();
    try (Socket stalled = connect(port)) {
      stalled.getOutputStream().write(new byte[] {1, 0});
      assertProbeAnswered(); // the stalled connection is surely accepted by now
      assertTimeoutPreemptively(Duration.ofSeconds(20), () -> server.close());
      server.close();
      assertEquals(0, bytesUntilClosed(stalled));
    }
    assertThrows(ConnectException.class, () -> connect(port).close());
  }

  @Test
  void bindsInsideTheRangeAndNamesAFullRange() {
    try (RpcServer ranged =
        RpcServer.start(
            handler, PeerAuth.NONE, "127.0.0.1", 15000, 17000, 1 << 20, Duration.ofSeconds(5),
            threads)) {
      int port = ranged.port();
      assertTrue(port >= 15000 && port <= 17000, "port " + port);
      TransferException e =
          assertThrows(
              TransferException.class,
              () ->
                  RpcServer.start(
                      handler, PeerAuth.NONE, "127.0.0.1", port, port, 1 << 20,
                      Duration.ofSeconds(5), threads));
      assertEquals(ErrorCode.ENDPOINT, e.errorCode());
      assertTrue(e.getMessage().contains("[" + port + ", " + port + "]"), e.getMessage());
    }
  }

  @Test
  void rejectsBadArguments() {
    for (int[] range : new int[][] {{0, 10}, {10, 5}, {1, 70000}}) {
      TransferException e =
          assertThrows(
              TransferException.class,
              () ->
                  RpcServer.start(
                      handler, PeerAuth.NONE, null, range[0], range[1], 1 << 20,
                      Duration.ofSeconds(1), threads));
      assertEquals(ErrorCode.INVALID_ARGUMENT, e.errorCode());
    }
  }
}
