package io.te4j.metadata.etcd;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.MetadataKeys;
import io.te4j.api.SegmentDescriptor;
import io.te4j.core.json.JsonCodec;
import io.te4j.testkit.TestStoreContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A one-off scale measurement, not a test: publishes 10,000 segment descriptors through one store,
 * reads them cold from a second store, and times put-to-watch-callback between two stores.
 *
 * <p>Run: {@code java -cp <test class path> io.te4j.metadata.etcd.EtcdScaleBench [host:port]};
 * without an endpoint it starts its own etcd with {@link EtcdTestServer}.
 */
// Watches are held open by try-with-resources without being referenced.
@SuppressWarnings("try")
public final class EtcdScaleBench {
  private static final int SEGMENTS = 10_000;
  private static final int THREADS = 8;
  private static final int LATENCY_SAMPLES = 100;

  private EtcdScaleBench() {}

  public static void main(String[] args) throws Exception {
    EtcdTestServer own = args.length == 0 ? EtcdTestServer.start() : null;
    String endpoint = own != null ? own.endpoint() : args[0];
    TestStoreContext ctx = TestStoreContext.of("bench", Duration.ofSeconds(10));
    MetadataKeys keys = MetadataKeys.forCluster("bench");
    String[] json = new String[SEGMENTS];
    for (int i = 0; i < SEGMENTS; i++) {
      String name = "10.0." + (i / 250) + "." + (i % 250) + ":15001";
      SegmentDescriptor d = SegmentDescriptor.builder(name, "tcp").attribute("tcp_data_port", 16001)
          .attribute("tcp_proto_version", 2).timestamp(JsonCodec.timestampNow())
          .addBuffer(BufferDescriptor.of(name, 0x7f0000000000L + i * (64L << 20), 64L << 20))
          .build();
      json[i] = JsonCodec.descriptorToJson(d);
    }
    System.out.printf("etcd %s, %d descriptors of %d bytes each%n", endpoint, SEGMENTS,
        json[0].length());
    try (EtcdMetadataStore writer = (EtcdMetadataStore) new EtcdMetadataStoreProvider()
        .create(endpoint, ctx);
        EtcdMetadataStore reader = (EtcdMetadataStore) new EtcdMetadataStoreProvider()
            .create(endpoint, ctx);
        EtcdMetadataStore watcher = (EtcdMetadataStore) new EtcdMetadataStoreProvider()
            .create(endpoint, ctx)) {
      // Publish: half one caller after another, half from 8 threads.
      int half = SEGMENTS / 2;
      long t0 = System.nanoTime();
      for (int i = 0; i < half; i++) {
        writer.put(keys.segmentKey(name(i)), json[i]);
      }
      report("put, 1 thread", half, System.nanoTime() - t0);
      t0 = System.nanoTime();
      parallel(half, SEGMENTS, i -> writer.put(keys.segmentKey(name(i)), json[i]));
      report("put, " + THREADS + " threads", SEGMENTS - half, System.nanoTime() - t0);

      // Cold reads from a second store.
      t0 = System.nanoTime();
      for (int i = 0; i < half; i++) {
        if (!reader.get(keys.segmentKey(name(i))).orElseThrow().equals(json[i])) {
          throw new IllegalStateException("wrong value for " + name(i));
        }
      }
      report("cold get, 1 thread", half, System.nanoTime() - t0);
      t0 = System.nanoTime();
      parallel(half, SEGMENTS, i -> {
        if (!reader.get(keys.segmentKey(name(i))).orElseThrow().equals(json[i])) {
          throw new IllegalStateException("wrong value for " + name(i));
        }
      });
      report("cold get, " + THREADS + " threads", SEGMENTS - half, System.nanoTime() - t0);

      // Put on one store to the watch callback of another.
      ConcurrentHashMap<String, CountDownLatch> waiting = new ConcurrentHashMap<>();
      try (AutoCloseable w = watcher.watch(keys.prefix(), k -> {
        CountDownLatch l = waiting.get(k);
        if (l != null) {
          l.countDown();
        }
      })) {
        long[] micros = new long[LATENCY_SAMPLES];
        for (int i = 0; i < LATENCY_SAMPLES; i++) {
          String key = keys.segmentKey(name(i));
          CountDownLatch l = new CountDownLatch(1);
          waiting.put(key, l);
          long start = System.nanoTime();
          writer.put(key, json[i]);
          if (!l.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no watch callback for " + key);
          }
          micros[i] = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
          waiting.remove(key);
        }
        Arrays.sort(micros);
        System.out.printf("put -> watch callback on another store: median %d us, p90 %d us, "
            + "max %d us (%d samples)%n", micros[LATENCY_SAMPLES / 2],
            micros[LATENCY_SAMPLES * 9 / 10], micros[LATENCY_SAMPLES - 1], LATENCY_SAMPLES);
      }
      long t1 = System.nanoTime();
      writer.close(); // one revoke removes all 10,000 keys
      System.out.printf("close (revoke, %d keys vanish): %d ms%n", SEGMENTS,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1));
    } finally {
      if (own != null) {
        own.close();
      }
    }
  }

  private static String name(int i) {
    return "10.0." + (i / 250) + "." + (i % 250) + ":15001";
  }

  private interface IndexTask {
    void run(int i);
  }

  private static void parallel(int from, int to, IndexTask task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<?>> fs = new ArrayList<>();
      int per = (to - from + THREADS - 1) / THREADS;
      for (int t = 0; t < THREADS; t++) {
        int lo = from + t * per;
        int hi = Math.min(to, lo + per);
        fs.add(pool.submit(() -> {
          for (int i = lo; i < hi; i++) {
            task.run(i);
          }
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void report(String what, int n, long nanos) {
    System.out.printf("%-22s %6d ops in %6d ms = %8.0f ops/s%n", what, n,
        TimeUnit.NANOSECONDS.toMillis(nanos), n / (nanos / 1e9));
  }
}
