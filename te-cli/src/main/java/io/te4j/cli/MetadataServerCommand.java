package io.te4j.cli;

import io.te4j.metadata.http.HttpMetadataServer;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
@Command(name = "metadata-server", mixinStandardHelpOptions = true,
    description = "Serves the HTTP metadata store engines reach with --metadata-server "
        + "http://HOST:PORT/PATH (the reference's mooncake.http_metadata_server). Prints its URL "
        + "on stdout, then serves until stopped. Reads MC_METADATA_HTTP_TOKEN (a bearer token "
        + "every request must carry), MC_METADATA_MAX_KEYS and MC_METADATA_MAX_TOTAL_BYTES.")
final class MetadataServerCommand implements Callable<Integer> {
  @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "0.0.0.0",
      description = "The address to listen on.")
  String host;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080",
      converter = Converters.NonNegative.class,
      description = "The port to listen on, 0 for any free one.")
  int port;

  @Option(names = "--path", paramLabel = "PATH", defaultValue = HttpMetadataServer.DEFAULT_PATH,
      description = "The URL path of the store.")
  String path;

  @Option(names = "--ttl", paramLabel = "SECONDS", defaultValue = "0",
      converter = Converters.NonNegative.class,
      description = "Expire keys their engine stopped refreshing for this long, so a crashed "
          + "engine's entries go away; 0 keeps keys until deleted.")
  int ttl;

  @Option(names = "--metrics-port", paramLabel = "PORT", converter = Converters.NonNegative.class,
      description = "Also serve the server's meters (keys held, the JVM's) for Prometheus at "
          + "http://--host:PORT/metrics; 0 for any free port (said on stderr).")
  Integer metricsPort;

  private final PrintStream out;
  private final PrintStream err;

  MetadataServerCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /** Starts the server and blocks until the JVM is stopped; returns 1 when it cannot listen. */
  @Override
  public Integer call() throws InterruptedException {
    if (port > 65535) {
      throw new UsageException("--port must lie in 0..65535, not " + port);
    }
    if (!path.startsWith("/") || path.contains("?") || path.contains("#")) {
      throw new UsageException("--path must start with '/' and hold no query: " + path);
    }
    HttpMetadataServer.Builder b = HttpMetadataServer.builder()
        .host(host).port(port).path(path)
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
    MetricsPort metrics = MetricsPort.startIfAsked(metricsPort, host, err);
    if (metrics != null) {
      metrics.gauge("te4j.metadata.keys", "Keys the metadata server holds", server::keyCount);
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
      throw new UsageException(name + " must be a positive integer, not '" + v + "'");
    }
  }

  private static void setIfAbsent(String property, String value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, value);
    }
  }
}
