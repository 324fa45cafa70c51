package io.te4j.metadata.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference's HTTP metadata service ({@code python -m mooncake.http_metadata_server}, or the
 * one {@code mooncake_master --enable_http_metadata_server} embeds), on the JDK's HTTP server. One
 * URL path, the key in the query:
 *
 * <ul>
 *   <li>{@code GET <path>?key=<k>}: 200 with the stored bytes, 404 {@code metadata not found};
 *   <li>{@code PUT <path>?key=<k>} with the value as the body: 200 {@code metadata updated}; an
 *       {@code rpc_meta} key that exists already is 200 {@code metadata unchanged} when the value is
 *       the same and 400 {@code Duplicate rpc_meta key not allowed} when it differs (so two engines
 *       cannot claim one name);
 *   <li>{@code DELETE <path>?key=<k>}: 200 {@code metadata deleted}, 404 when unknown;
 *   <li>a missing, empty or blank key is 400 {@code metadata key is required}; the key is trimmed;
 *       other methods 405; other paths 404; a body over the limit 413; a store over its key or
 *       byte budget 507; with an auth token set, a request without {@code Authorization: Bearer
 *       <token>} is 401 before anything else. Every answer is {@code Content-Type:
 *       application/json}, as the reference's.
 * </ul>
 *
 * <p>What the reference lacks: {@code GET <path>?prefix=<p>} lists every key starting with {@code
 * p}, 200 with one line per key, {@code <key, percent-encoded> <value>} (values are compact JSON:
 * no line breaks), sorted by key (the reference answers 400, key required); and a TTL. With {@link Builder#ttl} above zero a key that no PUT has
 * refreshed for that long is gone (never served, then swept), so the keys of an engine that crashed
 * vanish; our client re-PUTs its keys periodically and adapts its period to the TTL this server
 * advertises in the {@value #TTL_HEADER} header. With the reference server (no TTL), entries stay
 * until deleted.
 *
 * <p>Threading: the JDK server's dispatcher thread accepts and parses; a bounded pool of daemon
 * threads runs the handlers (when its queue is full the dispatcher runs the handler itself, which
 * slows accepting down instead of dropping connections); one daemon thread sweeps expired keys.
 * The map is a {@link ConcurrentHashMap}; each key's update runs atomically.
 */
public final class HttpMetadataServer implements AutoCloseable {
  /** Response header carrying this server's TTL in milliseconds, present when the TTL is on. */
  public static final String TTL_HEADER = "X-Te4j-Metadata-Ttl-Ms";
  /** The reference's default path. */
  public static final String DEFAULT_PATH = "/metadata";
  /** Default largest accepted body. */
  public static final int DEFAULT_MAX_BODY_BYTES = 16 << 20;
  /** Default key budget, the reference's {@code MC_METADATA_MAX_KEYS}. */
  public static final int DEFAULT_MAX_KEYS = 65536;
  /** Default byte budget over all values, the reference's {@code MC_METADATA_MAX_TOTAL_BYTES}. */
  public static final long DEFAULT_MAX_TOTAL_BYTES = 1L << 30;

  private static final Logger LOG = LoggerFactory.getLogger(HttpMetadataServer.class);
  private static final String JSON = "application/json";
  private static final byte[] EMPTY = new byte[0];

  static {
    // The JDK server writes headers and body apart; without TCP_NODELAY each small answer waits
    // out the client's delayed ACK (about 40 ms a request). The property is read once, when the
    // JDK server's configuration class loads, so it must be set before the first server starts.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final HttpServer server;
  private final ThreadPoolExecutor handlers;
  private final ScheduledExecutorService sweeper;
  private final String path;
  private final String host;
  private final long ttlNanos;
  private final String ttlMillisHeader;
  private final byte[] authToken;
  private final int maxBodyBytes;
  private final int maxKeys;
  private final long maxTotalBytes;
  private final ConcurrentHashMap<String, Entry> store = new ConcurrentHashMap<>();
  private final AtomicInteger keyCount = new AtomicInteger();
  private final AtomicLong totalBytes = new AtomicLong();
  private volatile boolean closed;

  /** A stored value and when a PUT last wrote or refreshed it. */
  private record Entry(byte[] value, long refreshedNanos) {}

  /** The outcome of one update, set inside the map's atomic compute. */
  private static final class Outcome {
    int status = 200;
    String text;
  }

  private HttpMetadataServer(Builder b) throws IOException {
    this.path = b.path;
    this.ttlNanos = b.ttl.toNanos();
    this.ttlMillisHeader = ttlNanos > 0 ? Long.toString(Math.max(1, b.ttl.toMillis())) : null;
    this.authToken = b.authToken == null || b.authToken.isEmpty() ? null
        : b.authToken.getBytes(StandardCharsets.UTF_8);
    this.maxBodyBytes = b.maxBodyBytes;
    this.maxKeys = b.maxKeys;
    this.maxTotalBytes = b.maxTotalBytes;
    this.handlers = new ThreadPoolExecutor(b.threads, b.threads, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(1024), daemonThreads("te-http-metadata-"),
        new ThreadPoolExecutor.CallerRunsPolicy());
    this.handlers.allowCoreThreadTimeOut(true);
    HttpServer s = null;
    try {
      s = HttpServer.create(new InetSocketAddress(b.host, b.port), 256);
      s.createContext(path, this::handle);
      s.setExecutor(handlers);
      s.start();
    } catch (IOException | RuntimeException e) {
      handlers.shutdownNow();
      throw e;
    }
    this.server = s;
    this.host = urlHost(b.host);
    if (ttlNanos > 0) {
      long period = Math.max(TimeUnit.MILLISECONDS.toNanos(50),
          Math.min(ttlNanos / 4, TimeUnit.SECONDS.toNanos(1)));
      sweeper = Executors.newSingleThreadScheduledExecutor(daemonThreads("te-http-metadata-ttl-"));
      sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.NANOSECONDS);
    } else {
      sweeper = null;
    }
    LOG.info("HTTP metadata server listening on {} (ttl {})", url(),
        ttlNanos > 0 ? b.ttl : "none");
  }

  /**
   * Starts a server with the default limits and no auth token.
   *
   * @param bindHost address to listen on, {@code 0.0.0.0} for all
   * @param port 0 for an ephemeral port
   * @param path the one URL path served, e.g. {@code /metadata}
   * @param ttl how long a key lives without a PUT refreshing it; zero for forever (the reference)
   * @throws UncheckedIOException when the port cannot be bound
   */
  public static HttpMetadataServer start(String bindHost, int port, String path, Duration ttl) {
    return builder().host(bindHost).port(port).path(path).ttl(ttl).start();
  }

  /** A builder for a server with other limits or an auth token. */
  public static Builder builder() {
    return new Builder();
  }

  /** The port the server listens on (the ephemeral one when started with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  /**
   * The URL engines use: {@code http://<host>:<port><path>}, the bind address as host, or this
   * machine's host name when bound to all addresses.
   */
  public String url() {
    return "http://" + host + ":" + port() + path;
  }

  /** How many keys are stored now, not counting expired ones. */
  public int keyCount() {
    if (ttlNanos == 0) {
      return store.size();
    }
    long now = System.nanoTime();
    return (int) store.values().stream().filter(e -> !expired(e, now)).count();
  }

  /** Stops listening at once, then stops the handler and sweeper threads. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.stop(0);
    handlers.shutdownNow();
    if (sweeper != null) {
      sweeper.shutdownNow();
    }
    try {
      handlers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.info("HTTP metadata server on port {} closed", server.getAddress().getPort());
  }

  // ---------------------------------------------------------------- requests (handler threads)

  private void handle(HttpExchange ex) {
    try {
      serve(ex);
    } catch (IOException e) {
      LOG.debug("request from {} broke: {}", ex.getRemoteAddress(), e.toString());
    } catch (RuntimeException e) {
      LOG.warn("request {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
      if (ex.getResponseCode() == -1) {
        try {
          reply(ex, 500, "internal error");
        } catch (IOException | RuntimeException ignored) {
          // the connection is going away anyway
        }
      }
    } finally {
      ex.close();
    }
  }

  private void serve(HttpExchange ex) throws IOException {
    // The context matches by prefix; the reference serves the one path exactly.
    if (!path.equals(ex.getRequestURI().getRawPath())) {
      reply(ex, 404, "404: Not Found");
      return;
    }
    if (authToken != null && !authorized(ex)) {
      reply(ex, 401, "unauthorized");
      return;
    }
    String key;
    String prefix;
    try {
      key = KeyQuery.firstParameter(ex.getRequestURI().getRawQuery(), "key");
      prefix = KeyQuery.firstParameter(ex.getRequestURI().getRawQuery(), "prefix");
    } catch (IllegalArgumentException e) {
      reply(ex, 400, "malformed query: " + e.getMessage());
      return;
    }
    if (key == null && prefix != null && ex.getRequestMethod().equals("GET")) {
      list(ex, prefix);
      return;
    }
    key = key == null ? "" : key.strip();
    if (key.isEmpty()) {
      reply(ex, 400, "metadata key is required");
      return;
    }
    switch (ex.getRequestMethod()) {
      case "GET":
        get(ex, key);
        break;
      case "PUT":
        put(ex, key);
        break;
      case "DELETE":
        delete(ex, key);
        break;
      default:
        reply(ex, 405, "Method not allowed");
    }
  }

  private boolean authorized(HttpExchange ex) {
    String header = ex.getRequestHeaders().getFirst("Authorization");
    if (header == null) {
      return false;
    }
    int space = header.indexOf(' ');
    if (space < 0 || !header.substring(0, space).equalsIgnoreCase("bearer")) {
      return false;
    }
    byte[] presented = header.substring(space + 1).getBytes(StandardCharsets.UTF_8);
    // Constant-time, as the reference's hmac.compare_digest.
    return presented.length > 0 && MessageDigest.isEqual(presented, authToken);
  }

  private void get(HttpExchange ex, String key) throws IOException {
    Entry e = store.get(key);
    if (e == null || expired(e, System.nanoTime())) {
      reply(ex, 404, "metadata not found");
      return;
    }
    reply(ex, 200, e.value);
  }

  /** Our extension: the keys under {@code prefix}, a line each (see the class comment). */
  private void list(HttpExchange ex, String prefix) throws IOException {
    long now = System.nanoTime();
    java.util.TreeMap<String, byte[]> found = new java.util.TreeMap<>();
    store.forEach((k, e) -> {
      if (k.startsWith(prefix) && !expired(e, now)) {
        found.put(k, e.value);
      }
    });
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> e : found.entrySet()) {
      body.write(KeyQuery.escape(e.getKey()).getBytes(StandardCharsets.US_ASCII));
      body.write(' ');
      body.write(e.getValue());
      body.write('\n');
    }
    reply(ex, 200, body.toByteArray());
  }

  private void put(HttpExchange ex, String key) throws IOException {
    String declared = ex.getRequestHeaders().getFirst("Content-Length");
    if (declared != null) {
      long length;
      try {
        length = Long.parseLong(declared.trim());
      } catch (NumberFormatException e) {
        reply(ex, 400, "malformed Content-Length");
        return;
      }
      if (length > maxBodyBytes) {
        reply(ex, 413, "request body larger than " + maxBodyBytes + " bytes");
        return;
      }
    }
    byte[] body;
    try (InputStream in = ex.getRequestBody()) {
      body = in.readNBytes(maxBodyBytes + 1);
    }
    if (body.length > maxBodyBytes) {
      reply(ex, 413, "request body larger than " + maxBodyBytes + " bytes");
      return;
    }
    Outcome out = update(key, body, System.nanoTime());
    reply(ex, out.status, out.text);
  }

  /** Stores {@code body} under {@code key}, atomically for that key, within the budgets. */
  private Outcome update(String key, byte[] body, long now) {
    Outcome out = new Outcome();
    boolean rpcMeta = key.contains("rpc_meta");
    store.compute(key, (k, old) -> {
      if (old != null && expired(old, now)) {
        forget(old);
        old = null;
      }
      if (rpcMeta && old != null) {
        if (Arrays.equals(old.value, body)) {
          out.text = "metadata unchanged";
          return new Entry(old.value, now);
        }
        out.status = 400;
        out.text = "Duplicate rpc_meta key not allowed";
        return old;
      }
      if (old == null && keyCount.incrementAndGet() > maxKeys) {
        keyCount.decrementAndGet();
        out.status = 507;
        out.text = "metadata key budget exhausted";
        return null;
      }
      long delta = body.length - (old == null ? 0 : old.value.length);
      if (delta > 0 && totalBytes.addAndGet(delta) > maxTotalBytes) {
        totalBytes.addAndGet(-delta);
        if (old == null) {
          keyCount.decrementAndGet();
        }
        out.status = 507;
        out.text = "metadata size budget exhausted";
        return old;
      }
      if (delta <= 0) {
        totalBytes.addAndGet(delta);
      }
      out.text = "metadata updated";
      return new Entry(body, now);
    });
    return out;
  }

  private void delete(HttpExchange ex, String key) throws IOException {
    long now = System.nanoTime();
    boolean[] found = new boolean[1];
    store.computeIfPresent(key, (k, old) -> {
      found[0] = !expired(old, now);
      forget(old);
      return null;
    });
    if (found[0]) {
      reply(ex, 200, "metadata deleted");
    } else {
      reply(ex, 404, "metadata not found");
    }
  }

  private void reply(HttpExchange ex, int status, String text) throws IOException {
    reply(ex, status, text.getBytes(StandardCharsets.UTF_8));
  }

  private void reply(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", JSON);
    if (ttlMillisHeader != null) {
      ex.getResponseHeaders().set(TTL_HEADER, ttlMillisHeader);
    }
    // For the JDK server 0 means chunked and -1 means no body: an empty value must be -1.
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream os = ex.getResponseBody()) {
        os.write(body);
      }
    }
  }

  // ---------------------------------------------------------------- TTL (sweeper thread)

  private boolean expired(Entry e, long now) {
    return ttlNanos > 0 && now - e.refreshedNanos > ttlNanos;
  }

  /** Accounts for an entry leaving the map; called inside the compute that removes it. */
  private void forget(Entry e) {
    keyCount.decrementAndGet();
    totalBytes.addAndGet(-e.value.length);
  }

  private void sweep() {
    try {
      long now = System.nanoTime();
      int[] swept = new int[1];
      for (String key : store.keySet()) {
        store.computeIfPresent(key, (k, e) -> {
          if (!expired(e, now)) {
            return e;
          }
          forget(e);
          swept[0]++;
          return null;
        });
      }
      if (swept[0] > 0) {
        LOG.debug("expired {} keys not refreshed within the TTL", swept[0]);
      }
    } catch (RuntimeException e) {
      LOG.warn("TTL sweep failed", e);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private static String urlHost(String bindHost) {
    String h = bindHost;
    if (h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]") || h.isEmpty()) {
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        return "127.0.0.1";
      }
    }
    return h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h;
  }

  /** Settings of a server; {@link #start()} starts it. */
  public static final class Builder {
    private String host = "0.0.0.0";
    private int port = 8080;
    private String path = DEFAULT_PATH;
    private Duration ttl = Duration.ZERO;
    private String authToken;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private int maxKeys = DEFAULT_MAX_KEYS;
    private long maxTotalBytes = DEFAULT_MAX_TOTAL_BYTES;
    private int threads = 16;

    private Builder() {}

    /** Address to listen on; default {@code 0.0.0.0}. */
    public Builder host(String v) {
      this.host = Objects.requireNonNull(v, "host").trim();
      return this;
    }

    /** Port, 0 for an ephemeral one; default 8080. */
    public Builder port(int v) {
      if (v < 0 || v > 65535) {
        throw new IllegalArgumentException("port out of range: " + v);
      }
      this.port = v;
      return this;
    }

    /** The one path served; default {@code /metadata}. */
    public Builder path(String v) {
      Objects.requireNonNull(v, "path");
      if (!v.startsWith("/") || v.contains("?") || v.contains("#")) {
        throw new IllegalArgumentException("path must start with '/' and hold no query: " + v);
      }
      this.path = v;
      return this;
    }

    /** Lifetime of a key no PUT refreshes; zero (the default) keeps keys until deleted. */
    public Builder ttl(Duration v) {
      if (v == null || v.isNegative()) {
        throw new IllegalArgumentException("ttl must be zero or positive: " + v);
      }
      this.ttl = v;
      return this;
    }

    /**
     * Requires {@code Authorization: Bearer <token>} on every request, as the reference does with
     * {@code MC_METADATA_HTTP_TOKEN}; null or empty for none (the default).
     */
    public Builder authToken(String v) {
      this.authToken = v;
      return this;
    }

    /** Largest body a PUT may carry; default 16 MiB (413 beyond). */
    public Builder maxBodyBytes(int v) {
      if (v < 1 || v == Integer.MAX_VALUE) {
        throw new IllegalArgumentException("maxBodyBytes out of range: " + v);
      }
      this.maxBodyBytes = v;
      return this;
    }

    /** Most keys stored at once; default 65536 (507 beyond). */
    public Builder maxKeys(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("maxKeys must be positive: " + v);
      }
      this.maxKeys = v;
      return this;
    }

    /** Most bytes over all stored values; default 1 GiB (507 beyond). */
    public Builder maxTotalBytes(long v) {
      if (v < 1) {
        throw new IllegalArgumentException("maxTotalBytes must be positive: " + v);
      }
      this.maxTotalBytes = v;
      return this;
    }

    /** Handler threads; default 16. */
    public Builder threads(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("threads must be positive: " + v);
      }
      this.threads = v;
      return this;
    }

    /**
     * Binds and starts serving.
     *
     * @throws UncheckedIOException when the address cannot be bound
     */
    public HttpMetadataServer start() {
      try {
        return new HttpMetadataServer(this);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot listen on " + host + ":" + port, e);
      }
    }
  }
}
