package io.te4j.metadata.zk;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.data.Stat;

/**
 * A plain Curator client, as an operator would use one: reads znodes directly, and waits for a
 * condition on the tree, woken by every change a recursive cache sees (and re-checked at least
 * every 100 ms, since a cache rebuilt after an outage reports only version changes).
 */
final class TreeView implements AutoCloseable {
  final CuratorFramework client;
  private final CuratorCache cache;
  private final Object changed = new Object();

  TreeView(String connectString) throws InterruptedException {
    client = CuratorFrameworkFactory.builder().connectString(connectString)
        .sessionTimeoutMs(2_000).connectionTimeoutMs(2_000).retryPolicy(new RetryOneTime(100))
        .build();
    client.start();
    if (!client.blockUntilConnected(10, TimeUnit.SECONDS)) {
      client.close();
      throw new IllegalStateException("plain client cannot reach " + connectString);
    }
    cache = CuratorCache.build(client, "/");
    cache.listenable().addListener((type, before, after) -> {
      synchronized (changed) {
        changed.notifyAll();
      }
    });
    cache.start();
  }

  /** The node's data as text, or empty when there is no node. */
  Optional<String> data(String path) throws Exception {
    Stat stat = client.checkExists().forPath(path);
    if (stat == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(new String(client.getData().forPath(path), StandardCharsets.UTF_8));
    } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
      return Optional.empty();
    }
  }

  /** The node's stat, or null. */
  Stat stat(String path) throws Exception {
    return client.checkExists().forPath(path);
  }

  /** The session holding an ephemeral node: 0 for a persistent node, -1 when there is none. */
  long holder(String path) throws Exception {
    Stat s = stat(path);
    return s == null ? -1 : s.getEphemeralOwner();
  }

  /** Waits until {@code condition} holds, failing with {@code what} after {@code timeout}. */
  void await(Duration timeout, String what, Check condition) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (test(condition)) {
        return;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        fail("within " + timeout.toMillis() + " ms: " + what);
      }
      synchronized (changed) {
        changed.wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
      }
    }
  }

  private static boolean test(Check c) {
    try {
      return c.holds();
    } catch (Exception e) {
      return false; // e.g. connection loss during a restart: try again
    }
  }

  /** A condition that may do ZooKeeper reads. */
  interface Check {
    boolean holds() throws Exception;
  }

  @Override
  public void close() {
    cache.close();
    client.close();
  }
}
