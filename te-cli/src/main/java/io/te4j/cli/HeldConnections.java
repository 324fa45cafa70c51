package io.te4j.cli;

import io.te4j.api.HostPort;
import io.te4j.api.SegmentDescriptor;
import io.te4j.transport.tcp.TcpDescriptorFields;
import io.te4j.transport.tcp.TcpWire;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code te bench --hold-connections N}: N idle connections to the target's TCP data port, held
 * open while the bench runs, as a thousand peers with ten lanes each would hold them (each sends
 * one zero-byte request first, as a lane that served would have). On loopback
 * they come from {@value #PER_ADDRESS} per source address (127.0.0.2, 127.0.0.3, ...), so the
 * target's per-address bound is not what is measured. When the target is a child of this bench,
 * its thread count and resident memory are read from {@code /proc} before and after.
 */
final class HeldConnections implements AutoCloseable {
  static final int PER_ADDRESS = 1000;

  private final List<SocketChannel> held = new ArrayList<>();
  /** The target's threads and resident kilobytes before and after, or -1 when unknown. */
  final long threadsBefore;
  final long threadsAfter;
  final long residentKbBefore;
  final long residentKbAfter;

  private HeldConnections(long pid, String host, int port, int count) throws IOException,
      InterruptedException {
    long[] before = processStatus(pid);
    threadsBefore = before[0];
    residentKbBefore = before[1];
    boolean loopback = InetAddress.getByName(host).isLoopbackAddress();
    ByteBuffer header = TcpWire.newHeaderBuffer();
    ByteBuffer status = TcpWire.newStatusBuffer();
    try {
      for (int i = 0; i < count; i++) {
        SocketChannel c = SocketChannel.open();
        held.add(c);
        if (loopback) {
          c.bind(new InetSocketAddress("127.0.0." + (2 + i / PER_ADDRESS), 0));
        }
        c.connect(new InetSocketAddress(host, port));
        ping(c, header, status);
      }
    } catch (IOException e) {
      close();
      throw new IOException("opened " + (held.size() - 1) + " of " + count + " connections to "
          + host + ":" + port + ": " + e.getMessage() + " (each side needs a file descriptor per"
          + " connection: see ulimit -n)", e);
    }
    Thread.sleep(2000); // the target takes them in: accept, register, first read
    long[] after = processStatus(pid);
    threadsAfter = after[0];
    residentKbAfter = after[1];
  }

  /**
   * Opens {@code count} connections to the data port {@code target} publishes.
   *
   * @param pid the target's process id when it runs on this host, else -1
   */
  static HeldConnections open(SegmentDescriptor target, long pid, int count, PrintStream err)
      throws IOException, InterruptedException {
    if (!TcpDescriptorFields.hasDataPort(target)) {
      throw new UsageException("--hold-connections needs a target with a TCP data port");
    }
    HostPort hp = HostPort.tryParse(target.name());
    String host = hp != null ? hp.host() : target.name();
    err.println("opening " + count + " idle connections to " + host + ":"
        + TcpDescriptorFields.dataPort(target) + " ...");
    HeldConnections h = new HeldConnections(pid, host, TcpDescriptorFields.dataPort(target),
        count);
    err.println(h.summary());
    return h;
  }

  /**
   * One zero-byte v2 WRITE, answered with a status: the connection is then a lane that served a
   * request, which the target keeps for its idle timeout (a connection that never sends is
   * closed after 10 s).
   */
  private static void ping(SocketChannel c, ByteBuffer header, ByteBuffer status)
      throws IOException {
    TcpWire.encodeHeader(header, 0, 0, TcpWire.OP_WRITE | TcpWire.V2_FLAG);
    while (header.hasRemaining()) {
      c.write(header);
    }
    status.clear();
    while (status.hasRemaining()) {
      if (c.read(status) < 0) {
        throw new IOException("the target closed a connection before answering it");
      }
    }
    if (TcpWire.statusCode(status.getLong(0)) != TcpWire.STATUS_OK) {
      throw new IOException("the target refused a zero-byte request");
    }
  }

  String summary() {
    String s = "holding " + held.size() + " idle connections to the target's data port";
    if (threadsBefore < 0 || threadsAfter < 0) {
      return s + " (the target's threads and memory are known only when this bench started it)";
    }
    return s + ": target threads " + threadsBefore + " -> " + threadsAfter
        + ", resident memory " + residentKbBefore / 1024 + " MiB -> " + residentKbAfter / 1024
        + " MiB";
  }

  int count() {
    return held.size();
  }

  @Override
  public void close() {
    for (SocketChannel c : held) {
      try {
        c.close();
      } catch (IOException ignored) {
        // closing what we opened; nothing else to do
      }
    }
  }

  /** {threads, VmRSS in kB} of process {@code pid} from /proc, or -1s. */
  private static long[] processStatus(long pid) {
    long[] out = {-1, -1};
    if (pid < 0) {
      return out;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("Threads:")) {
          out[0] = Long.parseLong(line.substring(8).trim());
        } else if (line.startsWith("VmRSS:")) {
          out[1] = Long.parseLong(line.substring(6).replace("kB", "").trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      return new long[] {-1, -1};
    }
    return out;
  }
}
