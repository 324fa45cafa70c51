package io.te4j.cli;

import io.te4j.metadata.http.HttpMetadataServer;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code te metadata-server}: the reference's HTTP metadata service ({@code python -m
 * mooncake.http_metadata_server}) in this JVM. Prints the URL engines use on stdout once it
 * listens, then serves until the process is killed.
 *
 * <p>Like the reference it reads {@code MC_METADATA_HTTP_TOKEN} (bearer token required on every
 * request), {@code MC_METADATA_MAX_KEYS} and {@code MC_METADATA_MAX_TOTAL_BYTES} from the
 * environment. {@code --ttl SECONDS} (ours; default 0 = never) expires keys their engine stopped
 * refreshing, so a crashed engine's entries go away.
 */
final class MetadataServerCommand {
  static final Set<String> OPTIONS = Set.of("host", "port", "path", "ttl");

  private final Options options;
  private final PrintStream out;
  private final PrintStream err;

  MetadataServerCommand(Options options, PrintStream out, PrintStream err) {
    this.options = options;
    this.out = out;
    this.err = err;
  }

  /** Starts the server and blocks until the JVM is stopped; returns 1 when it cannot listen. */
  int run() throws InterruptedException {
    if (!options.positional().isEmpty()) {
      throw new Options.UsageException("metadata-server takes no positional arguments: "
          + options.positional());
    }
    int port = options.intValue("port", 8080);
    if (port < 0 || port > 65535) {
      throw new Options.UsageException("--port must lie in 0..65535, not " + port);
    }
    int ttl = options.intValue("ttl", 0);
    if (ttl < 0) {
      throw new Options.UsageException("--ttl must be 0 (never) or a number of seconds, not "
          + ttl);
    }
    String path = options.get("path", HttpMetadataServer.DEFAULT_PATH);
    if (!path.startsWith("/") || path.contains("?") || path.contains("#")) {
      throw new Options.UsageException("--path must start with '/' and hold no query: " + path);
    }
    HttpMetadataServer.Builder b = HttpMetadataServer.builder()
        .host(options.get("host", "0.0.0.0")).port(port).path(path)
        .ttl(Duration.ofSeconds(ttl))
        .authToken(System.getenv("MC_METADATA_HTTP_TOKEN"))
        .maxKeys((int) envNumber("MC_METADATA_MAX_KEYS", HttpMetadataServer.DEFAULT_MAX_KEYS,
            Integer.MAX_VALUE))
        .maxTotalBytes(envNumber("MC_METADATA_MAX_TOTAL_BYTES",
            HttpMetadataServer.DEFAULT_MAX_TOTAL_BYTES, Long.MAX_VALUE));
    // A client that trickles its request must not hold a handler thread for ever. The JDK
    // server reads these once, when its first server starts; this process has no other.
    setIfAbsent("sun.net.httpserver.maxReqTime", "60");
    setIfAbsent("sun.net.httpserver.maxRspTime", "60");
    HttpMetadataServer server;
    try {
      server = b.start();
    } catch (UncheckedIOException e) {
      err.println("te: " + e.getMessage() + ": " + e.getCause().getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "te-metadata-server-stop"));
    out.println(server.url());
    out.flush();
    err.println("te metadata-server: serving " + server.url() + " (ttl "
        + (ttl == 0 ? "none: keys stay until deleted" : ttl + " s") + "); stop with Ctrl-C");
    new CountDownLatch(1).await(); // serve until killed
    return 0;
  }

  private static long envNumber(String name, long dflt, long max) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) {
      return dflt;
    }
    try {
      long n = Long.parseLong(v.strip());
      if (n < 1 || n > max) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new Options.UsageException(name + " must be a positive integer, not '" + v + "'");
    }
  }

  private static void setIfAbsent(String property, String value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, value);
    }
  }
}
