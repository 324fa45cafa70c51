package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.core.Engine;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The type-0 handshake as the reference's peers see it (RDMA.md 2.3, 4.5 A and F): golden frames,
 * the passive side answering v0.3.11 and v0.3.12+ peers, the ready-ACK gate, rejections, a peer
 * restarted with new QP numbers, and fuzzed frames that never break the handler.
 */
class HandshakeTest {
  private static final String GID = "fe:80:00:00:00:00:00:00:00:00:00:00:0a:00:00:01";
  private static Engine engine;
  private static String nic0;

  @BeforeAll
  static void start() {
    engine = RdmaEngines.start(java.util.Map.of("MC_MAX_EP_PER_CTX", "16",
        "te4j.rdma.readyAckTimeout", "1"),
        java.time.Duration.ofSeconds(30));
    nic0 = RdmaEngines.transport(engine).nics().get(0).nicPath;
  }

  @AfterAll
  static void stop() {
    engine.close();
  }

  private static String request(String from, String to, String qps, String readyAck) {
    return "{\"local_nic_path\":\"" + from + "\",\"peer_nic_path\":\"" + to
        + "\",\"local_lid\":0,\"local_gid\":\"" + GID + "\",\"qp_num\":" + qps
        + (readyAck == null ? "" : ",\"ready_ack\":" + readyAck) + ",\"reply_msg\":\"\"}";
  }

  private static Endpoint endpoint(String peerNicPath) {
    return RdmaTransport.class.cast(RdmaEngines.transport(engine)).nics().get(0).endpoints
        .get(peerNicPath);
  }

  @Test
  void encodesAsTheReferenceDoesKeysSorted() {
    HandshakeMessage m = new HandshakeMessage("h:1@soft_0", "h:2@mlx5_0", 0, GID,
        new int[] {123, 456}, "", false);
    assertEquals("{\"local_gid\":\"" + GID + "\",\"local_lid\":0,\"local_nic_path\":\"h:1@soft_0\","
        + "\"peer_nic_path\":\"h:2@mlx5_0\",\"qp_num\":[123,456],\"ready_ack\":false,"
        + "\"reply_msg\":\"\"}", m.encode());
    assertFalse(new HandshakeMessage("a@b", "c@d", 0, GID, new int[] {1}, "", null).encode()
        .contains("ready_ack"), "a v0.3.11 peer's frame has no ready_ack");
  }

  @Test
  void decodesAReferenceFrameWithKeysWeDoNotUse() {
    String frame = "{\"barex_port\":0,\"local_gid\":\"" + GID + "\",\"local_lid\":7,"
        + "\"local_nic_path\":\"10.0.0.1:15234@mlx5_0\",\"payload\":\"\",\"peer_nic_path\":"
        + "\"10.0.0.2:15234@mlx5_1\",\"qp_num\":[16777215,9],\"ready_ack\":true,\"reply_msg\":\"\"}\n";
    HandshakeMessage m = HandshakeMessage.decode(frame);
    assertEquals("10.0.0.1:15234@mlx5_0", m.localNicPath());
    assertEquals("10.0.0.2:15234@mlx5_1", m.peerNicPath());
    assertEquals(7, m.localLid());
    assertArrayEquals(new int[] {0xffffff, 9}, m.qpNums());
    assertEquals(Boolean.TRUE, m.readyAck());
    assertFalse(m.isRejection());
  }

  @Test
  void aV0311PeerIsConnectedAtOnceWithoutReadyAck() {
    String reply = RdmaEngines.frame(engine, request("10.9.9.1:1@old_0", nic0, "[101,102]", null));
    HandshakeMessage r = HandshakeMessage.decode(reply);
    assertEquals("", r.replyMessage());
    assertNull(r.readyAck(), "no ready_ack for a peer that sent none");
    assertEquals(nic0, r.localNicPath());
    assertEquals("10.9.9.1:1@old_0", r.peerNicPath());
    assertEquals(2, r.qpNums().length, "MC_NUM_QP_PER_EP QPs");
    Endpoint e = endpoint("10.9.9.1:1@old_0");
    assertEquals(Endpoint.State.CONNECTED, e.state());
    assertArrayEquals(new int[] {101, 102}, e.peerQpNums(), "QP i pairs with the peer's QP i");
    assertArrayEquals(e.qpNums, r.qpNums(), "the reply names our QPs in index order");
  }

  @Test
  void thePassiveSideWaitsForTheReadyAckBeforePosting() {
    String peer = "10.9.9.2:1@new_0";
    HandshakeMessage r = HandshakeMessage.decode(RdmaEngines.frame(engine,
        request(peer, nic0, "[201,202]", "false")));
    assertEquals(Boolean.FALSE, r.readyAck(), "a v0.3.12 reply carries ready_ack:false");
    Endpoint e = endpoint(peer);
    assertEquals(Endpoint.State.WAIT_READY_ACK, e.state());
    assertFalse(e.canPost(), "gated until the ACK");
    HandshakeMessage stale = HandshakeMessage.decode(RdmaEngines.frame(engine,
        request(peer, nic0, "[201,999]", "true")));
    assertEquals("stale ready ACK", stale.replyMessage());
    assertFalse(e.canPost());
    HandshakeMessage ok = HandshakeMessage.decode(RdmaEngines.frame(engine,
        request(peer, nic0, "[201,202]", "true")));
    assertEquals("", ok.replyMessage());
    assertTrue(e.canPost());
  }

  @Test
  void aPassiveEndpointWithoutItsReadyAckIsRetired() throws InterruptedException {
    String peer = "10.9.9.6:1@silent_0";
    RdmaEngines.frame(engine, request(peer, nic0, "[601,602]", "false"));
    Endpoint e = endpoint(peer);
    assertEquals(Endpoint.State.WAIT_READY_ACK, e.state());
    long end = System.nanoTime() + 5_000_000_000L;
    while (e.state() != Endpoint.State.RETIRED && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertEquals(Endpoint.State.RETIRED, e.state(), "retired after te4j.rdma.readyAckTimeout");
  }

  @Test
  void hundredsOfPeersHandshakingAtOnceAreAllAnswered() throws Exception {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(64);
    try (Engine crowded = RdmaEngines.start()) {
      String nic = RdmaEngines.transport(crowded).nics().get(0).nicPath;
      java.util.List<java.util.concurrent.Future<String>> replies = new java.util.ArrayList<>();
      long start = System.nanoTime();
      for (int i = 0; i < 300; i++) {
        String body = request("10.8." + (i / 250) + "." + (i % 250) + ":1@crowd_0", nic,
            "[" + (7000 + 2 * i) + "," + (7001 + 2 * i) + "]", null);
        replies.add(pool.submit(() -> RdmaEngines.frame(crowded, body)));
      }
      for (java.util.concurrent.Future<String> f : replies) {
        assertEquals("", HandshakeMessage.decode(f.get()).replyMessage());
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms < 20_000, "300 handshakes answered in " + ms + " ms");
      assertEquals(300, RdmaEngines.transport(crowded).nics().get(0).endpoints.size());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aPeerRestartedWithNewQpsRetiresTheEndpoint() {
    String peer = "10.9.9.3:1@restarted_0";
    RdmaEngines.frame(engine, request(peer, nic0, "[301,302]", null));
    Endpoint before = endpoint(peer);
    HandshakeMessage r = HandshakeMessage.decode(RdmaEngines.frame(engine,
        request(peer, nic0, "[303,304]", null)));
    assertEquals("", r.replyMessage());
    Endpoint after = endpoint(peer);
    assertNotEquals(before, after);
    assertEquals(Endpoint.State.RETIRED, before.state(), "an endpoint once connected is retired");
    assertArrayEquals(new int[] {303, 304}, after.peerQpNums());
    assertFalse(java.util.Arrays.equals(before.qpNums, after.qpNums), "new QPs, new numbers");
    HandshakeMessage again = HandshakeMessage.decode(RdmaEngines.frame(engine,
        request(peer, nic0, "[303,304]", null)));
    assertArrayEquals(after.qpNums, again.qpNums(), "the same QPs again: reused");
  }

  @Test
  void refusalsSayWhyInReplyMsg() {
    assertTrue(reject(request("a:1@x", "127.0.0.1:1@nope", "[1,2]", "false"))
        .contains("no local NIC"));
    assertTrue(reject(request("a:1@x", nic0, "[1,2,3,4]", "false"))
        .contains("QP count mismatch in peer and local endpoints"));
    assertTrue(reject(request("a:1@x", nic0, "[1,2]", "false").replace(GID, GID + ":00"))
        .contains("malformed GID"));
    assertTrue(reject(request("a:1@x", nic0, "[1,2]", "false").replace(GID, "fe:80"))
        .contains("malformed GID"));
    assertTrue(reject(request("nopath", nic0, "[1,2]", "false")).contains("local_nic_path"));
    assertTrue(reject(request("a:1@x", nic0, "[1,\"2\"]", "false")).contains("qp_num"));
    assertTrue(reject(request("a:1@x", nic0, "[1,16777216]", "false")).contains("qp_num"));
    assertTrue(reject(request("a:1@x", nic0, "7", "false")).contains("qp_num"));
    StringBuilder many = new StringBuilder("[1");
    for (int i = 0; i < 10_000; i++) {
      many.append(",1");
    }
    assertTrue(reject(request("a:1@x", nic0, many + "]", "false")).contains("QP numbers"));
    assertEquals(null, endpoint("a:1@x"), "no endpoint for a refused request");
  }

  private static String reject(String body) {
    HandshakeMessage r = HandshakeMessage.decode(RdmaEngines.frame(engine, body));
    assertTrue(r.isRejection(), body);
    return r.replyMessage();
  }

  @Test
  void fuzzedFramesGetAnAnswerAndChangeNothing() {
    Random random = new Random(20261207);
    String valid = request("10.9.9.4:1@fuzz_0", nic0, "[401,402]", "false");
    for (int i = 0; i < 500; i++) {
      char[] c = valid.toCharArray();
      for (int k = 0, n = 1 + random.nextInt(4); k < n; k++) {
        c[random.nextInt(c.length)] = (char) (32 + random.nextInt(95));
      }
      String reply = new Handshakes(null, RdmaEngines.transport(engine).nics(), 2)
          .handle(new String(c), "fuzz");
      HandshakeMessage.decode(reply); // always a well-formed answer
    }
    // Mutations that leave a frame valid name new peers: the store stays bounded, evicting.
    Nic nic = RdmaEngines.transport(engine).nics().get(0);
    assertTrue(nic.endpoints.size() <= 16, nic.endpoints.size() + " endpoints kept");
    nic.reap(false);
    long qps = io.te4j.transport.rdma.soft.SoftVerbs.live().stream().filter("Qp"::equals).count();
    assertTrue(qps <= 2 * 2 * 16, qps + " QPs alive after hundreds of handshakes");
    assertThrows(IllegalArgumentException.class, () -> HandshakeMessage.decode("[]"));
    assertThrows(IllegalArgumentException.class, () -> HandshakeMessage.decode("{\"local_gid\":1}"));
    assertEquals("", HandshakeMessage.decode(RdmaEngines.frame(engine,
        request("10.9.9.5:1@after_0", nic0, "[501,502]", "false"))).replyMessage(),
        "the port still answers");
  }
}
