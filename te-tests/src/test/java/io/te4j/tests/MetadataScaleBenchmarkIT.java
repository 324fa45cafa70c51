package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.SegmentDescriptor;
import io.te4j.core.Engine;
import io.te4j.metadata.etcd.EtcdTestServer;
import io.te4j.metadata.http.HttpMetadataServer;
import io.te4j.transport.tcp.TcpDescriptorFields;
import java.time.Duration;
import java.util.Locale;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Scale of each metadata store through the engine: 10,000 descriptors published by one engine and
 * resolved by another (cold, then cached), and the time from a descriptor change to the other
 * engine seeing it. A measurement, not a check: tagged {@code benchmark}, excluded from the default
 * run; run it with {@code ./mvnw -pl te-tests verify -Dit.test=MetadataScaleBenchmarkIT
 * -Dtest.excludedGroups=}.
 */
@Tag("benchmark")
class MetadataScaleBenchmarkIT {
  private static final int COUNT = 10_000;

  @Test
  void etcd() throws Exception {
    try (EtcdTestServer etcd = EtcdTestServer.start()) {
      measure("etcd", etcd.metadataServer());
    }
  }

  @Test
  void zooKeeper() throws Exception {
    try (TestingServer zk = new TestingServer(true)) {
      measure("zk", "zk://" + zk.getConnectString());
    }
  }

  @Test
  void http() throws Exception {
    try (HttpMetadataServer server =
        HttpMetadataServer.start("127.0.0.1", 0, "/metadata", Duration.ZERO)) {
      measure("http", "http://127.0.0.1:" + server.port() + "/metadata");
    }
  }

  @Test
  void p2pHandshake() {
    // No store: a descriptor is fetched from its engine over the handshake port.
    try (Engine owner = Engines.tcp(); Engine reader = Engines.tcp()) {
      owner.allocate(1 << 20);
      int n = 2_000;
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        reader.refreshSegment(owner.segmentName());
      }
      double cold = n / seconds(t0);
      t0 = System.nanoTime();
      for (int i = 0; i < COUNT * 10; i++) {
        reader.segment(owner.segmentName());
      }
      double cached = COUNT * 10 / seconds(t0);
      System.out.printf(Locale.ROOT, "METADATA p2p: cold lookups %.0f/s, cached %.0f/s%n", cold,
          cached);
    }
  }

  private static void measure(String store, String metadata) throws Exception {
    try (Engine writer = Engine.builder().localHostname("127.0.0.1:" + (30_000 + store.length()))
            .metadataServer(metadata).protocol("tcp").start();
        Engine reader = Engine.builder().localHostname("127.0.0.1:" + (31_000 + store.length()))
            .metadataServer(metadata).protocol("tcp").start()) {
      long t0 = System.nanoTime();
      for (int i = 0; i < COUNT; i++) {
        writer.publishSegment(descriptor("bench-" + i, 16_000));
      }
      double puts = COUNT / seconds(t0);
      t0 = System.nanoTime();
      for (int i = 0; i < COUNT; i++) {
        assertEquals(16_000, TcpDescriptorFields.dataPort(reader.segment("bench-" + i)));
      }
      double cold = COUNT / seconds(t0);
      t0 = System.nanoTime();
      for (int r = 0; r < 10; r++) {
        for (int i = 0; i < COUNT; i++) {
          reader.segment("bench-" + i);
        }
      }
      double cached = COUNT * 10 / seconds(t0);
      // Change one descriptor; poll what the reader's cache answers until it sees the new one.
      long[] seen = new long[20];
      for (int k = 0; k < seen.length; k++) {
        int port = 16_001 + k;
        long c0 = System.nanoTime();
        writer.publishSegment(descriptor("bench-0", port));
        long deadline = c0 + Duration.ofSeconds(5).toNanos();
        while (TcpDescriptorFields.dataPort(reader.segment("bench-0")) != port
            && System.nanoTime() < deadline) {
          Thread.onSpinWait();
        }
        seen[k] = TcpDescriptorFields.dataPort(reader.segment("bench-0")) == port
            ? System.nanoTime() - c0 : -1;
      }
      java.util.Arrays.sort(seen);
      String change = seen[0] < 0 ? "not seen within 5 s (no watch: a cached entry is dropped "
          + "when a transfer to it fails)"
          : String.format(Locale.ROOT, "median %.2f ms", seen[seen.length / 2] / 1e6);
      System.out.printf(Locale.ROOT,
          "METADATA %s: %d descriptors, puts %.0f/s, cold lookups %.0f/s, cached lookups %.0f/s, "
              + "change seen by the peer: %s%n", store, COUNT, puts, cold, cached, change);
    }
  }

  private static SegmentDescriptor descriptor(String name, int port) {
    return SegmentDescriptor.builder(name, "tcp").attribute("tcp_data_port", port).attribute("tcp_proto_version", 2)
        .addBuffer(BufferDescriptor.of(name, 0x7f00_0000_0000L, 64L << 20)).build();
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
