package io.te4j.metadata.zk;

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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A scale measurement, run by hand (not a test): publishes N descriptors through one store, reads
 * them all cold from a second store (one thread, then several), and measures how long a put takes
 * to reach a watch on a third store (median of 100). The ZooKeeper server runs in this JVM.
 *
 * <p>Arguments: [descriptors (10000)] [reader threads (8)].
 */
public final class ZkScaleBench {
  private ZkScaleBench() {}

  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    MetadataKeys keys = MetadataKeys.forCluster(null);
    Duration op = Duration.ofSeconds(10);
    try (ZkServer server = ZkServer.start()) {
      String location = server.connectString();
      ZkMetadataStoreProvider provider = new ZkMetadataStoreProvider();
      ZkMetadataStore writer = (ZkMetadataStore) provider.create(location,
          new TestStoreContext("writer", op));
      try (ZkMetadataStore reader = (ZkMetadataStore) provider.create(location,
              new TestStoreContext("reader", op));
          ZkMetadataStore watcher = (ZkMetadataStore) provider.create(location,
              new TestStoreContext("watcher", op))) {
        String[] json = new String[count];
        for (int i = 0; i < count; i++) {
          String name = "10.0." + (i / 250) + "." + (i % 250) + ":15001";
          json[i] = JsonCodec.descriptorToJson(SegmentDescriptor.builder(name, "tcp")
              .attribute("tcp_data_port", 16001).attribute("tcp_proto_version", 2)
              .addBuffer(BufferDescriptor.of(name, 0x7f0000000000L + i * (1L << 26), 1L << 26))
              .timestamp(JsonCodec.timestampNow()).build());
        }
        System.out.printf("descriptor JSON: %d bytes (e.g. %s)%n", json[0].length(), json[0]);

        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
          writer.put(keys.segmentKey(name(i)), json[i]);
        }
        double putSecs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("put (confirmed, one thread): %d in %.2f s = %.0f/s%n", count, putSecs,
            count / putSecs);

        t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
          Optional<String> v = reader.get(keys.segmentKey(name(i)));
          if (!v.equals(Optional.of(json[i]))) {
            throw new IllegalStateException("wrong value for " + name(i));
          }
        }
        double getSecs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("cold get from a second store, one thread: %d in %.2f s = %.0f/s%n",
            count, getSecs, count / getSecs);

        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
          List<Future<?>> futures = new ArrayList<>();
          t0 = System.nanoTime();
          for (int t = 0; t < threads; t++) {
            int first = t;
            futures.add(pool.submit(() -> {
              for (int i = first; i < count; i += threads) {
                if (reader.get(keys.segmentKey(name(i))).isEmpty()) {
                  throw new IllegalStateException("missing " + name(i));
                }
              }
            }));
          }
          for (Future<?> f : futures) {
            f.get();
          }
          double parSecs = (System.nanoTime() - t0) / 1e9;
          System.out.printf("get from a second store, %d threads: %d in %.2f s = %.0f/s%n",
              threads, count, parSecs, count / parSecs);
        } finally {
          pool.shutdownNow();
        }

        // Watch latency: a third store watches the whole prefix; wait for its initial load.
        ConcurrentHashMap<String, Long> arrivals = new ConcurrentHashMap<>();
        AtomicLong initial = new AtomicLong();
        CountDownLatch loaded = new CountDownLatch(1);
        long watchStart = System.nanoTime();
        AutoCloseable watch = watcher.watch(keys.prefix(), k -> {
          if (k.contains("/probe-")) {
            arrivals.putIfAbsent(k, System.nanoTime());
          } else if (initial.incrementAndGet() >= count) {
            loaded.countDown();
          }
        });
        try {
          if (!loaded.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("watch did not load " + count + " nodes");
          }
          System.out.printf("watch initial load of %d nodes: %.2f s%n", count,
              (System.nanoTime() - watchStart) / 1e9);
          long[] latency = new long[100];
          for (int i = 0; i < latency.length; i++) {
            String key = keys.segmentKey("probe-" + i);
            long start = System.nanoTime();
            writer.put(key, json[i]);
            Long at;
            long deadline = start + TimeUnit.SECONDS.toNanos(10);
            while ((at = arrivals.get(key)) == null && System.nanoTime() < deadline) {
              Thread.onSpinWait();
            }
            if (at == null) {
              throw new IllegalStateException("no watch event for " + key);
            }
            latency[i] = at - start;
          }
          Arrays.sort(latency);
          System.out.printf("put -> watch callback on another store: median %.2f ms, "
                  + "p90 %.2f ms, max %.2f ms (n=100)%n", latency[50] / 1e6, latency[90] / 1e6,
              latency[99] / 1e6);
        } finally {
          watch.close();
        }
        t0 = System.nanoTime();
        writer.close();
        System.out.printf("writer close (session end withdraws %d nodes): %.3f s; %s gone: %b%n",
            count + 100, (System.nanoTime() - t0) / 1e9, name(0),
            reader.get(keys.segmentKey(name(0))).isEmpty());
      } finally {
        writer.close();
      }
    }
  }

  private static String name(int i) {
    return "10.0." + (i / 250) + "." + (i % 250) + ":15001";
  }
}
