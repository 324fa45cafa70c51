package io.te4j.metadata.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.transfer.Batch;
import io.te4j.testkit.ChildJvm;
import io.te4j.transport.tcp.TcpDescriptorFields;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Engines finding each other through {@link HttpMetadataServer}, as with `te metadata-server`. */
class HttpEnginesIT {
  private static final AtomicInteger NEXT = new AtomicInteger(
      20000 + (int) (ProcessHandle.current().pid() % 1000) * 20);

  private HttpMetadataServer server;
  private String url;

  @BeforeEach
  void start() {
    server = HttpMetadataServer.start("127.0.0.1", 0, "/metadata", Duration.ZERO);
    url = "http://127.0.0.1:" + server.port() + "/metadata";
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static String uniqueName() {
    return "127.0.0.1:" + NEXT.incrementAndGet();
  }

  private static Engine engine(String url) {
    return Engine.builder().localHostname(uniqueName()).metadataServer(url).protocol("tcp")
        .transferTimeout(Duration.ofSeconds(20)).start();
  }

  private static HttpResponse<byte[]> get(String url, String key) throws Exception {
    return HttpMetadataServerIT.send("GET", url + "?key=" + KeyQuery.escape(key), null);
  }

  @Test
  void twoEnginesExchangeBytesThroughTheHttpServer() throws Exception {
    int len = 3 << 20;
    byte[] payload = new byte[len];
    new Random(7).nextBytes(payload);
    String nameA;
    String nameB;
    try (Engine a = engine(url); Engine b = engine(url)) {
      nameA = a.segmentName();
      nameB = b.segmentName();
      HttpResponse<byte[]> published = get(url, "mooncake/ram/" + nameB);
      assertEquals(200, published.statusCode());
      assertEquals(nameB, JsonCodec.descriptorFromJson(
          new String(published.body(), StandardCharsets.UTF_8)).name());
      assertEquals(200, get(url, "mooncake/rpc_meta/" + nameB).statusCode());

      ManagedBuffer src = a.allocate(len);
      ManagedBuffer back = a.allocate(len);
      ManagedBuffer dst = b.allocate(len);
      a.write(src.address(), payload, 0, len);
      assertEquals(TransferState.COMPLETED, a.await(a.submit(nameB,
          List.of(TransferRequest.write(src.address(), dst.address(), len)), "")));
      assertArrayEquals(payload, b.read(dst.address(), len));
      assertEquals(TransferState.COMPLETED, a.await(a.submit(nameB,
          List.of(TransferRequest.read(back.address(), dst.address(), len)), "")));
      assertArrayEquals(payload, a.read(back.address(), len));
      // And the other way round: b resolves a through the server too.
      byte[] reply = "pong".getBytes(StandardCharsets.US_ASCII);
      b.write(dst.address(), reply, 0, reply.length);
      assertEquals(TransferState.COMPLETED, b.await(b.submit(nameA,
          List.of(TransferRequest.write(dst.address(), src.address(), reply.length)), "")));
      assertArrayEquals(reply, a.read(src.address(), reply.length));
    }
    // Closed engines take their keys with them.
    for (String n : List.of(nameA, nameB)) {
      assertEquals(404, get(url, "mooncake/ram/" + n).statusCode());
      assertEquals(404, get(url, "mooncake/rpc_meta/" + n).statusCode());
    }
    assertEquals(0, server.keyCount());
  }

  @Test
  void malformedDescriptorIsMalformedJsonNamingTheSegment() throws Exception {
    String bogus = "127.0.0.1:9";
    assertEquals(200, HttpMetadataServerIT.send("PUT",
        url + "?key=" + KeyQuery.escape("mooncake/ram/" + bogus),
        "{\"name\":\"127.0.0.1:9\",\"buffers\":[{\"addr\":".getBytes(StandardCharsets.UTF_8))
        .statusCode());
    try (Engine a = engine(url)) {
      ManagedBuffer src = a.allocate(4096);
      Batch e = a.submit(bogus, List.of(TransferRequest.write(src.address(), 4096, 16)), "");
      assertTrue(e.isRejected());
      assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode(), e.errorMessage());
      assertTrue(e.errorMessage().contains(bogus), e.errorMessage());
      // An unknown segment is METADATA, not a hang.
      Batch unknown = a.submit(
          "127.0.0.1:8", List.of(TransferRequest.write(src.address(), 4096, 16)), "");
      assertEquals(ErrorCode.METADATA, unknown.errorCode());
      assertEquals(TransferState.FAILED, unknown.state());
    }
  }

  @Test
  void aTakenNameIsRefusedAndTheHolderKeepsItsEntries() throws Exception {
    String name = uniqueName();
    try (Engine holder = Engine.builder().localHostname(name).metadataServer(url).protocol("tcp")
        .setting(HttpMetadataStore.REFRESH_SECONDS, "1").start();
        Engine peer = engine(url)) {
      byte[] rpcBefore = get(url, "mooncake/rpc_meta/" + name).body();
      TransferException e = assertThrows(TransferException.class, () -> Engine.builder()
          .localHostname(name).metadataServer(url).protocol("tcp").start());
      assertEquals(ErrorCode.METADATA, e.errorCode());
      assertTrue(e.getMessage().contains("Duplicate rpc_meta key"), e.getMessage());
      // The intruder's cleanup left the holder's rpc_meta alone ...
      assertArrayEquals(rpcBefore, get(url, "mooncake/rpc_meta/" + name).body());
      // ... and the descriptor it overwrote, then deleted, comes back with the holder's refresh.
      int holderPort = TcpDescriptorFields.dataPort(holder.localDescriptor());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (true) {
        HttpResponse<byte[]> r = get(url, "mooncake/ram/" + name);
        if (r.statusCode() == 200 && TcpDescriptorFields.dataPort(JsonCodec.descriptorFromJson(
            new String(r.body(), StandardCharsets.UTF_8))) == holderPort) {
          break;
        }
        assertTrue(System.nanoTime() < deadline, "holder's descriptor never came back");
        Thread.sleep(100);
      }
      // A peer that looks the holder up now reaches it.
      ManagedBuffer dst = holder.allocate(4096);
      ManagedBuffer src = peer.allocate(4096);
      byte[] bytes = "still mine".getBytes(StandardCharsets.US_ASCII);
      peer.write(src.address(), bytes, 0, bytes.length);
      assertEquals(TransferState.COMPLETED, peer.await(peer.submit(name,
          List.of(TransferRequest.write(src.address(), dst.address(), bytes.length)), "")));
      assertArrayEquals(bytes, holder.read(dst.address(), bytes.length));
    }
  }

  @Test
  void engineStartFailsWithMetadataWhenTheServerIsDown() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String down = "http://127.0.0.1:" + port + "/metadata";
    TransferException e = assertThrows(TransferException.class, () -> engine(down));
    assertEquals(ErrorCode.METADATA, e.errorCode());
    assertTrue(e.getMessage().contains(down), e.getMessage());
  }

  @Test
  void killedEnginesKeysVanishFromAServerWithATtl() throws Exception {
    Duration ttl = Duration.ofMillis(1500);
    try (HttpMetadataServer expiring = HttpMetadataServer.start("127.0.0.1", 0, "/metadata", ttl)) {
      String u = "http://127.0.0.1:" + expiring.port() + "/metadata";
      String name = uniqueName();
      try (ChildJvm child = ChildJvm.start(EngineMain.class, List.of("-Xmx256m"),
          List.of(u, name), "READY " + name, Duration.ofSeconds(60))) {
        String ram = "mooncake/ram/" + name;
        String rpc = "mooncake/rpc_meta/" + name;
        // Alive for two TTLs and more: its refresh keeps both keys.
        long aliveUntil = System.nanoTime() + ttl.multipliedBy(2).toNanos();
        while (System.nanoTime() < aliveUntil) {
          assertEquals(200, get(u, ram).statusCode(), "live engine's descriptor expired");
          assertEquals(200, get(u, rpc).statusCode(), "live engine's rpc_meta expired");
          Thread.sleep(200);
        }
        assertTrue(child.kill()); // SIGKILL: no close, no DELETE
        long killed = System.nanoTime();
        long deadline = killed + TimeUnit.SECONDS.toNanos(15);
        while (get(u, ram).statusCode() == 200 || get(u, rpc).statusCode() == 200) {
          assertTrue(System.nanoTime() < deadline, "keys of a killed engine stayed");
          Thread.sleep(100);
        }
        assertEquals(0, expiring.keyCount());
        // The name is free again: a new engine may take it although the old one never let go.
        try (Engine again = Engine.builder().localHostname(name).metadataServer(u)
            .protocol("tcp").start()) {
          assertEquals(200, get(u, rpc).statusCode());
        }
      }
    }
  }
}
