package io.te4j.metadata.http;

import io.te4j.api.ErrorCode;
import io.te4j.api.MetadataKeys;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.Setting;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code http://} metadata store: a client of the reference's HTTP metadata service (the
 * Python {@code mooncake.http_metadata_server}, the one {@code mooncake_master} embeds, or our
 * {@link HttpMetadataServer}), speaking as the reference's C++ {@code HTTPStoragePlugin} does:
 * {@code GET/PUT/DELETE <url>?key=<percent-encoded key>}, the value as a JSON body; only 200 is
 * success, a GET's 404 is "no such key", a DELETE's 404 is "already gone".
 *
 * <p>Every request is bounded by {@link MetadataStoreContext#operationTimeoutNanos()} (connect,
 * send and the whole answer); a server that is down or silent is a {@link TransferException} with
 * {@link ErrorCode#METADATA} naming the URL, also when the store is created (it asks the server
 * once then, so a wrong URL fails at start-up). With {@code MC_METADATA_HTTP_TOKEN} set, requests
 * carry {@code Authorization: Bearer <token>} as the reference's do.
 *
 * <p>HTTP has no leases. So the keys this store put are re-PUT every {@value #REFRESH_SECONDS}
 * seconds (default 10; 0 turns it off) from one daemon thread: a server that restarted empty gets
 * them back, and a server with a TTL ({@link HttpMetadataServer} started with {@code --ttl}) drops
 * them when this engine dies. When the server advertises its TTL the period shrinks to a third of
 * it. With the reference's server, which has no TTL, a crashed engine's entries stay until someone
 * deletes them.
 *
 * <p>No watch: the reference server can neither list nor watch keys, and polling every key a peer
 * was looked up under would cost one GET per peer per period on a single-process server. The
 * engine does without: it drops a cached descriptor when a transfer to that peer fails and looks
 * it up again.
 *
 * <p>Thread-safe. {@code get} runs on the caller's thread (the answer is delivered by the store's
 * own daemon threads); {@code put} and {@code remove} of one key are serialized with that key's
 * refresh, so a refresh never brings back a key just removed.
 */
public final class HttpMetadataStore implements MetadataStore {
  /** Setting: seconds between re-PUTs of this store's keys; 0 turns the refresh off. */
  public static final String REFRESH_SECONDS = "te4j.http.refreshSeconds";
  /** Default of {@link #REFRESH_SECONDS}. */
  public static final long DEFAULT_REFRESH_SECONDS = 10;
  /** Setting shared with the reference: the bearer token the server requires, if any. */
  public static final String TOKEN = "MC_METADATA_HTTP_TOKEN";

  static final Setting<Integer> REFRESH = Setting.integer(REFRESH_SECONDS,
      (int) DEFAULT_REFRESH_SECONDS, 0, 86400, "re-PUT period of an engine's HTTP keys, seconds;"
          + " 0 never (te metadata-server --ttl S can expire unrefreshed keys)");
  static final Setting<String> AUTH_TOKEN = Setting.text(TOKEN, null, "token",
      "bearer token of the HTTP metadata service, as the reference's");
  /** What the http and https providers declare. */
  static final java.util.List<Setting<?>> SETTINGS = java.util.List.of(REFRESH, AUTH_TOKEN);
  /** The largest answer body accepted; a larger one is an error, not an allocation. */
  static final int MAX_ANSWER_BYTES = 16 << 20;

  private static final Logger LOG = LoggerFactory.getLogger(HttpMetadataStore.class);
  private static final int STRIPES = 32;
  private static final long MIN_REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final String url;
  private final long timeoutNanos;
  private final String authorization;
  private final ExecutorService executor;
  private final HttpClient client;
  private final ConcurrentHashMap<String, String> own = new ConcurrentHashMap<>();
  private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile ScheduledExecutorService refresher;
  private volatile long refreshNanos;
  private volatile boolean refreshFailing;

  /** What the server answered. */
  private record Answer(int status, byte[] body, String ttlMillis) {}

  private HttpMetadataStore(String url, MetadataStoreContext context) {
    this.url = url;
    this.timeoutNanos = context.operationTimeoutNanos();
    if (timeoutNanos <= 0) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "metadata operation timeout must be positive, not " + timeoutNanos + " ns");
    }
    String token = context.setting(AUTH_TOKEN);
    this.authorization = token == null || token.isBlank() ? null : "Bearer " + token.strip();
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantLock();
    }
    this.executor = Executors.newCachedThreadPool(context.threadFactory("http-metadata"));
    this.client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofNanos(timeoutNanos))
        .followRedirects(HttpClient.Redirect.NEVER)
        .executor(executor)
        .build();
  }

  /**
   * Connects to the metadata service at {@code url} and asks it once for this engine's segment
   * key, so an unreachable or wrong server fails here.
   *
   * @param url {@code http://host:port/path} or {@code https://...}, without a query
   * @throws TransferException INVALID_CONFIGURATION for a malformed URL or setting, METADATA naming
   *     the URL when the server cannot be reached in time or answers other than 200 or 404
   */
  public static HttpMetadataStore connect(String url, MetadataStoreContext context) {
    Objects.requireNonNull(context, "context");
    String checked = checkUrl(url);
    long refreshSeconds = context.setting(REFRESH);
    HttpMetadataStore store = new HttpMetadataStore(checked, context);
    try {
      long serverTtlNanos = store.probe(probeKey(context));
      store.startRefresh(refreshSeconds, serverTtlNanos, context);
      return store;
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /** The service URL this store talks to. */
  public String url() {
    return url;
  }

  /** Period of the re-PUT of this store's keys in nanoseconds; 0 when off. */
  public long refreshPeriodNanos() {
    return refreshNanos;
  }

  @Override
  public Optional<String> get(String key) {
    Objects.requireNonNull(key, "key");
    ensureOpen();
    Answer a = send("GET", key, null);
    if (a.status == 200) {
      return Optional.of(new String(a.body, StandardCharsets.UTF_8));
    }
    if (a.status == 404) {
      return Optional.empty();
    }
    throw rejected("GET", key, a);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Asks {@code GET <url>?prefix=<p>}, which {@code te metadata-server} answers; the reference's
   * server cannot list (it answers 400, key required), which is NOT_IMPLEMENTED here.
   */
  @Override
  public SortedMap<String, String> list(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    ensureOpen();
    Answer a = send("GET", URI.create(url + "?prefix=" + KeyQuery.escape(prefix)), null);
    if (a.status == 400 || a.status == 404) {
      throw new TransferException(ErrorCode.NOT_IMPLEMENTED, "the metadata server at " + url
          + " cannot list keys (HTTP " + a.status + ": " + bodyText(a.body) + "); the reference's"
          + " server cannot, te metadata-server can");
    }
    if (a.status != 200) {
      throw rejected("GET", "?prefix=" + KeyQuery.escape(prefix), a);
    }
    SortedMap<String, String> out = new TreeMap<>();
    for (String line : new String(a.body, StandardCharsets.UTF_8).split("\n")) {
      int space = line.indexOf(' ');
      if (space > 0) {
        String key = java.net.URLDecoder.decode(line.substring(0, space), StandardCharsets.UTF_8);
        if (key.startsWith(prefix)) {
          out.put(key, line.substring(space + 1));
        }
      }
    }
    return out;
  }

  /**
   * {@inheritDoc}
   *
   * <p>When the server cannot be reached the value is still kept as this store's, and the refresh
   * publishes it once the server answers again; a server that answers but refuses it (say 400 for
   * an {@code rpc_meta} key another engine holds) leaves this store's previous value in place.
   *
   * @throws TransferException METADATA when the server cannot be reached or does not answer 200
   */
  @Override
  public void put(String key, String value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    ensureOpen();
    ReentrantLock lock = stripe(key);
    lock.lock();
    try {
      String previous = own.put(key, value);
      Answer a = send("PUT", key, value);
      if (a.status != 200) {
        if (previous == null) {
          own.remove(key);
        } else {
          own.put(key, previous);
        }
        throw rejected("PUT", key, a);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Only a key this store put is deleted on the server; any other is left alone. The engine
   * removes nothing but its own keys, and so an engine whose start failed because its name is
   * taken (the server refused its {@code rpc_meta} key) cannot delete the holder's entry while it
   * cleans up.
   *
   * @throws TransferException METADATA when the server cannot be reached or answers other than
   *     200 or 404
   */
  @Override
  public void remove(String key) {
    Objects.requireNonNull(key, "key");
    ensureOpen();
    ReentrantLock lock = stripe(key);
    lock.lock();
    try {
      if (own.remove(key) == null) {
        return;
      }
      Answer a = send("DELETE", key, null);
      if (a.status != 200 && a.status != 404) {
        throw rejected("DELETE", key, a);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops the refresh, deletes the keys this store still holds (within one operation timeout in
   * all; what is left then stays, or expires on a server with a TTL) and releases the threads.
   * Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (refresher != null) {
      refresher.shutdownNow();
      try {
        refresher.awaitTermination(timeoutNanos, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    long deadline = System.nanoTime() + timeoutNanos;
    for (String key : own.keySet()) {
      if (System.nanoTime() - deadline > 0 || Thread.currentThread().isInterrupted()) {
        LOG.warn("closing: {} keys left at {}", own.size(), url);
        break;
      }
      try {
        send("DELETE", key, null);
        own.remove(key);
      } catch (TransferException e) {
        LOG.warn("closing: cannot delete {} keys at {}: {}", own.size(), url, e.getMessage());
        break;
      }
    }
    own.clear();
    executor.shutdownNow();
    shutdownClient();
  }

  // ---------------------------------------------------------------- requests

  /** Asks for one key; returns the TTL the server advertises in nanoseconds, 0 for none. */
  private long probe(String key) {
    Answer a = send("GET", key, null);
    if (a.status != 200 && a.status != 404) {
      throw rejected("GET", key, a);
    }
    if (a.ttlMillis != null) {
      try {
        return Math.max(0, TimeUnit.MILLISECONDS.toNanos(Long.parseLong(a.ttlMillis.trim())));
      } catch (NumberFormatException e) {
        LOG.warn("{} advertises a malformed TTL '{}'; ignored", url, a.ttlMillis);
      }
    }
    return 0;
  }

  private void startRefresh(long refreshSeconds, long serverTtl, MetadataStoreContext context) {
    long period = TimeUnit.SECONDS.toNanos(refreshSeconds);
    if (serverTtl > 0) {
      if (period == 0) {
        LOG.warn("{} expires keys after {} ms but {}=0: this engine's keys will expire while it"
            + " runs", url, TimeUnit.NANOSECONDS.toMillis(serverTtl), REFRESH_SECONDS);
      } else {
        period = Math.max(MIN_REFRESH_NANOS, Math.min(period, serverTtl / 3));
      }
    }
    refreshNanos = period;
    if (period > 0) {
      refresher = Executors.newSingleThreadScheduledExecutor(
          context.threadFactory("http-metadata-refresh"));
      refresher.scheduleWithFixedDelay(this::refreshAll, period, period, TimeUnit.NANOSECONDS);
    }
  }

  /** Re-PUTs every key of this store (refresher thread). */
  private void refreshAll() {
    int done = 0;
    for (String key : own.keySet()) {
      if (closed.get()) {
        return;
      }
      ReentrantLock lock = stripe(key);
      lock.lock();
      try {
        String value = own.get(key);
        if (value == null) {
          continue; // removed meanwhile
        }
        Answer a = send("PUT", key, value);
        if (a.status == 200 || (a.status == 400 && key.contains("rpc_meta"))) {
          // Reference servers before #2311 refuse any re-PUT of an existing rpc_meta key: it is
          // there, which is all a refresh wants.
          done++;
        } else {
          LOG.warn("refresh of key '{}' at {} refused: HTTP {} {}", key, url, a.status,
              bodyText(a.body));
        }
      } catch (TransferException e) {
        if (!refreshFailing) {
          refreshFailing = true;
          LOG.warn("cannot refresh this engine's keys at {}; retrying every {} ms: {}", url,
              TimeUnit.NANOSECONDS.toMillis(refreshNanos), e.getMessage());
        }
        return; // the server is away: do not wait out one timeout per key
      } catch (RuntimeException e) {
        LOG.warn("refresh of key '{}' at {} failed", key, url, e);
      } finally {
        lock.unlock();
      }
    }
    if (refreshFailing) {
      refreshFailing = false;
      LOG.info("{} answers again; {} keys re-published", url, done);
    }
  }

  /** One request about {@code key}, bounded as a whole by the operation timeout. */
  private Answer send(String method, String key, String value) {
    return send(method, URI.create(url + "?key=" + KeyQuery.escape(key)), value);
  }

  private Answer send(String method, URI uri, String value) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofNanos(timeoutNanos));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    switch (method) {
      case "GET":
        b.GET();
        break;
      case "PUT":
        b.header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(value, StandardCharsets.UTF_8));
        break;
      case "DELETE":
        b.DELETE();
        break;
      default:
        throw new IllegalArgumentException(method);
    }
    CompletableFuture<HttpResponse<byte[]>> f =
        client.sendAsync(b.build(), info -> new BoundedBody(MAX_ANSWER_BYTES));
    try {
      HttpResponse<byte[]> r = f.get(timeoutNanos, TimeUnit.NANOSECONDS);
      return new Answer(r.statusCode(), r.body(),
          r.headers().firstValue(HttpMetadataServer.TTL_HEADER).orElse(null));
    } catch (TimeoutException e) {
      f.cancel(true);
      throw silent(method, uri, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof HttpTimeoutException
          && !(cause instanceof HttpConnectTimeoutException)) {
        // The request's own timeout, which races the wait above: connected, then no answer.
        throw silent(method, uri, cause);
      }
      throw new TransferException(ErrorCode.METADATA, method + " " + uri
          + ": the metadata server is unreachable: " + describe(cause), cause);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new TransferException(ErrorCode.METADATA, method + " " + uri + ": interrupted", e);
    }
  }

  private TransferException silent(String method, URI uri, Throwable cause) {
    return new TransferException(ErrorCode.METADATA, method + " " + uri
        + ": the metadata server did not answer within "
        + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms", cause);
  }

  private TransferException rejected(String method, String key, Answer a) {
    String hint = "";
    if (a.status == 401) {
      hint = authorization == null ? " (the server wants a token: set " + TOKEN + ")"
          : " (the server refuses the token in " + TOKEN + ")";
    } else if (a.status == 404 || a.status == 405) {
      hint = " (is " + url + " the metadata URL, e.g. http://host:8080/metadata?)";
    }
    return new TransferException(ErrorCode.METADATA, method + " " + url
        + (key.startsWith("?") ? key : "?key=" + KeyQuery.escape(key)) + " answered HTTP "
        + a.status + ": " + bodyText(a.body) + hint);
  }

  // ---------------------------------------------------------------- helpers

  private ReentrantLock stripe(String key) {
    return stripes[(key.hashCode() & 0x7fffffff) % STRIPES];
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new TransferException(ErrorCode.METADATA, "the metadata store for " + url
          + " is closed");
    }
  }

  /** On JDK 21+ the client can be shut down; on 17 its selector thread ends once unreachable. */
  private void shutdownClient() {
    try {
      HttpClient.class.getMethod("shutdownNow").invoke(client);
    } catch (NoSuchMethodException e) {
      // JDK 17-20
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("HttpClient.shutdownNow failed", e);
    }
  }

  private static String describe(Throwable t) {
    if (t instanceof HttpConnectTimeoutException) {
      return "connect timed out";
    }
    if (t instanceof HttpTimeoutException) {
      return "timed out";
    }
    if (t instanceof ConnectException) {
      return "connection refused" + (t.getMessage() == null ? "" : " (" + t.getMessage() + ")");
    }
    return t.toString();
  }

  private static String bodyText(byte[] body) {
    String s = new String(body, StandardCharsets.UTF_8).strip();
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  static String checkUrl(String url) {
    if (url == null || url.isBlank()) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION, "empty metadata URL");
    }
    String u = url.strip();
    URI uri;
    try {
      uri = new URI(u);
    } catch (URISyntaxException e) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "metadata URL '" + u + "' is malformed: " + e.getMessage(), e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "metadata URL '" + u + "' is not http:// or https://");
    }
    if (uri.getHost() == null) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "metadata URL '" + u + "' names no host, e.g. http://host:8080/metadata");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "metadata URL '" + u + "' must not carry a query or fragment: the key is the query");
    }
    return u;
  }



  private static String probeKey(MetadataStoreContext context) {
    MetadataKeys keys = MetadataKeys.forCluster(context.setting("MC_METADATA_CLUSTER_ID"));
    String name = context.localSegmentName();
    return name == null || name.isEmpty() ? keys.prefix() : keys.segmentKey(name);
  }

  /** Collects an answer body, failing (not allocating) past {@code limit} bytes. */
  private static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final int limit;
    private Flow.Subscription subscription;

    BoundedBody(int limit) {
      this.limit = limit;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        if (bytes.size() + (long) b.remaining() > limit) {
          subscription.cancel();
          result.completeExceptionally(
              new IOException("answer body larger than " + limit + " bytes"));
          return;
        }
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        bytes.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(bytes.toByteArray());
    }
  }
}
