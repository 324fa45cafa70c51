package io.te4j.transport.rdma.soft;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.rdma.soft.SoftObjects.Mr;
import io.te4j.transport.rdma.soft.SoftObjects.Qp;
import io.te4j.transport.rdma.soft.SoftObjects.Wc;
import io.te4j.transport.rdma.soft.SoftObjects.Work;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One emulated verbs device: a port with a GID, memory regions checked on every access, queue
 * pairs, and the "wire" between processes: a Unix-domain socket named after the GID in a shared
 * directory (the stand-in for the subnet), a responder thread per incoming connection, and a
 * requester thread that executes posted work requests in post order.
 *
 * <p>The fabric protocol, request: {@code op(1) srcQp(4) dstQp(4) remoteAddress(8) rkey(4)
 * length(4)} then, for a WRITE, the bytes; reply: {@code status(1)} then, for a successful READ,
 * the bytes. Status 0 is success, 1 a remote access error, 2 "dropped" (the responder QP is not
 * ready or not paired with the sender: the requester retries, then fails with RETRY_EXC_ERR), 3 a
 * remote operation error.
 */
final class SoftDevice {
  private static final byte OK = 0;
  private static final byte ACCESS = 1;
  private static final byte DROPPED = 2;
  private static final int HEADER = 25;
  private static final AtomicInteger NEXT_QPN = new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 16));

  final String name;
  /** The port's GID, and the socket named after it (both change with {@link #changeGid}). */
  volatile byte[] gid;
  volatile Path socket;
  final boolean nullNic;
  final long retryTimeoutMillis;
  volatile boolean portActive = true;
  /** Work requests still to fail with a local protection error (a fault hook). */
  final AtomicInteger localFaults = new AtomicInteger();
  /** Async events not yet read: {type, element}. */
  final java.util.Queue<long[]> events = new java.util.concurrent.ConcurrentLinkedQueue<>();
  final Map<Integer, Mr> byLkey = new ConcurrentHashMap<>();
  final Map<Integer, Mr> byRkey = new ConcurrentHashMap<>();
  final Map<Integer, Qp> qps = new ConcurrentHashMap<>();
  /** Requests this device's responder served successfully. */
  final java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
  private volatile ServerSocketChannel listener;
  private final ExecutorService requester;
  private final Map<String, SocketChannel> connections = new HashMap<>(); // requester thread only
  private final Thread acceptor;
  private volatile boolean closed;

  SoftDevice(String name, byte[] gid, Path dir, boolean nullNic, long retryTimeoutMillis)
      throws IOException {
    this.name = name;
    this.gid = gid;
    this.nullNic = nullNic;
    this.retryTimeoutMillis = retryTimeoutMillis;
    Files.createDirectories(dir);
    this.socket = dir.resolve(HexFormat.of().formatHex(gid) + ".sock");
    Files.deleteIfExists(socket);
    listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listener.bind(UnixDomainSocketAddress.of(socket));
    requester = Executors.newSingleThreadExecutor(r -> daemon(r, "softverbs-req-" + name));
    acceptor = daemon(this::accept, "softverbs-accept-" + name);
    acceptor.start();
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  static int newQpNum() {
    return NEXT_QPN.incrementAndGet() & 0xffffff;
  }

  // ------------------------------------------------------------------------------ requester

  void execute(Work w) {
    if (nullNic) {
      complete(w, WC_SUCCESS);
      return;
    }
    requester.execute(() -> {
      try {
        run(w);
      } catch (RuntimeException e) {
        // a bug of the emulator must not lose a completion: the transport would wait forever
        System.err.println("softverbs " + name + ": work request failed: " + e);
        fail(w, WC_GENERAL_ERR);
      }
    });
  }

  private void complete(Work w, int status) {
    synchronized (w.qp()) {
      w.qp().outstanding--;
    }
    w.qp().cq.push(new Wc(w.wrId(), status, w.opcode() == WR_RDMA_READ ? WC_RDMA_READ
        : WC_RDMA_WRITE, status == WC_SUCCESS ? w.length() : 0, w.qp().qpNum));
  }

  private void fail(Work w, int status) {
    w.qp().state = QPS_ERR;
    complete(w, status);
  }

  private void run(Work w) {
    Qp qp = w.qp();
    if (qp.state == QPS_ERR) {
      complete(w, WC_WR_FLUSH_ERR);
      return;
    }
    if (localFaults.get() > 0 && localFaults.getAndDecrement() > 0) {
      fail(w, WC_LOC_PROT_ERR);
      return;
    }
    Mr local = byLkey.get(w.lkey());
    boolean read = w.opcode() == WR_RDMA_READ;
    if (local == null || !local.valid || local.pd != qp.pd
        || !local.covers(w.localAddress(), w.length())
        || (read && (local.access & ACCESS_LOCAL_WRITE) == 0)) {
      fail(w, WC_LOC_PROT_ERR);
      return;
    }
    for (int attempt = 0; attempt <= qp.retryCount; attempt++) {
      if (qp.state == QPS_ERR) {
        complete(w, WC_WR_FLUSH_ERR);
        return;
      }
      if (!portActive) {
        pause();
        continue;
      }
      int status;
      try {
        status = exchange(w, local, read);
      } catch (IOException e) {
        drop(qp.destGid);
        pause();
        continue;
      }
      if (status == OK) {
        qp.executed++; // the requester thread is the only writer
        complete(w, WC_SUCCESS);
        return;
      }
      if (status == ACCESS) {
        fail(w, WC_REM_ACCESS_ERR);
        return;
      }
      if (status != DROPPED) {
        fail(w, WC_REM_OP_ERR);
        return;
      }
      pause();
    }
    fail(w, WC_RETRY_EXC_ERR);
  }

  private void pause() {
    try {
      Thread.sleep(retryTimeoutMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private int exchange(Work w, Mr local, boolean read) throws IOException {
    SocketChannel c = connection(w.qp().destGid);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(retryTimeoutMillis * 4);
    ByteBuffer h = ByteBuffer.allocate(HEADER);
    h.put((byte) w.opcode()).putInt(w.qp().qpNum).putInt(w.qp().destQpNum)
        .putLong(w.remoteAddress()).putInt(w.rkey()).putInt(w.length()).flip();
    write(c, h, deadline);
    local.lock.readLock().lock();
    try {
      if (!local.valid) {
        throw new IOException("local MR deregistered");
      }
      ByteBuffer data = NativeMemory.view(w.localAddress(), w.length());
      if (!read) {
        write(c, data, deadline);
      }
      ByteBuffer status = ByteBuffer.allocate(1);
      readFully(c, status, deadline);
      byte s = status.get(0);
      if (s == OK && read) {
        readFully(c, data, deadline);
      }
      return s;
    } finally {
      local.lock.readLock().unlock();
    }
  }

  private SocketChannel connection(byte[] dgid) throws IOException {
    String key = HexFormat.of().formatHex(dgid);
    SocketChannel c = connections.get(key);
    if (c == null) {
      c = SocketChannel.open(UnixDomainSocketAddress.of(socket.resolveSibling(key + ".sock")));
      c.configureBlocking(false);
      connections.put(key, c);
    }
    return c;
  }

  private void drop(byte[] dgid) {
    SocketChannel c = connections.remove(HexFormat.of().formatHex(dgid));
    if (c != null) {
      try {
        c.close();
      } catch (IOException ignored) {
        // gone already
      }
    }
  }

  private static void write(SocketChannel c, ByteBuffer b, long deadline) throws IOException {
    while (b.hasRemaining()) {
      if (c.write(b) == 0) {
        await(c, SelectionKey.OP_WRITE, deadline);
      }
    }
  }

  private static void readFully(SocketChannel c, ByteBuffer b, long deadline) throws IOException {
    while (b.hasRemaining()) {
      int n = c.read(b);
      if (n < 0) {
        throw new EOFException("peer closed");
      }
      if (n == 0) {
        await(c, SelectionKey.OP_READ, deadline);
      }
    }
  }

  private static void await(SocketChannel c, int op, long deadline) throws IOException {
    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (left <= 0) {
      throw new IOException("timed out");
    }
    try (Selector s = Selector.open()) {
      c.register(s, op);
      s.select(left);
    }
  }

  // ------------------------------------------------------------------------------ responder

  private void accept() {
    while (!closed) {
      ServerSocketChannel l = listener;
      try {
        SocketChannel c = l.accept();
        daemon(() -> respond(c), "softverbs-resp-" + name).start();
      } catch (IOException e) {
        if (l == listener) {
          return; // closed
        } // else the GID changed: accept on the new socket
      }
    }
  }

  /**
   * The port's GID becomes {@code newGid}: the device answers on the socket named after it, peers
   * still sending to the old one find nobody (as packets to a vanished address), and the async
   * event GID_CHANGE is raised.
   */
  synchronized void changeGid(byte[] newGid) throws IOException {
    Path next = socket.resolveSibling(HexFormat.of().formatHex(newGid) + ".sock");
    Files.deleteIfExists(next);
    ServerSocketChannel l = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    l.bind(UnixDomainSocketAddress.of(next));
    ServerSocketChannel old = listener;
    Path oldSocket = socket;
    gid = newGid.clone();
    socket = next;
    listener = l;
    old.close();
    Files.deleteIfExists(oldSocket);
    events.add(new long[] {EVENT_GID_CHANGE, 1});
  }

  private void respond(SocketChannel c) {
    try (c) {
      ByteBuffer h = ByteBuffer.allocate(HEADER);
      ByteBuffer status = ByteBuffer.allocate(1);
      while (!closed) {
        h.clear();
        while (h.hasRemaining()) {
          if (c.read(h) < 0) {
            return;
          }
        }
        h.flip();
        int op = h.get();
        int srcQp = h.getInt();
        int dstQp = h.getInt();
        long address = h.getLong();
        int rkey = h.getInt();
        int length = h.getInt();
        boolean write = op == WR_RDMA_WRITE;
        Qp qp = qps.get(dstQp);
        byte s = OK;
        Mr mr = null;
        if (qp == null || !portActive || (qp.state != QPS_RTR && qp.state != QPS_RTS)
            || qp.destQpNum != srcQp) {
          s = DROPPED;
        } else {
          mr = byRkey.get(rkey);
          int need = write ? ACCESS_REMOTE_WRITE : ACCESS_REMOTE_READ;
          if (mr == null || !mr.valid || mr.pd != qp.pd || (mr.access & need) == 0
              || !mr.covers(address, length)) {
            s = ACCESS;
            qp.state = QPS_ERR; // the responder's QP fails too (IB: QP_ACCESS_ERR)
            mr = null;
          }
        }
        if (mr != null) {
          mr.lock.readLock().lock();
        }
        try {
          if (mr != null && !mr.valid) {
            s = ACCESS;
          }
          if (write) {
            ByteBuffer into = s == OK ? NativeMemory.view(address, length)
                : ByteBuffer.allocate(Math.min(length, 1 << 16));
            long left = length;
            while (left > 0) {
              if (s != OK) {
                into.clear().limit((int) Math.min(into.capacity(), left));
              }
              int n = c.read(into);
              if (n < 0) {
                return;
              }
              left -= n;
            }
          }
          status.clear();
          status.put(s).flip();
          while (status.hasRemaining()) {
            c.write(status);
          }
          if (!write && s == OK) {
            ByteBuffer from = NativeMemory.view(address, length);
            while (from.hasRemaining()) {
              c.write(from);
            }
          }
          if (s == OK) {
            served.incrementAndGet();
          }
        } finally {
          if (mr != null) {
            mr.lock.readLock().unlock();
          }
        }
      }
    } catch (IOException e) {
      // the requester went away
    }
  }

  void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing
    }
    requester.shutdownNow();
    try {
      requester.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (SocketChannel c : connections.values()) {
      try {
        c.close();
      } catch (IOException ignored) {
        // closing
      }
    }
    try {
      Files.deleteIfExists(socket);
    } catch (IOException ignored) {
      // left for the next run to replace
    }
  }
}
