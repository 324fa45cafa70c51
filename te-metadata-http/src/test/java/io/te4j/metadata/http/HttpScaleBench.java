package io.te4j.metadata.http;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.MetadataKeys;
import io.te4j.api.SegmentDescriptor;
import io.te4j.core.json.JsonCodec;
import io.te4j.testkit.TestStoreContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A one-off scale measurement, not a test: one store publishes N small descriptors through an
 * in-process {@link HttpMetadataServer} on loopback, then a second store instance (nothing
 * cached: the HTTP store has no cache) gets every one back, first from one thread, then from
 * several. There is no watch, so there is no change latency to measure.
 *
 * <p>Arguments: [descriptors, default 10000] [reader threads, default 8] [server URL, default an
 * in-process server]. Run from the module folder after {@code test-compile}, with the test class
 * path.
 */
public final class HttpScaleBench {
  private HttpScaleBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    HttpMetadataServer server = args.length > 2 ? null
        : HttpMetadataServer.start("127.0.0.1", 0, "/metadata", Duration.ZERO);
    String url = args.length > 2 ? args[2] : "http://127.0.0.1:" + server.port() + "/metadata";
    MetadataKeys keys = MetadataKeys.forCluster(null);
    String[] names = new String[n];
    String[] values = new String[n];
    for (int i = 0; i < n; i++) {
      names[i] = "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255) + ":15000";
      SegmentDescriptor d = SegmentDescriptor.builder(names[i], "tcp").attribute("tcp_data_port", 16000)
          .attribute("tcp_proto_version", 2)
          .buffers(List.of(BufferDescriptor.of(names[i], 0x7f0000000000L + ((long) i << 20),
              64L << 20)))
          .timestamp(JsonCodec.timestampNow()).build();
      values[i] = JsonCodec.descriptorToJson(d);
    }
    System.out.printf("descriptors: %d, %d bytes each (first: %s)%n", n, values[0].length(),
        values[0]);
    // The refresh is off so it cannot interleave with the timed loops; with it on, every
    // period costs one PUT per key held.
    try (HttpMetadataStore writer = HttpMetadataStore.connect(url, new TestStoreContext("writer")
        .with(HttpMetadataStore.REFRESH_SECONDS, "0"));
        HttpMetadataStore reader = HttpMetadataStore.connect(url, new TestStoreContext("reader")
            .with(HttpMetadataStore.REFRESH_SECONDS, "0"))) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        writer.put(keys.segmentKey(names[i]), values[i]);
      }
      long publish = System.nanoTime() - t0;
      System.out.printf("publish, 1 thread: %.2f s, %.0f puts/s%n", publish / 1e9,
          n / (publish / 1e9));

      long[] latencies = new long[n];
      int wrong = 0;
      t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        long s = System.nanoTime();
        Optional<String> v = reader.get(keys.segmentKey(names[i]));
        latencies[i] = System.nanoTime() - s;
        if (!v.equals(Optional.of(values[i]))) {
          wrong++;
        }
      }
      long cold = System.nanoTime() - t0;
      Arrays.sort(latencies);
      System.out.printf("cold gets, 1 thread: %.2f s, %.0f gets/s, p50 %d us, p99 %d us,"
          + " max %d us, wrong %d%n", cold / 1e9, n / (cold / 1e9), latencies[n / 2] / 1000,
          latencies[(int) (n * 0.99)] / 1000, latencies[n - 1] / 1000, wrong);

      ExecutorService pool = Executors.newFixedThreadPool(threads);
      AtomicInteger next = new AtomicInteger();
      AtomicInteger wrongParallel = new AtomicInteger();
      t0 = System.nanoTime();
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        jobs.add(pool.submit(() -> {
          for (int i; (i = next.getAndIncrement()) < n; ) {
            if (!reader.get(keys.segmentKey(names[i])).equals(Optional.of(values[i]))) {
              wrongParallel.incrementAndGet();
            }
          }
        }));
      }
      for (Future<?> f : jobs) {
        f.get();
      }
      long parallel = System.nanoTime() - t0;
      pool.shutdown();
      System.out.printf("gets, %d threads: %.2f s, %.0f gets/s, wrong %d%n", threads,
          parallel / 1e9, n / (parallel / 1e9), wrongParallel.get());
      if (server != null) {
        System.out.printf("server holds %d keys%n", server.keyCount());
      }
      // Closing deletes what the writer still holds, within one operation timeout in all.
      t0 = System.nanoTime();
      writer.close();
      System.out.printf("writer close (DELETE of its keys): %.2f s%n",
          (System.nanoTime() - t0) / 1e9);
    }
    if (server != null) {
      System.out.printf("after close: server holds %d keys%n", server.keyCount());
      server.close();
    }
  }
}
