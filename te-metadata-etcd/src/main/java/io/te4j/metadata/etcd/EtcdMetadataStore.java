package io.te4j.metadata.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metadata in etcd v3 (jetcd client): keys and values are stored exactly as the engine passes them
 * (the WIRE.md keys, with the cluster id prefix when the engine has one), as UTF-8.
 *
 * <p><b>Location</b>: {@code h1:p1,h2:p2,...} (from {@code etcd://h1:p1,h2:p2} or a bare {@code
 * h:p}); every member is given to the client, which balances over the members that answer, so
 * the store keeps working while one member of a cluster is down. An endpoint may be written
 * {@code http://h:p} or {@code https://h:p}.
 *
 * <p><b>Settings</b> (an engine setting, else a {@code -D} system property, else an environment
 * variable of that exact name; see {@link EtcdStoreConfig}):
 *
 * <ul>
 *   <li>{@code te4j.etcd.leaseTtlSeconds} (default 10): TTL of the one lease everything this store
 *       puts lives under;
 *   <li>{@code te4j.etcd.user}, {@code te4j.etcd.password}: etcd authentication;
 *   <li>{@code te4j.etcd.tls.ca}, {@code te4j.etcd.tls.cert}, {@code te4j.etcd.tls.key}: PEM file
 *       paths; any of them, or an {@code https://} endpoint, turns TLS on (without a CA file the
 *       JDK's trust store is used). The key must be PKCS#8 ({@code openssl genpkey} writes it).
 * </ul>
 *
 * <p><b>Lease</b>: every key {@link #put} writes is attached to one lease, kept alive in the
 * background, so a crashed engine's keys vanish within the TTL. The store remembers what it put;
 * when the lease is lost (it expired while the store was cut off, or etcd restarted and lost it) a
 * new lease is granted and every remembered key is written again under it. A put or remove that
 * fails is still remembered and carried out by the maintenance thread once etcd answers again.
 * {@link #close()} revokes the lease: the keys vanish at once.
 *
 * <p><b>Bounds</b>: {@link #get}, {@link #put} and {@link #remove} return or throw {@link
 * TransferException} with {@link ErrorCode#METADATA} (naming the endpoints) within the engine's
 * operation timeout; so does {@link #open} when no endpoint answers.
 *
 * <p><b>Threads</b>: the callers' threads run get/put/remove (blocking, bounded). jetcd's threads
 * run the lease keep-alive and the watch streams; watch callbacks ({@code onChange}) run on them
 * and must be quick. One maintenance thread of this store (named after the engine, role {@code
 * etcd}) checks the lease, renews it, re-publishes, and re-establishes watches that etcd ended
 * (compaction, lost data, no leader).
 */
public final class EtcdMetadataStore implements MetadataStore {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdMetadataStore.class);
  /** Shortest wait for one attempt before it is given up and tried again. */
  private static final long MIN_ATTEMPT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
  /** Pause between attempts while no member answers. */
  private static final long RETRY_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  /** Delay before re-establishing a watch that etcd ended, so a persistent refusal cannot spin. */
  private static final long WATCH_RESTART_DELAY_MILLIS = 300;
  /** How many re-publishing puts are in flight at once. */
  private static final int REPUBLISH_WINDOW = 128;
  /** The key read at start-up to prove access: the root of every WIRE.md key. */
  private static final String ROOT_KEY = "mooncake/";
  /** Revoking on close waits at most this long: a dead store must not hold up shutdown. */
  private static final long CLOSE_REVOKE_MAX_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final EtcdStoreConfig config;
  private final Client client;
  private final KV kv;
  private final Lease leases;
  private final Watch watches;
  private final ExecutorService clientExecutor;
  private final ScheduledExecutorService maintenance;
  private final long ttlNanos;

  /** What this store put and has not removed: re-published under a new lease. */
  private final ConcurrentHashMap<String, String> published = new ConcurrentHashMap<>();
  /**
   * Puts and removes share it (they run concurrently); re-publication takes it exclusively, so a
   * put still in flight under the old lease finishes before its key is written under the new one,
   * and a removed key is not written again.
   */
  private final ReentrantReadWriteLock publishLock = new ReentrantReadWriteLock();
  private final Object renewLock = new Object();
  private final Set<PrefixWatch> activeWatches = ConcurrentHashMap.newKeySet();
  /** Keys whose last put or remove failed: etcd may differ from {@link #published} there. */
  private final Set<String> pending = ConcurrentHashMap.newKeySet();
  /** Keys seen by get or by a watch: signalled again when a watch lost events. */
  private final Set<String> seenKeys = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicInteger renewals = new AtomicInteger();
  private final ReconnectKicker kicker;
  private volatile LeaseSession session;
  private volatile long lastRenewFailureLogNanos;

  private EtcdMetadataStore(EtcdStoreConfig config, Client client, ExecutorService clientExecutor,
      ScheduledExecutorService maintenance) {
    this.config = config;
    this.client = client;
    this.kv = client.getKVClient();
    this.leases = client.getLeaseClient();
    this.watches = client.getWatchClient();
    this.clientExecutor = clientExecutor;
    this.maintenance = maintenance;
    this.ttlNanos = TimeUnit.SECONDS.toNanos(config.leaseTtlSeconds());
    this.kicker = ReconnectKicker.of(client);
  }

  /**
   * Connects and grants the lease.
   *
   * @param threads makes the store's daemon threads (the engine's, named after it)
   * @throws TransferException METADATA when no endpoint answers within the operation timeout (the
   *     message names the endpoints); INVALID_CONFIGURATION for TLS files that are not usable
   */
  public static EtcdMetadataStore open(EtcdStoreConfig config, ThreadFactory threads) {
    ExecutorService clientExecutor = Executors.newCachedThreadPool(threads);
    Client client;
    try {
      client = buildClient(config, clientExecutor);
    } catch (RuntimeException e) {
      clientExecutor.shutdownNow();
      throw e;
    }
    ScheduledExecutorService maintenance = Executors.newSingleThreadScheduledExecutor(threads);
    EtcdMetadataStore store = new EtcdMetadataStore(config, client, clientExecutor, maintenance);
    try {
      store.start();
      return store;
    } catch (RuntimeException e) {
      store.shutdown(store.session != null); // a lease granted before the failure is revoked
      throw e;
    }
  }

  private static Client buildClient(EtcdStoreConfig config, ExecutorService executor) {
    long timeoutMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(config.operationTimeoutNanos()));
    ClientBuilder b = Client.builder()
        .endpoints(config.endpointUris())
        .executorService(executor)
        // Fail a call at once when no member is connectable; our own loop retries within the
        // deadline, and start-up can say "refused" instead of waiting the whole timeout.
        .waitForReady(false)
        .connectTimeout(Duration.ofMillis(Math.min(timeoutMillis, 3000)))
        .retryMaxDuration(Duration.ofMillis(timeoutMillis));
    if (config.user() != null) {
      b.user(bytes(config.user())).password(bytes(config.password()));
    }
    if (config.tls()) {
      try {
        b.sslContext(ssl -> {
          if (config.caFile() != null) {
            try {
              ssl.trustManager(config.caFile().toFile());
            } catch (IllegalArgumentException e) {
              throw EtcdStoreConfig.invalid(EtcdStoreConfig.TLS_CA, config.caFile()
                  + " holds no usable PEM certificate: " + rootMessage(e));
            }
          }
          if (config.certFile() != null) {
            try {
              ssl.keyManager(config.certFile().toFile(), config.keyFile().toFile());
            } catch (IllegalArgumentException e) {
              throw EtcdStoreConfig.invalid(
                  EtcdStoreConfig.TLS_CERT + "/" + EtcdStoreConfig.TLS_KEY,
                  config.certFile() + " / " + config.keyFile()
                      + " are not a usable PEM certificate and PKCS#8 key: " + rootMessage(e));
            }
          }
        });
      } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
        throw EtcdStoreConfig.invalid("etcd TLS (" + EtcdStoreConfig.TLS_CA + ", "
            + EtcdStoreConfig.TLS_CERT + ", " + EtcdStoreConfig.TLS_KEY + ")",
            "cannot build a TLS context: " + rootMessage(e));
      }
    }
    return b.build();
  }

  private void start() {
    // Fails within the timeout, and at once (after jetcd's own short retries) when refused.
    long id = call("connect (grant a lease of " + config.leaseTtlSeconds() + " s)",
        () -> leases.grant(config.leaseTtlSeconds()),
        System.nanoTime() + config.operationTimeoutNanos(), false).getID();
    LeaseSession s = new LeaseSession(id);
    session = s;
    s.keepAlive = leases.keepAlive(id, s);
    s.republished.complete(null);
    // etcd 3.4 grants leases without checking credentials: a read proves them before any use.
    call("read (check access)", () -> kv.get(bytes(ROOT_KEY),
        GetOption.builder().withCountOnly(true).build()),
        System.nanoTime() + config.operationTimeoutNanos(), false);
    long tickMillis = Math.max(200, Math.min(2000, TimeUnit.NANOSECONDS.toMillis(ttlNanos) / 4));
    maintenance.scheduleWithFixedDelay(this::checkLease, tickMillis, tickMillis,
        TimeUnit.MILLISECONDS);
    LOG.info("etcd store at {}: lease {} ({} s)", config.endpointList(), Long.toHexString(id),
        config.leaseTtlSeconds());
  }

  // ---------------------------------------------------------------- MetadataStore

  @Override
  public Optional<String> get(String key) {
    ensureOpen();
    GetResponse r = call("get " + key, () -> kv.get(bytes(key)),
        System.nanoTime() + config.operationTimeoutNanos(), true);
    List<KeyValue> kvs = r.getKvs();
    if (kvs.isEmpty()) {
      return Optional.empty();
    }
    seenKeys.add(key);
    return Optional.of(kvs.get(0).getValue().toString(StandardCharsets.UTF_8));
  }

  @Override
  public void put(String key, String value) {
    ensureOpen();
    long deadline = System.nanoTime() + config.operationTimeoutNanos();
    published.put(key, value);
    Lock lock = publishLock.readLock();
    LeaseSession s = lockPublishing(lock, deadline, "put " + key);
    try {
      call("put " + key, () -> kv.put(bytes(key), bytes(value), leaseOption(s.id)), deadline,
          true);
      pending.remove(key);
      return;
    } catch (TransferException e) {
      pending.add(key); // the maintenance thread writes it once etcd answers again
      if (!isLeaseNotFound(e.getCause())) {
        throw e;
      }
      s.markLost(true, "etcd no longer knows the lease");
    } finally {
      lock.unlock();
    }
    // The lease is gone: the renewal re-publishes everything remembered, this key included.
    awaitRenewal(s, deadline, "put " + key);
  }

  /** One range read of every key under {@code prefix} (GetOption.isPrefix). */
  @Override
  public SortedMap<String, String> list(String prefix) {
    ensureOpen();
    GetResponse r = call("list " + prefix,
        () -> kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()),
        System.nanoTime() + config.operationTimeoutNanos(), true);
    SortedMap<String, String> out = new TreeMap<>();
    for (KeyValue e : r.getKvs()) {
      String key = e.getKey().toString(StandardCharsets.UTF_8);
      seenKeys.add(key);
      out.put(key, e.getValue().toString(StandardCharsets.UTF_8));
    }
    return out;
  }

  /**
   * One transaction: if the key's value is {@code expected} (or, for null, the key does not exist:
   * version 0), put {@code value} under this store's lease; else read what is there. A retried
   * attempt whose first try went through finds its own value, which counts as success.
   */
  @Override
  public boolean compareAndSet(String key, String expected, String value) {
    ensureOpen();
    Objects.requireNonNull(value, "value");
    long deadline = System.nanoTime() + config.operationTimeoutNanos();
    ByteSequence k = bytes(key);
    Cmp cmp = expected == null ? new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0))
        : new Cmp(k, Cmp.Op.EQUAL, CmpTarget.value(bytes(expected)));
    Lock lock = publishLock.readLock();
    LeaseSession s = lockPublishing(lock, deadline, "compare-and-set " + key);
    try {
      TxnResponse r = call("compare-and-set " + key, () -> kv.txn().If(cmp)
          .Then(Op.put(k, bytes(value), leaseOption(s.id)))
          .Else(Op.get(k, GetOption.DEFAULT)).commit(), deadline, true);
      boolean stored = r.isSucceeded();
      if (!stored) {
        List<KeyValue> now = r.getGetResponses().isEmpty() ? List.of()
            : r.getGetResponses().get(0).getKvs();
        stored = !now.isEmpty() && now.get(0).getValue().equals(bytes(value));
      }
      if (stored) {
        published.put(key, value); // re-published with the lease, like put
        pending.remove(key);
      }
      return stored;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void remove(String key) {
    ensureOpen();
    long deadline = System.nanoTime() + config.operationTimeoutNanos();
    published.remove(key);
    Lock lock = publishLock.readLock();
    lockPublishing(lock, deadline, "remove " + key);
    try {
      call("remove " + key, () -> kv.delete(bytes(key)), deadline, true);
      pending.remove(key);
    } catch (TransferException e) {
      pending.add(key); // deleted by the maintenance thread once etcd answers again
      throw e;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Watches every key under {@code prefix}: {@code onChange} gets the key of each PUT and DELETE,
   * on a jetcd thread. When etcd ends the watch (compaction, lost data, no leader) or the lease had
   * to be renewed (events may have been missed), the watch is established again from the current
   * revision and every key it has seen or now finds is signalled once, so no stale cache survives.
   */
  @Override
  public AutoCloseable watch(String prefix, Consumer<String> onChange) {
    ensureOpen();
    PrefixWatch w = new PrefixWatch(prefix, onChange);
    activeWatches.add(w);
    // Return once etcd confirmed the watch, so every change after this call is reported.
    w.awaitCreated(w.start());
    return w;
  }

  /** Revokes the lease (this store's keys vanish at once) and closes the client. Idempotent. */
  @Override
  public void close() {
    shutdown(true);
  }

  // ---------------------------------------------------------------- for tests and diagnostics

  /** The configuration this store runs with. */
  public EtcdStoreConfig config() {
    return config;
  }

  /** The id of the lease this store's keys live under now. */
  public long leaseId() {
    return session.id;
  }

  /** How often the lease was lost and replaced since start. */
  public int leaseRenewals() {
    return renewals.get();
  }

  // ---------------------------------------------------------------- lease

  /**
   * The state of one granted lease: the keep-alive stream's observer. jetcd calls it on its own
   * threads; it only records and hands work to the maintenance thread.
   */
  private final class LeaseSession implements StreamObserver<LeaseKeepAliveResponse> {
    final long id;
    /** Completes when every remembered key was written under this lease. */
    final CompletableFuture<Void> republished = new CompletableFuture<>();
    volatile CloseableClient keepAlive;
    volatile long lastAckNanos = System.nanoTime();
    volatile boolean lost;

    LeaseSession(long id) {
      this.id = id;
    }

    @Override
    public void onNext(LeaseKeepAliveResponse r) {
      if (r.getTTL() > 0) {
        lastAckNanos = System.nanoTime();
      }
    }

    @Override
    public void onError(Throwable t) {
      if (isLeaseNotFound(t)) {
        markLost(true, "etcd no longer knows the lease");
      } else {
        // jetcd reopens the keep-alive stream itself; the watchdog renews if acks stop too long.
        LOG.debug("etcd lease {} keep-alive stream failed: {}", Long.toHexString(id), t.toString());
      }
    }

    @Override
    public void onCompleted() {
      // jetcd ends the keep-alive when no ack came within the TTL: the lease may have expired.
      markLost(false, "no keep-alive acknowledged within the TTL");
    }

    void markLost(boolean certain, String why) {
      if (closed.get() || session != this || lost) {
        return;
      }
      lost = true;
      LOG.warn("etcd lease {} lost ({}{}); renewing", Long.toHexString(id), why,
          certain ? "" : ", maybe");
      try {
        maintenance.execute(EtcdMetadataStore.this::checkLease);
      } catch (RejectedExecutionException e) {
        // closing
      }
    }
  }

  /** The maintenance thread's periodic task: renew a lost lease, finish a re-publication. */
  private void checkLease() {
    if (closed.get()) {
      return;
    }
    try {
      LeaseSession s = session;
      long sinceAck = System.nanoTime() - s.lastAckNanos;
      if (sinceAck > ttlNanos / 2) {
        // Keep-alives are overdue: etcd may be back while the channel still backs off.
        kicker.kick();
      }
      if (s.lost || sinceAck > ttlNanos) {
        renew(s);
      } else if (!s.republished.isDone()) {
        republish(s);
      } else if (!pending.isEmpty()) {
        flushPending(s);
      }
    } catch (RuntimeException e) {
      LOG.warn("etcd lease maintenance failed: {}", e.toString());
    }
  }

  /** Grants a new lease, moves every remembered key under it, then drops the old one. */
  private void renew(LeaseSession stale) {
    synchronized (renewLock) {
      if (closed.get() || session != stale) {
        return;
      }
      long id;
      try {
        id = call("grant a lease", () -> leases.grant(config.leaseTtlSeconds()),
            System.nanoTime() + config.operationTimeoutNanos(), true).getID();
      } catch (TransferException e) {
        if (closed.get()) {
          return;
        }
        long now = System.nanoTime();
        if (now - lastRenewFailureLogNanos > TimeUnit.SECONDS.toNanos(10)) {
          lastRenewFailureLogNanos = now;
          LOG.warn("etcd lease not renewed yet, retrying: {}", e.getMessage());
        }
        return;
      }
      LeaseSession fresh = new LeaseSession(id);
      session = fresh;
      fresh.keepAlive = leases.keepAlive(id, fresh);
      closeQuietly(stale.keepAlive);
      renewals.incrementAndGet();
      LOG.info("etcd lease {} replaced by {}; re-publishing {} keys", Long.toHexString(stale.id),
          Long.toHexString(id), published.size());
      republish(fresh);
      // Harmless when etcd already dropped it; when it merely looked lost, its keys moved above.
      leases.revoke(stale.id).exceptionally(t -> null);
      // Losing the lease means losing contact for a while, or etcd lost its data (and restarted
      // its revisions): a watch may have missed events or wait for a revision that never comes.
      for (PrefixWatch w : activeWatches) {
        w.restart("the lease was renewed");
      }
    }
  }

  /** Writes every remembered key under {@code s}; on failure the next check tries again. */
  private void republish(LeaseSession s) {
    // Taking the lock once drains puts still in flight under the old lease; every later put
    // writes under the new one. So this snapshot holds all that the old lease may have missed.
    Lock barrier = publishLock.writeLock();
    try {
      lockPublishing(barrier, System.nanoTime() + config.operationTimeoutNanos(), "re-publish");
    } catch (TransferException e) {
      return;
    }
    List<String> keys;
    try {
      keys = new ArrayList<>(published.keySet());
    } finally {
      barrier.unlock();
    }
    for (int from = 0; from < keys.size(); from += REPUBLISH_WINDOW) {
      if (closed.get() || session != s) {
        return;
      }
      long deadline = System.nanoTime() + config.operationTimeoutNanos();
      List<String> window = keys.subList(from, Math.min(keys.size(), from + REPUBLISH_WINDOW));
      Lock lock = publishLock.writeLock();
      try {
        lockPublishing(lock, deadline, "re-publish");
      } catch (TransferException e) {
        return;
      }
      try {
        List<CompletableFuture<?>> puts = new ArrayList<>(window.size());
        List<String> written = new ArrayList<>(window.size());
        for (String key : window) {
          String value = published.get(key);
          if (value != null) {
            puts.add(kv.put(bytes(key), bytes(value), leaseOption(s.id)));
            written.add(key);
          }
        }
        call("re-publish " + window.size() + " keys",
            () -> CompletableFuture.allOf(puts.toArray(new CompletableFuture<?>[0])), deadline,
            false);
        written.forEach(pending::remove);
      } catch (TransferException e) {
        LOG.warn("etcd re-publication under lease {} incomplete, will retry: {}",
            Long.toHexString(s.id), e.getMessage());
        if (isLeaseNotFound(e.getCause())) {
          s.markLost(true, "etcd no longer knows the new lease");
        }
        return;
      } finally {
        lock.unlock();
      }
    }
    s.republished.complete(null);
  }

  /**
   * Writes what failed earlier: each pending key is put again (when still remembered) or deleted.
   * Runs exclusive of puts and removes, so it never overwrites a newer value.
   */
  private void flushPending(LeaseSession s) {
    long deadline = System.nanoTime() + config.operationTimeoutNanos();
    Lock lock = publishLock.writeLock();
    try {
      lockPublishing(lock, deadline, "flush");
    } catch (TransferException e) {
      return;
    }
    try {
      for (String key : new ArrayList<>(pending)) {
        String value = published.get(key);
        if (value != null) {
          call("put " + key, () -> kv.put(bytes(key), bytes(value), leaseOption(s.id)), deadline,
              false);
        } else {
          call("remove " + key, () -> kv.delete(bytes(key)), deadline, false);
        }
        pending.remove(key);
      }
    } catch (TransferException e) {
      LOG.debug("etcd writes still pending: {}", e.getMessage());
      if (isLeaseNotFound(e.getCause())) {
        s.markLost(true, "etcd no longer knows the lease");
      }
    } finally {
      lock.unlock();
    }
  }

  /** Waits until a lease newer than {@code stale} holds every remembered key. */
  private void awaitRenewal(LeaseSession stale, long deadline, String what) {
    while (true) {
      LeaseSession s = session;
      if (s != stale && s.republished.isDone()) {
        return;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 || closed.get()) {
        throw new TransferException(ErrorCode.METADATA, "etcd at " + config.endpointList() + ": "
            + what + ": the lease was lost and not renewed within "
            + TimeUnit.NANOSECONDS.toMillis(config.operationTimeoutNanos()) + " ms");
      }
      if (s != stale) {
        try {
          s.republished.get(left, TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
          // loop: the deadline check reports it
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new TransferException(ErrorCode.METADATA, what + ": interrupted", e);
        }
      } else {
        LockSupport.parkNanos(Math.min(left, RETRY_PAUSE_NANOS));
      }
    }
  }

  /** Takes {@code lock} within the deadline and returns the lease to write under. */
  private LeaseSession lockPublishing(Lock lock, long deadline, String what) {
    try {
      if (!lock.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        throw new TransferException(ErrorCode.METADATA, "etcd at " + config.endpointList() + ": "
            + what + ": timed out behind a re-publication");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransferException(ErrorCode.METADATA, what + ": interrupted", e);
    }
    return session;
  }

  // ---------------------------------------------------------------- watch

  /** One watch of the engine: re-established whenever etcd ends it. */
  private final class PrefixWatch implements AutoCloseable {
    final String prefix;
    final Consumer<String> onChange;
    private volatile Round round;
    private volatile boolean stopped;

    PrefixWatch(String prefix, Consumer<String> onChange) {
      this.prefix = prefix;
      this.onChange = onChange;
    }

    synchronized Round start() {
      if (stopped) {
        return null;
      }
      Round r = new Round();
      round = r;
      r.watcher = watches.watch(bytes(prefix),
          WatchOption.builder().isPrefix(true).withCreateNotify(true).build(), r);
      return r;
    }

    /** Waits (bounded) until etcd confirmed {@code r}; a watch not yet confirmed keeps trying. */
    void awaitCreated(Round r) {
      if (r == null) {
        return;
      }
      try {
        r.created.get(config.operationTimeoutNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        LOG.warn("etcd at {} has not confirmed the watch of {} within {} ms; it keeps trying",
            config.endpointList(), prefix,
            TimeUnit.NANOSECONDS.toMillis(config.operationTimeoutNanos()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Starts over from the current revision and signals every key that may have changed. */
    void restart(String why) {
      Round fresh;
      synchronized (this) {
        if (stopped || closed.get()) {
          return;
        }
        LOG.info("etcd watch of {} re-established: {}", prefix, why);
        Round old = round;
        if (old != null) {
          old.retired = true;
          closeQuietly(old.watcher);
        }
        fresh = start();
      }
      // Listing after the new watch is confirmed leaves no gap between the two.
      awaitCreated(fresh);
      resync();
    }

    private void resync() {
      Set<String> keys = new LinkedHashSet<>();
      for (String k : seenKeys) {
        if (k.startsWith(prefix)) {
          keys.add(k);
        }
      }
      try {
        GetResponse r = call("list " + prefix,
            () -> kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withKeysOnly(true)
                .build()), System.nanoTime() + config.operationTimeoutNanos(), true);
        for (KeyValue kv : r.getKvs()) {
          keys.add(kv.getKey().toString(StandardCharsets.UTF_8));
        }
      } catch (TransferException e) {
        LOG.debug("etcd watch resync listed no keys: {}", e.getMessage());
      }
      for (String k : keys) {
        deliver(k);
      }
    }

    void deliver(String key) {
      if (stopped) {
        return;
      }
      try {
        onChange.accept(key);
      } catch (RuntimeException e) {
        LOG.warn("etcd watch callback failed for {}: {}", key, e.toString());
      }
    }

    @Override
    public void close() {
      synchronized (this) {
        stopped = true;
        Round r = round;
        if (r != null) {
          r.retired = true;
          closeQuietly(r.watcher);
        }
      }
      activeWatches.remove(this);
    }

    /** One jetcd watcher; retired when replaced, so its end is not taken for a failure. */
    private final class Round implements Watch.Listener {
      final CompletableFuture<Void> created = new CompletableFuture<>();
      volatile Watch.Watcher watcher;
      volatile boolean retired;

      @Override
      public void onNext(WatchResponse response) {
        if (response.isCreatedNotify()) {
          created.complete(null);
        }
        if (retired) {
          return;
        }
        for (WatchEvent e : response.getEvents()) {
          if (e.getEventType() == WatchEvent.EventType.PUT
              || e.getEventType() == WatchEvent.EventType.DELETE) {
            String key = e.getKeyValue().getKey().toString(StandardCharsets.UTF_8);
            seenKeys.add(key);
            deliver(key);
          }
        }
      }

      @Override
      public void onError(Throwable t) {
        // jetcd resumes from the last revision after transient errors; for the others (compacted,
        // halted, no leader) it ends the watch next, and onCompleted starts a new one.
        LOG.debug("etcd watch of {} failed: {}", prefix, t.toString());
        kicker.kick();
      }

      @Override
      public void onCompleted() {
        if (retired || stopped || closed.get()) {
          return;
        }
        retired = true;
        try {
          maintenance.schedule(() -> restart("etcd ended the watch"), WATCH_RESTART_DELAY_MILLIS,
              TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
          // closing
        }
      }
    }
  }

  // ---------------------------------------------------------------- calls

  /**
   * Runs one etcd call and waits for it until {@code deadline}. When {@code retry}, a call that
   * fails because no member is available or its connection broke, or that gets no answer within a
   * third of the operation timeout, is tried again (our calls are idempotent): a dying member, or a proposal lost with the
   * leader, then costs time, not an error.
   */
  private <T> T call(String what, Supplier<CompletableFuture<T>> op, long deadline,
      boolean retry) {
    long attemptBound = Math.max(MIN_ATTEMPT_NANOS, config.operationTimeoutNanos() / 3);
    Throwable last = null;
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw noAnswer(what, last);
      }
      long wait = retry ? Math.min(left, attemptBound) : left;
      CompletableFuture<T> f = op.get();
      try {
        return f.get(wait, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        f.cancel(true);
        if (!retry || deadline - System.nanoTime() <= 0 || closed.get()) {
          throw noAnswer(what, last);
        }
        kicker.kick();
      } catch (InterruptedException e) {
        f.cancel(true);
        Thread.currentThread().interrupt();
        throw new TransferException(ErrorCode.METADATA, "etcd at " + config.endpointList() + ": "
            + what + ": interrupted", e);
      } catch (ExecutionException e) {
        Throwable cause = unwrap(e);
        if (!retry || !isTransient(cause) || closed.get()) {
          throw new TransferException(ErrorCode.METADATA, "etcd at " + config.endpointList() + ": "
              + what + " failed: " + rootMessage(cause), cause);
        }
        last = cause;
        kicker.kick();
        LockSupport.parkNanos(Math.min(RETRY_PAUSE_NANOS, Math.max(0,
            deadline - System.nanoTime())));
      }
    }
  }

  private TransferException noAnswer(String what, Throwable last) {
    long ms = TimeUnit.NANOSECONDS.toMillis(config.operationTimeoutNanos());
    return new TransferException(ErrorCode.METADATA, "etcd at " + config.endpointList() + ": "
        + what + ": no answer within " + ms + " ms"
        + (last == null ? "" : " (last error: " + rootMessage(last) + ")"), last);
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof ExecutionException || t instanceof CompletionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * True for failures that another attempt may not meet: no member available, or the connection
   * broke under the call (gRPC reports that as UNKNOWN "channel closed" or with an I/O cause).
   */
  static boolean isTransient(Throwable t) {
    String code = t instanceof EtcdException
        ? ((EtcdException) t).getErrorCode().name() : Status.fromThrowable(t).getCode().name();
    if (code.equals("UNAVAILABLE")) {
      return true;
    }
    if (!code.equals("UNKNOWN") && !code.equals("INTERNAL") && !code.equals("CANCELLED")) {
      return false;
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      String m = c.getMessage();
      if (c instanceof java.io.IOException || (m != null && m.contains("channel closed"))) {
        return true;
      }
    }
    return false;
  }

  static boolean isLeaseNotFound(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      String m = c.getMessage();
      if (m != null && m.contains("requested lease not found")) {
        return true;
      }
    }
    return false;
  }

  /** The message of {@code t}, and of its root cause when that says something else. */
  static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = String.valueOf(t.getMessage());
    if (root != t && root.getMessage() != null && !m.contains(root.getMessage())) {
      m += " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }
    return m;
  }

  private static PutOption leaseOption(long leaseId) {
    // Our puts are idempotent, so jetcd may retry them on another member.
    return PutOption.builder().withLeaseId(leaseId).withAutoRetry().build();
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- lifecycle

  private void ensureOpen() {
    if (closed.get()) {
      throw new TransferException(ErrorCode.METADATA, "etcd store " + config.endpointList()
          + " is closed");
    }
  }

  private void shutdown(boolean revoke) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    maintenance.shutdownNow();
    for (PrefixWatch w : activeWatches) {
      w.close();
    }
    LeaseSession s = session;
    if (s != null) {
      closeQuietly(s.keepAlive);
      if (revoke) {
        long bound = Math.min(config.operationTimeoutNanos(), CLOSE_REVOKE_MAX_NANOS);
        try {
          leases.revoke(s.id).get(bound, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
          LOG.warn("etcd lease {} not revoked ({}); its keys expire within {} s",
              Long.toHexString(s.id), e.toString(), config.leaseTtlSeconds());
        }
      }
    }
    closeQuietly(client);
    clientExecutor.shutdownNow();
    published.clear();
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.debug("while closing: {}", e.toString());
    }
  }

  @Override
  public String toString() {
    return "EtcdMetadataStore{" + config + "}";
  }
}
