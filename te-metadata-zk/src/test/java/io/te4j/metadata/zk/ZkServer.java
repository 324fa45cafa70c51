package io.te4j.metadata.zk;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * A real ZooKeeper server in this JVM (Curator's {@link TestingServer}) with a 100 ms tick, so the
 * short session timeouts the tests ask for are granted; it can be restarted with its data or
 * replaced by an empty server on the same port.
 */
final class ZkServer implements AutoCloseable {
  private static final int TICK_MS = 100;

  private TestingServer server;
  private final int port;

  private ZkServer(TestingServer server) {
    this.server = server;
    this.port = server.getPort();
  }

  static ZkServer start() throws Exception {
    return new ZkServer(newServer(-1));
  }

  /** host:port. */
  String connectString() {
    return "127.0.0.1:" + port;
  }

  int port() {
    return port;
  }

  /** Stops the server, keeping its data. */
  void stop() throws IOException {
    server.stop();
  }

  /** Starts it again after {@link #stop()}, or stops and starts it, on the same data. */
  void restart() throws Exception {
    server.restart();
  }

  /** Replaces the server with an empty one on the same port: every session and node is gone. */
  void replaceWithEmptyServer() throws Exception {
    server.close();
    server = newServer(port);
  }

  @Override
  public void close() throws IOException {
    server.close();
  }

  private static TestingServer newServer(int port) throws Exception {
    File dir = Files.createTempDirectory("te4j-zk-").toFile();
    // minSessionTimeout is set to the tick by Curator; raise the maximum above the default
    // 20 ticks so the stores' default session timeout is granted too.
    InstanceSpec spec = new InstanceSpec(dir, port, -1, -1, true, -1, TICK_MS, -1,
        Map.of("maxSessionTimeout", "60000"), "127.0.0.1");
    return new TestingServer(spec, true);
  }
}
