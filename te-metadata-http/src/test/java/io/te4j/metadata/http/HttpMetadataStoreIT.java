package io.te4j.metadata.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.testkit.MetadataStoreContract;
import io.te4j.testkit.TestStoreContext;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client store against the real server over HTTP, and against servers that are away. */
class HttpMetadataStoreIT {
  private static final String JSON = "{\"buffers\":[],\"name\":\"a:1\",\"protocol\":\"tcp\","
      + "\"tcp_data_port\":15001,\"note\":\"\u00e9\u4e2d \\\"q\\\"\"}";

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

  private static HttpMetadataStore connect(String url, TestStoreContext context) {
    return (HttpMetadataStore) new HttpMetadataStoreProvider().create(url, context);
  }

  @Test
  void putGetRemoveRoundTripThroughTheServer() {
    try (HttpMetadataStore a = connect(url, new TestStoreContext("a:1"));
        HttpMetadataStore b = connect(url, new TestStoreContext("b:1"))) {
      a.put("mooncake/ram/a:1", JSON);
      a.put("mooncake/rpc_meta/a:1", "{\"ip_or_host_name\":\"127.0.0.1\",\"rpc_port\":15001}");
      assertEquals(Optional.of(JSON), b.get("mooncake/ram/a:1"));
      assertEquals(2, server.keyCount());
      a.put("mooncake/ram/a:1", "{\"v\":2}");
      assertEquals(Optional.of("{\"v\":2}"), b.get("mooncake/ram/a:1"));
      a.remove("mooncake/ram/a:1");
      assertEquals(Optional.empty(), b.get("mooncake/ram/a:1"));
      a.remove("mooncake/ram/a:1"); // absent: no error
    }
    // Closing removed what a still held.
    assertEquals(0, server.keyCount());
  }

  @Test
  void unknownKeyIsEmpty() {
    try (HttpMetadataStore s = connect(url, new TestStoreContext("a:1"))) {
      assertEquals(Optional.empty(), s.get("mooncake/ram/nobody:1"));
    }
  }

  @Test
  void anotherEnginesRpcMetaIsRefusedAndOursKept() {
    try (HttpMetadataStore a = connect(url, new TestStoreContext("a:1"));
        HttpMetadataStore b = connect(url, new TestStoreContext("b:1"))) {
      a.put("mooncake/rpc_meta/x:1", "{\"rpc_port\":1}");
      TransferException e = assertThrows(TransferException.class,
          () -> b.put("mooncake/rpc_meta/x:1", "{\"rpc_port\":2}"));
      assertEquals(ErrorCode.METADATA, e.errorCode());
      assertTrue(e.getMessage().contains("HTTP 400")
          && e.getMessage().contains("Duplicate rpc_meta key"), e.getMessage());
      b.remove("mooncake/rpc_meta/x:1"); // not b's: left alone
      assertEquals(Optional.of("{\"rpc_port\":1}"), b.get("mooncake/rpc_meta/x:1"));
      b.close(); // must not delete a's key either
      assertEquals(Optional.of("{\"rpc_port\":1}"), a.get("mooncake/rpc_meta/x:1"));
    }
  }

  @Test
  void serverDownAtCreateIsMetadataNamingTheUrlAndPromptly() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String down = "http://127.0.0.1:" + port + "/metadata";
    long t0 = System.nanoTime();
    TransferException e = assertThrows(TransferException.class,
        () -> connect(down, new TestStoreContext("a:1", Duration.ofSeconds(2))));
    assertEquals(ErrorCode.METADATA, e.errorCode());
    assertTrue(e.getMessage().contains(down), e.getMessage());
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2 + 3), "not within the bound");
  }

  @Test
  void silentServerIsMetadataWithinTheBound() throws Exception {
    // Accepts connections, reads nothing, answers nothing.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> held = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(silent.accept());
          }
        } catch (IOException e) {
          // closed
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      String mute = "http://127.0.0.1:" + silent.getLocalPort() + "/metadata";
      Duration bound = Duration.ofMillis(500);
      long t0 = System.nanoTime();
      TransferException e = assertThrows(TransferException.class,
          () -> connect(mute, new TestStoreContext("a:1", bound)));
      long took = System.nanoTime() - t0;
      assertEquals(ErrorCode.METADATA, e.errorCode());
      assertTrue(e.getMessage().contains(mute) && e.getMessage().contains("did not answer"),
          e.getMessage());
      assertTrue(took >= bound.toNanos() - TimeUnit.MILLISECONDS.toNanos(50), "gave up early");
      assertTrue(took < bound.toNanos() + TimeUnit.SECONDS.toNanos(3), "not within the bound");
      silent.close();
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void serverGoneAfterCreateIsMetadataOnEachOperation() {
    try (HttpMetadataStore s = connect(url, new TestStoreContext("a:1", Duration.ofSeconds(2)))) {
      s.put("mooncake/ram/a:1", JSON);
      server.close();
      for (Runnable op : List.<Runnable>of(() -> s.get("mooncake/ram/a:1"),
          () -> s.put("mooncake/ram/a:1", JSON), () -> s.remove("mooncake/ram/a:1"))) {
        TransferException e = assertThrows(TransferException.class, op::run);
        assertEquals(ErrorCode.METADATA, e.errorCode());
        assertTrue(e.getMessage().contains(url), e.getMessage());
      }
    }
  }

  @Test
  void refreshRepublishesKeysToAServerThatRestartedEmpty() throws Exception {
    int port = server.port();
    try (HttpMetadataStore s = connect(url, new TestStoreContext("a:1")
        .with(HttpMetadataStore.REFRESH_SECONDS, "1"))) {
      s.put("mooncake/ram/a:1", JSON);
      server.close();
      server = HttpMetadataServer.start("127.0.0.1", port, "/metadata", Duration.ZERO);
      assertEquals(0, server.keyCount());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (server.keyCount() == 0) {
        assertTrue(System.nanoTime() < deadline, "key never re-published");
        Thread.sleep(50);
      }
      assertEquals(Optional.of(JSON), s.get("mooncake/ram/a:1"));
      s.remove("mooncake/ram/a:1");
    }
    assertEquals(0, server.keyCount());
  }

  @Test
  void refreshFollowsTheServersTtlSoLiveKeysStay() throws Exception {
    Duration ttl = Duration.ofMillis(600);
    try (HttpMetadataServer expiring = HttpMetadataServer.start("127.0.0.1", 0, "/metadata", ttl);
        HttpMetadataStore s = connect("http://127.0.0.1:" + expiring.port() + "/metadata",
            new TestStoreContext("a:1"));
        HttpMetadataStore reader = connect("http://127.0.0.1:" + expiring.port() + "/metadata",
            new TestStoreContext("b:1").with(HttpMetadataStore.REFRESH_SECONDS, "0"))) {
      // The default period is 10 s; the server's 600 ms TTL brings it down to 200 ms.
      assertEquals(TimeUnit.MILLISECONDS.toNanos(200), s.refreshPeriodNanos());
      assertEquals(0, reader.refreshPeriodNanos());
      s.put("mooncake/ram/a:1", JSON);
      reader.put("mooncake/ram/b:1", JSON); // nobody refreshes this one
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (reader.get("mooncake/ram/b:1").isPresent()) {
        assertTrue(System.nanoTime() < deadline, "unrefreshed key never expired");
        Thread.sleep(50);
      }
      // b:1 lived at least a TTL; a:1, put just before it, is still there: refreshed.
      assertEquals(Optional.of(JSON), reader.get("mooncake/ram/a:1"));
    }
  }

  @Test
  void tokenFromTheSettingOpensAGuardedServer() {
    try (HttpMetadataServer guarded = HttpMetadataServer.builder().host("127.0.0.1").port(0)
        .authToken("s3cret").start()) {
      String u = "http://127.0.0.1:" + guarded.port() + "/metadata";
      TransferException e = assertThrows(TransferException.class,
          () -> connect(u, new TestStoreContext("a:1")));
      assertEquals(ErrorCode.METADATA, e.errorCode());
      assertTrue(e.getMessage().contains("401") && e.getMessage().contains(HttpMetadataStore.TOKEN),
          e.getMessage());
      try (HttpMetadataStore s = connect(u, new TestStoreContext("a:1")
          .with(HttpMetadataStore.TOKEN, "s3cret"))) {
        s.put("mooncake/ram/a:1", JSON);
        assertEquals(Optional.of(JSON), s.get("mooncake/ram/a:1"));
      }
    }
  }

  @Test
  void wrongPathFailsAtTheFirstPutWithAHint() {
    // A GET's 404 on an unknown path cannot be told from "no such key", so the probe passes;
    // the engine's first PUT (right after create) fails, naming the URL.
    String wrong = "http://127.0.0.1:" + server.port() + "/meta";
    try (HttpMetadataStore s = connect(wrong, new TestStoreContext("a:1"))) {
      TransferException e = assertThrows(TransferException.class,
          () -> s.put("mooncake/ram/a:1", JSON));
      assertEquals(ErrorCode.METADATA, e.errorCode());
      assertTrue(e.getMessage().contains(wrong) && e.getMessage().contains("HTTP 404")
          && e.getMessage().contains("the metadata URL"), e.getMessage());
    }
    assertEquals(0, server.keyCount());
  }

  @Test
  void concurrentPutsAndGetsFromManyThreads() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (HttpMetadataStore s = connect(url, new TestStoreContext("a:1"))) {
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        jobs.add(pool.submit(() -> {
          for (int i = 0; i < 40; i++) {
            String key = "mooncake/ram/" + thread + ":" + i;
            String value = "{\"t\":" + thread + ",\"i\":" + i + "}";
            s.put(key, value);
            assertEquals(Optional.of(value), s.get(key));
          }
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertEquals(320, server.keyCount());
    } finally {
      pool.shutdownNow();
    }
    assertEquals(0, server.keyCount(), "close removes every key the store put");
  }

  @Test
  void closeStopsTheStoresThreads() throws Exception {
    HttpMetadataStore s = connect(url, new TestStoreContext("leak:1")
        .with(HttpMetadataStore.REFRESH_SECONDS, "1"));
    s.put("mooncake/ram/leak:1", JSON);
    assertEquals(Optional.of(JSON), s.get("mooncake/ram/leak:1"));
    assertTrue(threadsNamed("leak:1") > 0);
    s.close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (threadsNamed("leak:1") > 0) {
      assertTrue(System.nanoTime() < deadline, "store threads still alive after close");
      Thread.sleep(20);
    }
    TransferException e = assertThrows(TransferException.class, () -> s.get("k"));
    assertEquals(ErrorCode.METADATA, e.errorCode());
    assertEquals(0, server.keyCount());
  }

  static long threadsNamed(String part) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().contains(part)).count();
  }

  @Test
  void httpsSpeaksTlsSoAPlainServerIsMetadata() {
    // No TLS server here: the plain server cannot answer a ClientHello, so the https store gives
    // up within its bound, naming the URL.
    String tls = "https://127.0.0.1:" + server.port() + "/metadata";
    TransferException e = assertThrows(TransferException.class,
        () -> new HttpsMetadataStoreProvider().create(tls, new TestStoreContext("a:1",
            Duration.ofSeconds(3))));
    assertEquals(ErrorCode.METADATA, e.errorCode());
    assertTrue(e.getMessage().contains(tls), e.getMessage());
    assertEquals(0, server.keyCount());
  }

  @Test
  void valuesArriveAsUtf8() {
    try (HttpMetadataStore s = connect(url, new TestStoreContext("a:1"))) {
      s.put("k", JSON);
      assertEquals(JSON.getBytes(StandardCharsets.UTF_8).length,
          s.get("k").orElseThrow().getBytes(StandardCharsets.UTF_8).length);
    }
  }

  @Test
  void listsKeysThroughTheServersPrefixQuery() {
    try (HttpMetadataStore a = connect(url, new TestStoreContext("a:1"));
        HttpMetadataStore b = connect(url, new TestStoreContext("b:1"))) {
      MetadataStoreContract.listsWhatIsUnderThePrefix(a, b, "mooncake/lst/", true);
    }
  }

  /** The reference's server answers a request without a key with 400: it cannot list. */
  @Test
  void aServerThatCannotListIsNotImplementedAndThereIsNoCompareAndSet() throws Exception {
    com.sun.net.httpserver.HttpServer reference =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    reference.createContext("/metadata", ex -> {
      String query = ex.getRequestURI().getRawQuery();
      boolean keyed = query != null && query.startsWith("key=");
      byte[] body = (keyed ? "metadata not found" : "metadata key is required")
          .getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(keyed ? 404 : 400, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    reference.start();
    try (HttpMetadataStore s = connect("http://127.0.0.1:" + reference.getAddress().getPort()
        + "/metadata", new TestStoreContext("a:1"))) {
      TransferException e = assertThrows(TransferException.class, () -> s.list("mooncake/"));
      assertEquals(ErrorCode.NOT_IMPLEMENTED, e.errorCode());
      assertTrue(e.getMessage().contains("cannot list"), e.getMessage());
      assertEquals(ErrorCode.NOT_IMPLEMENTED, assertThrows(TransferException.class,
          () -> s.compareAndSet("mooncake/x", null, "{}")).errorCode());
    } finally {
      reference.stop(0);
    }
  }
}
