package io.te4j.metadata.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server's contract, over real HTTP with the JDK's client, as a reference client sees it. */
class HttpMetadataServerIT {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private static final byte[] DESCRIPTOR = ("{\"buffers\":[{\"addr\":140537497649152,\"length\":"
      + "100663296,\"name\":\"127.0.0.1:16057\"}],\"name\":\"127.0.0.1:16057\",\"protocol\":\"tcp\","
      + "\"tcp_data_port\":16837,\"tcp_proto_version\":2,\"timestamp\":\"2026-11-21 20:55:31.992448\""
      + ",\"x\":\"\u00e9\\u0000\"}").getBytes(StandardCharsets.UTF_8);

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

  static HttpResponse<byte[]> send(String method, String uri, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofByteArray(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void missingEmptyAndBlankKeysAre400ForEveryMethod() throws Exception {
    for (String method : List.of("GET", "PUT", "DELETE")) {
      for (String query : List.of("", "?", "?key=", "?key", "?key=%20%20", "?key=++",
          "?other=1", "?key=%09%0A")) {
        HttpResponse<byte[]> r = send(method, url + query, method.equals("PUT") ? DESCRIPTOR : null);
        assertEquals(400, r.statusCode(), method + " " + query);
        assertEquals("metadata key is required", text(r));
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
      }
    }
    assertEquals(0, server.keyCount());
  }

  @Test
  void putGetDeleteRoundTripIsByteForByte() throws Exception {
    String key = url + "?key=mooncake%2Fram%2F127.0.0.1%3A16057";
    HttpResponse<byte[]> put = send("PUT", key, DESCRIPTOR);
    assertEquals(200, put.statusCode());
    assertEquals("metadata updated", text(put));
    HttpResponse<byte[]> get = send("GET", key, null);
    assertEquals(200, get.statusCode());
    assertArrayEquals(DESCRIPTOR, get.body());
    assertEquals("application/json", get.headers().firstValue("Content-Type").orElse(""));
    byte[] second = "{\"name\":\"v2\"}".getBytes(StandardCharsets.UTF_8);
    assertEquals(200, send("PUT", key, second).statusCode());
    assertArrayEquals(second, send("GET", key, null).body());
    HttpResponse<byte[]> del = send("DELETE", key, null);
    assertEquals(200, del.statusCode());
    assertEquals("metadata deleted", text(del));
    assertEquals(404, send("GET", key, null).statusCode());
    assertEquals(404, send("DELETE", key, null).statusCode());
  }

  @Test
  void emptyValueIsStoredAndServedEmpty() throws Exception {
    assertEquals(200, send("PUT", url + "?key=empty", new byte[0]).statusCode());
    HttpResponse<byte[]> get = send("GET", url + "?key=empty", null);
    assertEquals(200, get.statusCode());
    assertEquals(0, get.body().length);
  }

  @Test
  void unknownKeyIs404() throws Exception {
    HttpResponse<byte[]> get = send("GET", url + "?key=mooncake%2Fram%2Fnobody", null);
    assertEquals(404, get.statusCode());
    assertEquals("metadata not found", text(get));
    HttpResponse<byte[]> del = send("DELETE", url + "?key=mooncake%2Fram%2Fnobody", null);
    assertEquals(404, del.statusCode());
    assertEquals("metadata not found", text(del));
  }

  @Test
  void keyIsTrimmedOnPutAndGet() throws Exception {
    assertEquals(200, send("PUT", url + "?key=%20%20mooncake%2Fram%2Fa%3A1%09%20",
        DESCRIPTOR).statusCode());
    assertArrayEquals(DESCRIPTOR, send("GET", url + "?key=mooncake%2Fram%2Fa%3A1", null).body());
    assertArrayEquals(DESCRIPTOR, send("GET", url + "?key=+mooncake/ram/a:1+", null).body());
    assertEquals(1, server.keyCount());
    assertEquals(200, send("DELETE", url + "?key=%20mooncake%2Fram%2Fa%3A1", null).statusCode());
    assertEquals(0, server.keyCount());
  }

  @Test
  void encodedAndRawSlashesAndColonsNameTheSameKey() throws Exception {
    String key = "mooncake/ram/10.0.0.1:15234";
    assertEquals(200, send("PUT", url + "?key=" + KeyQuery.escape(key), DESCRIPTOR)
        .statusCode());
    assertArrayEquals(DESCRIPTOR, send("GET", url + "?key=" + key, null).body());
    assertArrayEquals(DESCRIPTOR,
        send("GET", url + "?key=mooncake%2fram%2f10.0.0.1%3a15234", null).body());
    // A key may hold '&', '=', '+' and non-ASCII when encoded.
    String odd = "mooncake/ram/a&b=c+d \u00e9";
    byte[] v = "{\"odd\":1}".getBytes(StandardCharsets.UTF_8);
    assertEquals(200, send("PUT", url + "?key=" + KeyQuery.escape(odd), v).statusCode());
    assertArrayEquals(v, send("GET", url + "?key=" + KeyQuery.escape(odd), null).body());
    assertEquals(404, send("GET", url + "?key=mooncake%2Fram%2Fa", null).statusCode());
  }

  @Test
  void rpcMetaKeyCannotBeTakenOverButMayBeRepublished() throws Exception {
    String key = url + "?key=mooncake%2Frpc_meta%2Fa%3A1";
    byte[] mine = "{\"ip_or_host_name\":\"10.0.0.1\",\"rpc_port\":15001}".getBytes(
        StandardCharsets.UTF_8);
    byte[] theirs = "{\"ip_or_host_name\":\"10.0.0.2\",\"rpc_port\":15002}".getBytes(
        StandardCharsets.UTF_8);
    assertEquals(200, send("PUT", key, mine).statusCode());
    HttpResponse<byte[]> again = send("PUT", key, mine);
    assertEquals(200, again.statusCode());
    assertEquals("metadata unchanged", text(again));
    HttpResponse<byte[]> other = send("PUT", key, theirs);
    assertEquals(400, other.statusCode());
    assertEquals("Duplicate rpc_meta key not allowed", text(other));
    assertArrayEquals(mine, send("GET", key, null).body());
    assertEquals(200, send("DELETE", key, null).statusCode());
    assertEquals(200, send("PUT", key, theirs).statusCode());
  }

  @Test
  void otherMethodsAre405AndOtherPaths404() throws Exception {
    assertEquals(405, send("POST", url + "?key=k", DESCRIPTOR).statusCode());
    assertEquals(405, send("PATCH", url + "?key=k", DESCRIPTOR).statusCode());
    String base = "http://127.0.0.1:" + server.port();
    assertEquals(404, send("GET", base + "/metadata/x?key=k", null).statusCode());
    assertEquals(404, send("GET", base + "/metadataX?key=k", null).statusCode());
    assertEquals(404, send("GET", base + "/?key=k", null).statusCode());
    // The JDK client cannot send a malformed escape: write the request by hand.
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /metadata?key=%ZZ HTTP/1.1\r\nHost: x\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(reply.startsWith("HTTP/1.1 400 "), reply);
    }
  }

  @Test
  void bodyOverTheLimitIs413AndNotStored() throws Exception {
    try (HttpMetadataServer small = HttpMetadataServer.builder().host("127.0.0.1").port(0)
        .maxBodyBytes(1024).start()) {
      String u = "http://127.0.0.1:" + small.port() + "/metadata?key=big";
      assertEquals(413, send("PUT", u, new byte[1025]).statusCode());
      assertEquals(404, send("GET", u, null).statusCode());
      // Chunked, without a declared length, is cut at the limit just the same.
      HttpRequest chunked = HttpRequest.newBuilder(URI.create(u))
          .PUT(HttpRequest.BodyPublishers.ofInputStream(
              () -> new java.io.ByteArrayInputStream(new byte[4096])))
          .build();
      assertEquals(413, HTTP.send(chunked, HttpResponse.BodyHandlers.ofByteArray()).statusCode());
      assertEquals(200, send("PUT", u, new byte[1024]).statusCode());
      assertEquals(1024, send("GET", u, null).body().length);
    }
  }

  @Test
  void keyAndByteBudgetsAre507() throws Exception {
    try (HttpMetadataServer small = HttpMetadataServer.builder().host("127.0.0.1").port(0)
        .maxKeys(2).maxTotalBytes(100).start()) {
      String u = "http://127.0.0.1:" + small.port() + "/metadata?key=";
      assertEquals(200, send("PUT", u + "a", new byte[40]).statusCode());
      assertEquals(200, send("PUT", u + "b", new byte[40]).statusCode());
      assertEquals(507, send("PUT", u + "c", new byte[1]).statusCode());
      assertEquals(507, send("PUT", u + "a", new byte[61]).statusCode());
      assertEquals(40, send("GET", u + "a", null).body().length);
      assertEquals(200, send("PUT", u + "a", new byte[60]).statusCode());
      assertEquals(200, send("DELETE", u + "b", null).statusCode());
      assertEquals(200, send("PUT", u + "c", new byte[40]).statusCode());
      assertEquals(2, small.keyCount());
    }
  }

  @Test
  void tokenIsRequiredWhenSet() throws Exception {
    try (HttpMetadataServer guarded = HttpMetadataServer.builder().host("127.0.0.1").port(0)
        .authToken("s3cret").start()) {
      String u = "http://127.0.0.1:" + guarded.port() + "/metadata?key=k";
      assertEquals(401, send("PUT", u, DESCRIPTOR).statusCode());
      assertEquals(401, send("GET", "http://127.0.0.1:" + guarded.port() + "/metadata", null)
          .statusCode());
      HttpRequest wrong = HttpRequest.newBuilder(URI.create(u))
          .header("Authorization", "Bearer s3cre").GET().build();
      assertEquals(401, HTTP.send(wrong, HttpResponse.BodyHandlers.ofByteArray()).statusCode());
      HttpRequest right = HttpRequest.newBuilder(URI.create(u))
          .header("Authorization", "bearer s3cret")
          .PUT(HttpRequest.BodyPublishers.ofByteArray(DESCRIPTOR)).build();
      assertEquals(200, HTTP.send(right, HttpResponse.BodyHandlers.ofByteArray()).statusCode());
      assertEquals(1, guarded.keyCount());
    }
  }

  @Test
  void keysNotRefreshedWithinTheTtlVanish() throws Exception {
    Duration ttl = Duration.ofMillis(400);
    try (HttpMetadataServer expiring = HttpMetadataServer.start("127.0.0.1", 0, "/metadata", ttl)) {
      String u = "http://127.0.0.1:" + expiring.port() + "/metadata?key=";
      HttpResponse<byte[]> put = send("PUT", u + "stale", DESCRIPTOR);
      assertEquals(200, put.statusCode());
      assertEquals("400", put.headers().firstValue(HttpMetadataServer.TTL_HEADER).orElse(""));
      assertEquals(200, send("PUT", u + "fresh", DESCRIPTOR).statusCode());
      long start = System.nanoTime();
      long deadline = start + Duration.ofSeconds(10).toNanos();
      // "fresh" is re-PUT every 100 ms; "stale" never again.
      while (send("GET", u + "stale", null).statusCode() == 200) {
        assertTrue(System.nanoTime() < deadline, "stale key never expired");
        assertEquals(200, send("PUT", u + "fresh", DESCRIPTOR).statusCode());
        Thread.sleep(100);
      }
      assertTrue(System.nanoTime() - start >= ttl.toNanos() - Duration.ofMillis(150).toNanos(),
          "expired before its TTL");
      assertArrayEquals(DESCRIPTOR, send("GET", u + "fresh", null).body());
      assertEquals(404, send("DELETE", u + "stale", null).statusCode());
      assertEquals(1, expiring.keyCount());
      // Once nobody refreshes it, the sweeper empties the map as well.
      while (expiring.keyCount() > 0) {
        assertTrue(System.nanoTime() < deadline, "fresh key never expired");
        Thread.sleep(50);
      }
    }
  }

  @Test
  void closeStopsEveryServerThread() throws Exception {
    try (HttpMetadataServer expiring = HttpMetadataServer.start("127.0.0.1", 0, "/metadata",
        Duration.ofSeconds(30))) {
      String u = "http://127.0.0.1:" + expiring.port() + "/metadata?key=k";
      assertEquals(200, send("PUT", u, DESCRIPTOR).statusCode());
      assertEquals(200, send("PUT", url + "?key=k", DESCRIPTOR).statusCode());
      assertTrue(HttpMetadataStoreIT.threadsNamed("te-http-metadata") > 0);
    }
    server.close();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (HttpMetadataStoreIT.threadsNamed("te-http-metadata") > 0
        || HttpMetadataStoreIT.threadsNamed("HTTP-Dispatcher") > 0) {
      assertTrue(System.nanoTime() < deadline, "server threads still alive after close");
      Thread.sleep(20);
    }
    java.net.http.HttpClient fresh = HttpClient.newHttpClient();
    assertThrows(java.net.ConnectException.class, () -> fresh.send(
        HttpRequest.newBuilder(URI.create(url + "?key=k")).build(),
        HttpResponse.BodyHandlers.discarding()));
  }

  @Test
  void concurrentClientsEachReadTheirOwnWrites() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        jobs.add(pool.submit(() -> {
          for (int i = 0; i < 50; i++) {
            String k = url + "?key=" + KeyQuery.escape("mooncake/ram/t" + thread + ":" + i);
            byte[] v = ("{\"t\":" + thread + ",\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8);
            assertEquals(200, send("PUT", k, v).statusCode());
            assertArrayEquals(v, send("GET", k, null).body());
          }
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get();
      }
      assertEquals(400, server.keyCount());
    } finally {
      pool.shutdownNow();
    }
  }
}
