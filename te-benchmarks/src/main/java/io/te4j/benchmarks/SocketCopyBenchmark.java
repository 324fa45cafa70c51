package io.te4j.benchmarks;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The baseline: one loopback socket, direct buffers, blocking copy of the same bytes as {@link
 * TcpTransferBenchmark} (block x batch per op), each op acknowledged by one byte like a v2 status.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class SocketCopyBenchmark {
  @Param({"4096:128", "65536:16", "1048576:4", "4194304:1"})
  public String blockAndBatch;

  private ServerSocketChannel server;
  private SocketChannel client;
  private Thread sink;
  private ByteBuffer payload;
  private final ByteBuffer ack = ByteBuffer.allocateDirect(1);

  @Setup(Level.Trial)
  public void start() throws IOException {
    String[] p = blockAndBatch.split(":");
    int bytes = Integer.parseInt(p[0]) * Integer.parseInt(p[1]);
    payload = ByteBuffer.allocateDirect(bytes);
    server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
    client = SocketChannel.open(server.getLocalAddress());
    client.socket().setTcpNoDelay(true);
    SocketChannel accepted = server.accept();
    accepted.socket().setTcpNoDelay(true);
    sink = new Thread(() -> {
      ByteBuffer in = ByteBuffer.allocateDirect(bytes);
      ByteBuffer reply = ByteBuffer.allocateDirect(1);
      try (SocketChannel s = accepted) {
        while (true) {
          in.clear();
          while (in.hasRemaining()) {
            if (s.read(in) < 0) {
              return;
            }
          }
          reply.clear();
          s.write(reply);
        }
      } catch (IOException e) {
        // closed
      }
    }, "socket-sink");
    sink.start();
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    client.close();
    sink.join();
    server.close();
  }

  @Benchmark
  public int copy() throws IOException {
    payload.clear();
    while (payload.hasRemaining()) {
      client.write(payload);
    }
    ack.clear();
    while (ack.hasRemaining()) {
      client.read(ack);
    }
    return ack.get(0);
  }
}
