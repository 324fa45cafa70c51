package io.te4j.metadata.etcd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real etcd (Debian's {@code etcd-server} package, {@code /usr/bin/etcd}) for tests: started on
 * free loopback ports with its own temporary data folder, waited for until healthy, stopped, killed
 * or restarted on the same ports, and its folder deleted on {@link #close()}.
 *
 * <p>Single member: {@link #start()}; a cluster: {@link #startCluster(int)}. The binary can be
 * pointed elsewhere with {@code -Dte4j.test.etcd=/path/etcd} (and {@code -Dte4j.test.etcdctl}).
 * When it is missing, starting fails with a message saying which package to install.
 *
 * <p>Thread-safety: one test thread drives a server.
 */
public final class EtcdTestServer implements AutoCloseable {
  /** The etcd binary. */
  public static final Path ETCD = Path.of(System.getProperty("te4j.test.etcd", "/usr/bin/etcd"));
  /** The etcdctl binary (Debian package {@code etcd-client}). */
  public static final Path ETCDCTL =
      Path.of(System.getProperty("te4j.test.etcdctl", "/usr/bin/etcdctl"));
  private static final Duration START_BOUND = Duration.ofSeconds(20);
  private static final Duration STOP_BOUND = Duration.ofSeconds(10);

  private final String name;
  private final Path workDir;
  private final int clientPort;
  private final int peerPort;
  private final TlsFiles tls;
  private String initialCluster;
  private String clusterToken;
  private Path dataDir;
  private Process process;
  private int generation;
  private int launches;
  private Path log;

  /**
   * PEM files of a TLS etcd: the server's certificate and key, and the CA clients must trust
   * (also used to verify client certificates when {@code clientCertAuth}).
   */
  public record TlsFiles(Path ca, Path serverCert, Path serverKey, boolean clientCertAuth) {}

  private EtcdTestServer(String name, Path workDir, int clientPort, int peerPort, TlsFiles tls) {
    this.name = name;
    this.workDir = workDir;
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.tls = tls;
    this.initialCluster = name + "=" + peerUrl();
    this.clusterToken = "te4j-" + workDir.getFileName();
  }

  /** Starts a one-member etcd and waits until it is healthy. */
  public static EtcdTestServer start() {
    return start(null);
  }

  /** Starts a one-member etcd serving TLS on its client port (plain HTTP between peers). */
  public static EtcdTestServer start(TlsFiles tls) {
    requireBinary(ETCD, "etcd-server");
    EtcdTestServer s = create("te4j", tls);
    try {
      s.launch(true);
      s.awaitReady();
      return s;
    } catch (RuntimeException | Error e) {
      s.close();
      throw e;
    }
  }

  /** Starts {@code members} etcd processes forming one cluster, and waits until all are healthy. */
  public static List<EtcdTestServer> startCluster(int members) {
    requireBinary(ETCD, "etcd-server");
    List<EtcdTestServer> all = new ArrayList<>();
    try {
      for (int i = 0; i < members; i++) {
        all.add(create("m" + i, null));
      }
      StringJoiner cluster = new StringJoiner(",");
      for (EtcdTestServer s : all) {
        cluster.add(s.name + "=" + s.peerUrl());
      }
      for (EtcdTestServer s : all) {
        s.initialCluster = cluster.toString();
        s.clusterToken = all.get(0).clusterToken; // one token: one cluster id
        s.launch(true);
      }
      for (EtcdTestServer s : all) {
        s.awaitReady();
      }
      return all;
    } catch (RuntimeException | Error e) {
      all.forEach(EtcdTestServer::close);
      throw e;
    }
  }

  /** {@code h:p,h:p,...} of several servers, as the store's location takes them. */
  public static String endpoints(List<EtcdTestServer> servers) {
    StringJoiner j = new StringJoiner(",");
    servers.forEach(s -> j.add(s.endpoint()));
    return j.toString();
  }

  private static EtcdTestServer create(String name, TlsFiles tls) {
    try {
      Path work = Files.createTempDirectory("te4j-etcd-" + name + "-");
      return new EtcdTestServer(name, work, freePort(), freePort(), tls);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code 127.0.0.1:<client port>}. */
  public String endpoint() {
    return "127.0.0.1:" + clientPort;
  }

  /** The engine's metadata connection string for this server: {@code etcd://127.0.0.1:port}. */
  public String metadataServer() {
    return "etcd://" + (tls != null ? "https://" : "") + endpoint();
  }

  public int clientPort() {
    return clientPort;
  }

  /** The member's name in its cluster. */
  public String name() {
    return name;
  }

  /** The data folder of the current run. */
  public Path dataDir() {
    return dataDir;
  }

  /** True while the etcd process runs. */
  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Stops etcd with SIGTERM (SIGKILL if it lingers); the data folder stays. */
  public void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    waitGone(process);
  }

  /** Kills etcd with SIGKILL, as a crash would; the data folder stays. */
  public void kill() {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    waitGone(process);
  }

  /**
   * Stops etcd (SIGKILL) if it runs and starts it again on the same ports.
   *
   * @param freshData true to start from an empty data folder (everything stored is lost), false to
   *     keep the data; a member of a cluster can only keep its data (a fresh one would have to be
   *     removed from the cluster and added again)
   */
  public void restart(boolean freshData) {
    if (freshData && initialCluster.contains(",")) {
      throw new IllegalStateException(name + " is a cluster member: restart it with its data");
    }
    kill();
    launch(freshData);
    awaitReady();
  }

  /**
   * Runs the real {@code etcdctl} against this server (API v3) and returns its standard output.
   *
   * @throws IllegalStateException when it exits non-zero or takes longer than 20 s
   */
  public String etcdctl(String... args) {
    requireBinary(ETCDCTL, "etcd-client");
    List<String> cmd = new ArrayList<>();
    cmd.add(ETCDCTL.toString());
    cmd.add("--endpoints=" + (tls != null ? "https://" : "http://") + endpoint());
    cmd.add("--dial-timeout=5s");
    cmd.add("--command-timeout=10s");
    if (tls != null) {
      cmd.add("--cacert=" + tls.ca());
    }
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("ETCDCTL_API", "3");
    try {
      Path out = Files.createTempFile(workDir, "etcdctl-", ".out");
      Path err = Files.createTempFile(workDir, "etcdctl-", ".err");
      Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("etcdctl " + args[0] + " did not finish in 20 s");
      }
      String stdout = Files.readString(out);
      String stderr = Files.readString(err);
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      if (p.exitValue() != 0) {
        throw new IllegalStateException("etcdctl " + String.join(" ", args) + " exited "
            + p.exitValue() + ": " + stderr.trim());
      }
      return stdout;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Kills etcd and deletes its folder. Idempotent. */
  @Override
  public void close() {
    kill();
    deleteTree(workDir);
  }

  @Override
  public String toString() {
    return "etcd " + name + " at " + endpoint() + (isRunning() ? " (pid " + process.pid() + ")"
        : " (stopped)");
  }

  // ---------------------------------------------------------------- internals

  /** Fails with what to install when a binary is missing; CI installs it. */
  public static void requireBinary(Path binary, String debianPackage) {
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException(binary + " is missing: install Debian's " + debianPackage
          + " package (apt-get install -y " + debianPackage + ")");
    }
  }

  private String peerUrl() {
    return "http://127.0.0.1:" + peerPort;
  }

  private String clientUrl() {
    return (tls != null ? "https" : "http") + "://127.0.0.1:" + clientPort;
  }

  private void launch(boolean freshData) {
    try {
      if (dataDir == null || freshData) {
        if (dataDir != null) {
          deleteTree(dataDir);
        }
        dataDir = workDir.resolve("data-" + (++generation));
      }
      List<String> cmd = new ArrayList<>(List.of(ETCD.toString(),
          "--name", name,
          "--data-dir", dataDir.toString(),
          "--listen-client-urls", clientUrl(),
          "--advertise-client-urls", clientUrl(),
          "--listen-peer-urls", peerUrl(),
          "--initial-advertise-peer-urls", peerUrl(),
          "--initial-cluster", initialCluster,
          "--initial-cluster-state", "new",
          "--initial-cluster-token", clusterToken,
          // Quick elections keep failover tests short.
          "--heartbeat-interval", "50",
          "--election-timeout", "500"));
      if (tls != null) {
        cmd.addAll(List.of("--cert-file", tls.serverCert().toString(),
            "--key-file", tls.serverKey().toString()));
        if (tls.clientCertAuth()) {
          cmd.addAll(List.of("--client-cert-auth", "--trusted-ca-file", tls.ca().toString()));
        }
      }
      // One log per run, so readiness is read from this run's lines only.
      log = workDir.resolve("etcd-" + (++launches) + ".log");
      process = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + ETCD, e);
    }
  }

  /** Polls the member's health (HTTP /health, or the log's ready line under TLS), bounded. */
  private void awaitReady() {
    long deadline = System.nanoTime() + START_BOUND.toNanos();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(this + " exited with " + process.exitValue() + ":\n"
            + logTail());
      }
      if (tls == null ? healthy(http) : logSaysReady()) {
        return;
      }
      sleepMillis(50); // polling a child process: there is nothing to block on
    }
    throw new IllegalStateException(this + " not healthy within " + START_BOUND.toSeconds()
        + " s:\n" + logTail());
  }

  private boolean healthy(HttpClient http) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
          URI.create(clientUrl() + "/health")).timeout(Duration.ofSeconds(1)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().contains("\"true\"");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private boolean logSaysReady() {
    return log().contains("ready to serve client requests");
  }

  private String log() {
    try {
      return log != null && Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** The last lines etcd wrote, for failure messages. */
  public String logTail() {
    String log = log();
    return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
  }

  private static void waitGone(Process p) {
    try {
      if (!p.waitFor(STOP_BOUND.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(STOP_BOUND.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** A port free on loopback right now. */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleepMillis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // best effort: a temp folder
        }
      });
    } catch (IOException e) {
      // best effort
    }
  }
}
