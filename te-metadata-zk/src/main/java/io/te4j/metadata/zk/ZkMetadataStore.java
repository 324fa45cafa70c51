package io.te4j.metadata.zk;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStore;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.CuratorCacheStorage;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metadata in a ZooKeeper ensemble: each key is a znode below the root (see {@link ZkLocation}),
 * its value the UTF-8 bytes of the JSON string.
 *
 * <ul>
 *   <li>Every node {@link #put} writes is EPHEMERAL, owned by this store's session, so it vanishes
 *       when the engine dies; missing parents are created as container nodes. The store remembers
 *       what it put: when the session expires and Curator connects with a new one, and whenever one
 *       of those nodes is deleted by someone else, it is created again with the latest value.
 *   <li>A node already at the key is taken over: a persistent one (which would outlive us) is
 *       replaced by our ephemeral node; one held by another live session (an earlier run of the same
 *       segment that has not timed out yet) gets our value and is re-created as ours as soon as that
 *       session ends.
 *   <li>{@link #get}, {@link #put} and {@link #remove} wait at most the engine's operation timeout;
 *       an unreachable ensemble is a METADATA error naming the connect string. A put that could not
 *       be confirmed stays recorded and is published when the connection comes back.
 *   <li>{@link #watch} runs a Curator {@link CuratorCache} on the prefix's path.
 *   <li>{@link #close} closes the watches and the session; closing the session makes ZooKeeper delete
 *       every ephemeral node of ours in one step.
 * </ul>
 *
 * <p>Curator's {@code PersistentNode} recipe re-creates nodes the same way, but its close deletes in
 * the foreground (unbounded while disconnected), it refuses an update before its first create went
 * through, and it cannot confirm an update; so this class keeps its rules with bounded waits, and
 * one watcher for all of its nodes.
 *
 * <p>Threads: get, put and remove block the caller (bounded). ZooKeeper's event thread completes
 * them and runs the re-publishing; Curator's connection-state thread notices new sessions; watch
 * callbacks all run on Curator's single "safe" notification thread, one at a time.
 */
public final class ZkMetadataStore implements MetadataStore {
  private static final Logger LOG = LoggerFactory.getLogger(ZkMetadataStore.class);

  /** Open stores, so tests in this package can reach an engine's session (e.g. to expire it). */
  static final Set<ZkMetadataStore> OPEN = ConcurrentHashMap.newKeySet();

  private final ZkLocation location;
  private final ZkConfig config;
  private final String owner;
  private final CuratorFramework client;
  /**
   * Curator's notification thread. Ours, since Curator does not stop the one it makes itself when
   * it closes (apache/curator#1277): an engine that closed would leave a thread behind.
   */
  private final ExecutorService notifications;
  private final ConcurrentHashMap<String, Owned> owned = new ConcurrentHashMap<>();
  private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
  private final CuratorWatcher nodeWatcher = this::ownedNodeEvent;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile long sessionId;
  /** The session before the last new one: the server may still hold our nodes under it. */
  private volatile long previousSessionId;

  /** A node this store put: the value it should hold, and whether the ensemble confirmed it. */
  private static final class Owned {
    volatile byte[] data;
    volatile boolean confirmed;
    volatile boolean removed;
    volatile boolean warnedForeign;
    /** Another engine wrote the node since our last confirmed write: it is not ours to re-create. */
    volatile boolean superseded;

    Owned(byte[] data) {
      this.data = data;
    }
  }

  private record Watch(CuratorCache cache, String prefix, Consumer<String> onChange) {}

  private ZkMetadataStore(ZkLocation location, ZkConfig config, String owner,
      CuratorFramework client, ExecutorService notifications) {
    this.location = location;
    this.config = config;
    this.owner = owner;
    this.client = client;
    this.notifications = notifications;
  }

  /**
   * Starts a Curator client and waits (at most {@link ZkConfig#startupWaitMillis()}) for its first
   * session.
   *
   * @param owner the engine's segment name, for messages
   * @param threads factory for Curator's threads
   * @throws TransferException METADATA naming the connect string when no session comes up in time
   */
  public static ZkMetadataStore connect(ZkLocation location, ZkConfig config, String owner,
      ThreadFactory threads) {
    ExecutorService notifications = Executors.newSingleThreadExecutor(threads);
    CuratorFramework client = CuratorFrameworkFactory.builder()
        .connectString(location.connectString())
        .sessionTimeoutMs(config.sessionTimeoutMs())
        .connectionTimeoutMs(config.connectionTimeoutMs())
        // Bounded retries: every caller waits at most the operation timeout anyway, and lost
        // writes are redone on reconnect, so a background operation must not retry forever.
        .retryPolicy(new BoundedExponentialBackoffRetry(100, 1_000, 3))
        // Keep the ensemble the user named (and our messages naming it) instead of following
        // the ensemble's dynamic configuration.
        .ensembleTracker(false)
        .threadFactory(threads)
        .runSafeService(notifications)
        .build();
    ZkMetadataStore store = new ZkMetadataStore(location, config, owner, client, notifications);
    client.getConnectionStateListenable().addListener((c, state) -> store.connectionChanged(state));
    long waitMs = config.startupWaitMillis();
    boolean connected;
    try {
      client.start();
      connected = client.blockUntilConnected((int) Math.min(Integer.MAX_VALUE, waitMs),
          TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      store.closeClient();
      throw new TransferException(ErrorCode.METADATA,
          "interrupted while connecting to ZooKeeper " + location.connectString(), e);
    } catch (RuntimeException e) {
      store.closeClient();
      throw new TransferException(ErrorCode.METADATA,
          "cannot connect to ZooKeeper " + location.connectString() + ": " + e, e);
    }
    if (!connected) {
      store.closeClient();
      throw new TransferException(ErrorCode.METADATA, "ZooKeeper ensemble "
          + location.connectString() + " not reachable within " + waitMs + " ms");
    }
    store.sessionId = store.currentSession();
    OPEN.add(store);
    LOG.info("{}: metadata in ZooKeeper {} (session 0x{}, timeout {} ms)", owner, location,
        Long.toHexString(store.sessionId), config.sessionTimeoutMs());
    return store;
  }

  /** Where this store lives. */
  public ZkLocation location() {
    return location;
  }

  /**
   * {@inheritDoc}
   *
   * @throws TransferException INVALID_ARGUMENT for a key that is no znode path, METADATA when the
   *     ensemble does not answer in time, MALFORMED_JSON when the node's bytes are not UTF-8
   */
  @Override
  public Optional<String> get(String key) {
    String path = location.pathOf(key);
    ensureOpen();
    CompletableFuture<Optional<byte[]>> answer = new CompletableFuture<>();
    try {
      client.getData().inBackground((c, event) -> {
        int rc = event.getResultCode();
        if (rc == KeeperException.Code.OK.intValue()) {
          byte[] data = event.getData();
          answer.complete(Optional.of(data == null ? new byte[0] : data));
        } else if (rc == KeeperException.Code.NONODE.intValue()) {
          answer.complete(Optional.empty());
        } else {
          answer.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), path));
        }
      }).forPath(path);
    } catch (Exception e) {
      answer.completeExceptionally(e);
    }
    Optional<byte[]> bytes = await(answer, "get of " + key, "");
    return bytes.map(b -> decode(key, b));
  }

  /**
   * Writes an ephemeral node and waits, at most the operation timeout, until the ensemble confirms
   * it.
   *
   * @throws TransferException INVALID_ARGUMENT for a key that is no znode path, METADATA when it is
   *     not confirmed in time (the value stays recorded and is published once the session is back)
   *     or the ensemble refuses it
   */
  @Override
  public void put(String key, String value) {
    String path = location.pathOf(key);
    Objects.requireNonNull(value, "value");
    ensureOpen();
    byte[] data = value.getBytes(StandardCharsets.UTF_8);
    Owned o = owned.compute(path, (p, old) -> {
      if (old == null) {
        return new Owned(data);
      }
      old.data = data;
      old.confirmed = false;
      return old;
    });
    await(publish(path, o, true), "put of " + key,
        "; the value stays recorded and is published when the session is back");
  }

  /**
   * Deletes the node (whether or not this store put it) and stops re-creating it.
   *
   * @throws TransferException METADATA when the deletion is not confirmed in time (Curator keeps
   *     retrying it; an ephemeral node also goes with the session)
   */
  @Override
  public void remove(String key) {
    String path = location.pathOf(key);
    Owned o = owned.remove(path);
    if (o != null) {
      o.removed = true;
    }
    if (closed.get()) {
      return; // closing the session already deleted what we owned
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      client.delete().guaranteed().inBackground((c, event) -> {
        int rc = event.getResultCode();
        if (rc == KeeperException.Code.OK.intValue()
            || rc == KeeperException.Code.NONODE.intValue()) {
          done.complete(null);
        } else {
          done.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), path));
        }
      }).forPath(path);
    } catch (Exception e) {
      done.completeExceptionally(e);
    }
    await(done, "remove of " + key, "");
  }

  /**
   * Walks the subtree under {@code prefix}'s last {@code /}: every node holding data whose key
   * starts with {@code prefix}. Each read is bounded by the operation timeout.
   */
  @Override
  public SortedMap<String, String> list(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    ensureOpen();
    int slash = prefix.lastIndexOf('/');
    String top = location.pathOfPrefix(slash < 0 ? "" : prefix.substring(0, slash));
    SortedMap<String, String> out = new TreeMap<>();
    java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(top));
    while (!todo.isEmpty()) {
      String path = todo.pop();
      String key = location.keyOf(path);
      if (key != null && key.startsWith(prefix)) {
        Optional<Versioned> v = read(path, "list " + prefix);
        v.filter(x -> x.data.length > 0).ifPresent(x -> out.put(key, decode(key, x.data)));
      }
      for (String child : children(path, "list " + prefix)) {
        todo.push(path.equals("/") ? "/" + child : path + "/" + child);
      }
    }
    return out;
  }

  /**
   * Creates the node (ephemeral, ours) when {@code expected} is null, else replaces its data at the
   * version read along with {@code expected}: ZooKeeper refuses either when another session got
   * there first. A node set this way is owned and re-published like one {@link #put} wrote.
   */
  @Override
  public boolean compareAndSet(String key, String expected, String value) {
    String path = location.pathOf(key);
    Objects.requireNonNull(value, "value");
    ensureOpen();
    byte[] data = value.getBytes(StandardCharsets.UTF_8);
    String what = "compare-and-set of " + key;
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    try {
      if (expected == null) {
        client.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL)
            .inBackground((c, e) -> settle(done, e.getResultCode(),
                KeeperException.Code.NODEEXISTS, path))
            .forPath(path, data);
      } else {
        Optional<Versioned> now = read(path, what);
        if (now.isEmpty() || !new String(now.get().data, StandardCharsets.UTF_8).equals(expected)) {
          return false;
        }
        client.setData().withVersion(now.get().version)
            .inBackground((c, e) -> settle(done, e.getResultCode(),
                KeeperException.Code.BADVERSION, path))
            .forPath(path, data);
      }
    } catch (Exception e) {
      done.completeExceptionally(e);
    }
    if (!await(done, what, "")) {
      return false;
    }
    Owned o = new Owned(data);
    o.confirmed = true;
    owned.put(path, o);
    watchOwned(path);
    return true;
  }

  /** OK completes {@code done} with true, {@code lost} (someone else won) with false. */
  private static void settle(CompletableFuture<Boolean> done, int rc, KeeperException.Code lost,
      String path) {
    if (rc == KeeperException.Code.OK.intValue()) {
      done.complete(true);
    } else if (rc == lost.intValue() || rc == KeeperException.Code.NONODE.intValue()) {
      done.complete(false);
    } else {
      done.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), path));
    }
  }

  /** A node's bytes and data version. */
  private record Versioned(byte[] data, int version) {}

  private Optional<Versioned> read(String path, String what) {
    CompletableFuture<Optional<Versioned>> answer = new CompletableFuture<>();
    try {
      client.getData().inBackground((c, event) -> {
        int rc = event.getResultCode();
        if (rc == KeeperException.Code.OK.intValue()) {
          byte[] d = event.getData();
          answer.complete(Optional.of(new Versioned(d == null ? new byte[0] : d,
              event.getStat() == null ? -1 : event.getStat().getVersion())));
        } else if (rc == KeeperException.Code.NONODE.intValue()) {
          answer.complete(Optional.empty());
        } else {
          answer.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), path));
        }
      }).forPath(path);
    } catch (Exception e) {
      answer.completeExceptionally(e);
    }
    return await(answer, what, "");
  }

  private List<String> children(String path, String what) {
    CompletableFuture<List<String>> answer = new CompletableFuture<>();
    try {
      client.getChildren().inBackground((c, event) -> {
        int rc = event.getResultCode();
        if (rc == KeeperException.Code.OK.intValue()) {
          answer.complete(event.getChildren() == null ? List.of() : event.getChildren());
        } else if (rc == KeeperException.Code.NONODE.intValue()) {
          answer.complete(List.of());
        } else {
          answer.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), path));
        }
      }).forPath(path);
    } catch (Exception e) {
      answer.completeExceptionally(e);
    }
    return await(answer, what, "");
  }

  /**
   * Calls {@code onChange} with the key of every node under {@code prefix} that is created, changed
   * or deleted (nodes already there count as created when the cache first loads), and with every
   * known key after a reconnect, since changes made during an outage can go unseen. Runs on
   * Curator's notification thread; {@code onChange} must be quick.
   */
  @Override
  public AutoCloseable watch(String prefix, Consumer<String> onChange) {
    Objects.requireNonNull(onChange, "onChange");
    String path = location.pathOfPrefix(prefix);
    String keyPrefix = prefix == null ? "" : prefix;
    ensureOpen();
    CuratorCache cache = CuratorCache.builder(client, path)
        .withStorage(CuratorCacheStorage.dataNotCached()) // we only need the paths
        .withExceptionHandler(e -> LOG.debug("{}: watch on {}: {}", owner, path, e.toString()))
        .build();
    Watch w = new Watch(cache, keyPrefix, onChange);
    CuratorCacheListener listener = (type, before, after) -> {
      ChildData node = after != null ? after : before;
      if (node != null) {
        deliver(w, node.getPath());
      }
    };
    cache.listenable().addListener(listener);
    watches.add(w);
    cache.start();
    return () -> {
      if (watches.remove(w)) {
        cache.close();
      }
    };
  }

  /**
   * Closes the watches and the ZooKeeper session, which deletes this store's ephemeral nodes at the
   * server. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    OPEN.remove(this);
    for (Watch w : watches) {
      w.cache().close();
    }
    watches.clear();
    for (Owned o : owned.values()) {
      o.removed = true;
    }
    int count = owned.size();
    owned.clear();
    closeClient();
    LOG.info("{}: ZooKeeper session closed, {} node(s) withdrawn", owner, count);
  }

  /** Closes the Curator client, then its notification thread. */
  private void closeClient() {
    try {
      client.close();
    } finally {
      notifications.shutdownNow();
    }
  }

  // ------------------------------------------------------------------ for tests in this package

  /** The Curator client, for tests that expire the session. */
  CuratorFramework curator() {
    return client;
  }

  /** The engine's segment name this store belongs to. */
  String owner() {
    return owner;
  }

  // ------------------------------------------------------------------ publishing

  /**
   * Creates or updates the node with {@code o}'s current value. Completes when ZooKeeper confirmed
   * it (runs on ZooKeeper's event thread), or exceptionally with the KeeperException.
   *
   * @param takeOver whether a persistent node found at the path may be replaced by ours
   */
  private CompletableFuture<Void> publish(String path, Owned o, boolean takeOver) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    byte[] data = o.data;
    try {
      client.create().orSetData().creatingParentContainersIfNeeded()
          .withMode(CreateMode.EPHEMERAL)
          .inBackground((c, event) -> published(path, o, data, takeOver, event, done))
          .forPath(path, data);
    } catch (Exception e) {
      o.confirmed = false;
      done.completeExceptionally(e);
    }
    return done;
  }

  private void published(String path, Owned o, byte[] data, boolean takeOver, CuratorEvent event,
      CompletableFuture<Void> done) {
    int rc = event.getResultCode();
    if (o.removed || closed.get()) {
      if (rc == KeeperException.Code.OK.intValue() && !closed.get()) {
        deleteQuietly(path); // written after its removal was asked for: undo
      }
      done.complete(null);
      return;
    }
    if (rc != KeeperException.Code.OK.intValue()) {
      o.confirmed = false;
      done.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), path));
      return;
    }
    Stat stat = event.getStat();
    long holder = stat == null ? sessionId : stat.getEphemeralOwner();
    if (holder == 0 && stat != null && takeOver) {
      // A persistent node would outlive this engine: replace it with our ephemeral one.
      LOG.info("{}: replacing persistent node {} with an ephemeral one", owner, path);
      try {
        client.delete().withVersion(stat.getVersion()).inBackground((c, e) ->
            forward(publish(path, o, false), done)).forPath(path);
      } catch (Exception e) {
        done.completeExceptionally(e);
      }
      return;
    }
    if (holder != 0 && holder != currentSession()) {
      if (holder == previousSessionId) {
        LOG.info("{}: node {} is still held by our previous session 0x{}; it becomes ours when "
            + "the server ends that session", owner, path, Long.toHexString(holder));
      } else if (!o.warnedForeign) {
        o.warnedForeign = true;
        LOG.warn("{}: node {} is held by session 0x{} (an earlier run of this segment?); it "
            + "carries our value and becomes ours when that session ends", owner, path,
            Long.toHexString(holder));
      }
    }
    watchOwned(path);
    if (o.data != data) {
      forward(publish(path, o, takeOver), done); // a newer value arrived meanwhile
      return;
    }
    o.confirmed = true;
    done.complete(null);
  }

  /** Arms a watch that re-creates the node if it is deleted while we still own it. */
  private void watchOwned(String path) {
    try {
      client.checkExists().usingWatcher(nodeWatcher).inBackground((c, event) -> {
        if (event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
          ownedNodeGone(path);
        }
      }).forPath(path);
    } catch (Exception e) {
      LOG.debug("{}: cannot watch {}: {}", owner, path, e.toString());
    }
  }

  private void ownedNodeEvent(WatchedEvent event) {
    String path = event.getPath();
    if (path == null || closed.get()) {
      return;
    }
    switch (event.getType()) {
      case NodeDeleted -> ownedNodeGone(path);
      case NodeCreated -> {
        if (owned.containsKey(path)) {
          watchOwned(path); // watches fire once: re-arm
        }
      }
      case NodeDataChanged -> {
        Owned o = owned.get(path);
        if (o != null) {
          // With no write of ours in flight, another engine wrote the key (put or
          // compare-and-set): it is theirs now, unless it holds our bytes after all.
          if (o.confirmed) {
            o.superseded = true;
            checkSuperseded(path, o);
          }
          watchOwned(path);
        }
      }
      default -> { }
    }
  }

  /** Clears {@code superseded} when the node holds our bytes after all (the same value). */
  private void checkSuperseded(String path, Owned o) {
    try {
      client.getData().inBackground((c, event) -> {
        if (event.getResultCode() == KeeperException.Code.OK.intValue()
            && java.util.Arrays.equals(event.getData(), o.data)) {
          o.superseded = false;
        }
      }).forPath(path);
    } catch (Exception e) {
      LOG.debug("{}: cannot read {}: {}", owner, path, e.toString());
    }
  }

  private void ownedNodeGone(String path) {
    Owned o = owned.get(path);
    if (o == null || closed.get()) {
      return;
    }
    if (o.superseded) {
      owned.remove(path, o);
      LOG.info("{}: node {} was written by another engine, then deleted; not publishing it "
          + "again", owner, path);
      return;
    }
    o.confirmed = false;
    LOG.info("{}: node {} vanished; publishing it again", owner, path);
    publish(path, o, true).whenComplete((v, e) -> logFailure(path, e));
  }

  private void connectionChanged(ConnectionState state) {
    if (closed.get()) {
      return;
    }
    switch (state) {
      case RECONNECTED -> {
        long now = currentSession();
        boolean newSession = now != sessionId;
        if (newSession) {
          previousSessionId = sessionId;
        }
        sessionId = now;
        republish(newSession);
        invalidateWatched();
      }
      case LOST -> LOG.warn("{}: ZooKeeper session at {} lost; {} node(s) are published again when "
          + "a new session is up", owner, location, owned.size());
      case SUSPENDED -> LOG.info("{}: connection to ZooKeeper {} suspended", owner, location);
      default -> { }
    }
  }

  /** After a new session every node is gone; after a short outage only unconfirmed writes. */
  private void republish(boolean all) {
    int n = 0;
    for (var e : owned.entrySet()) {
      Owned o = e.getValue();
      if (all || !o.confirmed) {
        o.confirmed = false;
        String path = e.getKey();
        publish(path, o, true).whenComplete((v, ex) -> logFailure(path, ex));
        n++;
      }
    }
    if (n > 0) {
      LOG.info("{}: {} session 0x{}: publishing {} node(s) again", owner,
          all ? "new" : "resumed", Long.toHexString(sessionId), n);
    }
  }

  /** Tells every watcher about every node its cache knows: the outage may have hidden changes. */
  private void invalidateWatched() {
    for (Watch w : watches) {
      client.runSafe(() -> w.cache().stream().forEach(d -> deliver(w, d.getPath())));
    }
  }

  private void deliver(Watch w, String path) {
    String key = location.keyOf(path);
    if (key == null || !key.startsWith(w.prefix()) || !watches.contains(w)) {
      return;
    }
    try {
      w.onChange().accept(key);
    } catch (RuntimeException e) {
      LOG.warn("{}: watch callback for {} failed", owner, key, e);
    }
  }

  // ------------------------------------------------------------------ helpers

  private void deleteQuietly(String path) {
    try {
      client.delete().guaranteed().inBackground().forPath(path);
    } catch (Exception e) {
      LOG.debug("{}: cannot delete {}: {}", owner, path, e.toString());
    }
  }

  private void logFailure(String path, Throwable e) {
    if (e != null && !closed.get()) {
      LOG.warn("{}: publishing {} failed ({}); retried when the connection is back", owner, path,
          e.toString());
    }
  }

  private static void forward(CompletableFuture<Void> from, CompletableFuture<Void> to) {
    from.whenComplete((v, e) -> {
      if (e != null) {
        to.completeExceptionally(e);
      } else {
        to.complete(null);
      }
    });
  }

  private long currentSession() {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return 0;
    }
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new TransferException(ErrorCode.METADATA,
          "ZooKeeper store " + location + " of " + owner + " is closed");
    }
  }

  private <T> T await(CompletableFuture<T> future, String what, String afterTimeout) {
    long bound = config.operationTimeoutNanos();
    try {
      return future.get(bound, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      boolean connected = client.getZookeeperClient().isConnected();
      throw new TransferException(ErrorCode.METADATA, what + ": no answer from ZooKeeper "
          + location.connectString() + " within " + TimeUnit.NANOSECONDS.toMillis(bound) + " ms"
          + (connected ? "" : " (not connected)") + afterTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransferException(ErrorCode.METADATA,
          what + ": interrupted while waiting for ZooKeeper " + location.connectString(), e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      String reason = cause instanceof KeeperException ke ? ke.code().toString() : cause.toString();
      throw new TransferException(ErrorCode.METADATA, what + " failed at ZooKeeper "
          + location.connectString() + ": " + reason, cause);
    }
  }

  private static String decode(String key, byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new TransferException(ErrorCode.MALFORMED_JSON,
          "the value of " + key + " is not UTF-8 text (" + bytes.length + " bytes)", e);
    }
  }
}
