package io.te4j.core.rpc;

import io.te4j.api.TransferNotify;
import io.te4j.api.spi.PeerAuth;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Shared pieces of the RPC tests: a recording handler, a tracking thread factory, raw sockets. */
final class RpcTestSupport {
  private RpcTestSupport() {}

  /**
   * The reply the reference's TCP engine gives a connection handshake (WIRE.md section 3): every
   * field empty, keys sorted as jsoncpp writes them. Here it stands for what a transport serving
   * type 0 answers.
   */
  static final String CONNECTION_REPLY =
      "{\"local_gid\":\"\",\"local_lid\":0,\"local_nic_path\":\"\",\"payload\":\"\","
          + "\"peer_nic_path\":\"\",\"qp_num\":[],\"reply_msg\":\"\"}";

  /** Remembers what it was asked and answers with a fixed descriptor. */
  static final class RecordingHandler implements RpcHandler {
    final BlockingQueue<TransferNotify> notifies = new LinkedBlockingQueue<>();
    final BlockingQueue<String> handshakes = new LinkedBlockingQueue<>();
    volatile String descriptor;

    RecordingHandler(String descriptor) {
      this.descriptor = descriptor;
    }

    @Override
    public String localDescriptorJson() {
      return descriptor;
    }

    @Override
    public boolean onNotify(TransferNotify notify) {
      notifies.add(notify);
      return true;
    }

    /** What a transport serving type 0 would answer; null: nobody serves it. */
    volatile String connectionReply = CONNECTION_REPLY;

    @Override
    public String onOtherFrame(int type, String body, String peer) {
      handshakes.add(body);
      return type == 0 ? connectionReply : null;
    }
  }

  /** Daemon threads whose every instance is remembered, so tests can check none outlives close. */
  static final class TrackingThreadFactory implements ThreadFactory {
    final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicInteger counter = new AtomicInteger();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, "rpc-test-" + counter.incrementAndGet());
      t.setDaemon(true);
      threads.add(t);
      return t;
    }

    /** Threads still alive after waiting up to {@code millisEach} for each to end. */
    List<Thread> survivors(long millisEach) throws InterruptedException {
      for (Thread t : threads) {
        t.join(millisEach);
      }
      return threads.stream().filter(Thread::isAlive).toList();
    }
  }

  static RpcServer start(RpcHandler handler, Duration deadline, TrackingThreadFactory threads) {
    return RpcServer.start(handler, PeerAuth.NONE, "127.0.0.1", 0, 0,
        FrameCodec.DEFAULT_MAX_FRAME_BYTES, deadline, threads);
  }

  static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
    s.setSoTimeout(10_000);
    return s;
  }

  /** Sends {@code request} and returns every byte the server sends until it closes. */
  static byte[] exchange(int port, byte[] request) throws IOException {
    try (Socket s = connect(port)) {
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      return s.getInputStream().readAllBytes();
    }
  }

  /**
   * Reads until the server closes the connection and returns how many bytes came first. A reset
   * counts as a close (the server closed with our unread bytes in its buffer); a read timeout is
   * thrown, because the server did not close.
   */
  static int bytesUntilClosed(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    byte[] buf = new byte[4096];
    int total = 0;
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        total += n;
      }
    } catch (SocketException reset) {
      // Connection reset: closed by the server with data still unread.
    }
    return total;
  }
}
