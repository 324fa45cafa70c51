package io.te4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.te4j.api.TransferOpcode;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the engine is measured against in the same run: a plain Java socket copy of the same block
 * size (one connection, direct buffers, blocking), and iperf3's single stream when installed.
 */
final class Baselines {
  private Baselines() {}

  /**
   * GB/s of one loopback TCP connection copying {@code block}-sized direct buffers for {@code
   * seconds}; for READ the bytes flow the other way (the server sends), as in the engine.
   */
  static double socketCopy(TransferOpcode op, long block, int seconds) throws Exception {
    int size = (int) Math.min(block, 64L << 20);
    try (ServerSocketChannel server = ServerSocketChannel.open()) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      AtomicLong received = new AtomicLong();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      Thread peer = new Thread(() -> {
        try (SocketChannel s = server.accept()) {
          pump(s, size, op == TransferOpcode.READ, deadline, received);
        } catch (IOException e) {
          // the other side closed: done
        }
      }, "baseline-socket-server");
      peer.start();
      long start = System.nanoTime();
      try (SocketChannel c = SocketChannel.open(server.getLocalAddress())) {
        pump(c, size, op == TransferOpcode.WRITE, deadline, received);
      }
      peer.join();
      double elapsed = (System.nanoTime() - start) / 1e9;
      return received.get() / elapsed / 1e9;
    }
  }

  private static void pump(SocketChannel c, int size, boolean sender, long deadline,
      AtomicLong received) throws IOException {
    c.socket().setTcpNoDelay(true);
    ByteBuffer buf = ByteBuffer.allocateDirect(size);
    if (sender) {
      while (System.nanoTime() < deadline) {
        buf.clear();
        while (buf.hasRemaining()) {
          c.write(buf);
        }
      }
      c.shutdownOutput();
    } else {
      for (int n; (n = c.read(buf.clear())) >= 0; ) {
        received.addAndGet(n);
      }
    }
  }

  /** iperf3 single stream on loopback in GB/s, or null when iperf3 is not installed. */
  static Double iperf3(int seconds) throws Exception {
    if (!onPath("iperf3")) {
      return null;
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process server = new ProcessBuilder("iperf3", "-s", "-1", "-p", Integer.toString(port))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      Thread.sleep(300);
      File out = File.createTempFile("iperf3-", ".json");
      Process client = new ProcessBuilder("iperf3", "-c", "127.0.0.1", "-p",
          Integer.toString(port), "-t", Integer.toString(seconds), "-J")
          .redirectOutput(out).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      if (!client.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
        client.destroyForcibly();
        return null;
      }
      JsonNode j = new ObjectMapper().readTree(Files.readString(out.toPath()));
      Files.deleteIfExists(out.toPath());
      JsonNode bps = j.path("end").path("sum_received").path("bits_per_second");
      return bps.isNumber() ? bps.asDouble() / 8e9 : null;
    } finally {
      server.destroyForcibly();
    }
  }

  private static boolean onPath(String exe) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (new File(dir, exe).canExecute()) {
        return true;
      }
    }
    return false;
  }
}
