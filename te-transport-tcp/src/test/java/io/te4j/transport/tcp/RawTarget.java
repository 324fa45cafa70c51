package io.te4j.transport.tcp;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A target written from WIRE.md with plain blocking sockets: one byte array of memory at a fake
 * base address, one thread per connection.
 */
final class RawTarget implements AutoCloseable {
  enum Mode {
    /** The reference before v0.3.12: no status frames, anything but WRITE is a READ. */
    V1,
    /** Status frames when the request carries the 0x80 bit. */
    V2,
    /** Accepts, reads requests, never answers. */
    SILENT,
    /** Like V2 but the status frames carry a wrong magic. */
    BAD_MAGIC,
    /**
     * Like V2, but a READ's answer stalls after half its data until {@link #wake} opens; then the
     * rest goes out (a peer that stalls, then wakes up) and {@link #answered} counts down.
     */
    STALL_MID_READ
  }

  volatile Mode mode;
  /** Every request waits for this latch before it is answered (open by default). */
  volatile java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(0);
  /** What a {@link Mode#STALL_MID_READ} answer waits for before its second half. */
  final java.util.concurrent.CountDownLatch wake = new java.util.concurrent.CountDownLatch(1);
  /** Counted down once a stalled answer tried to send its second half. */
  final java.util.concurrent.CountDownLatch answered = new java.util.concurrent.CountDownLatch(1);
  final long base;
  final byte[] memory;
  final List<byte[]> headers = Collections.synchronizedList(new ArrayList<>());
  private final ServerSocket server;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final List<Thread> threads = new CopyOnWriteArrayList<>();

  RawTarget(Mode mode, long base, int size) throws IOException {
    this.mode = mode;
    this.base = base;
    this.memory = new byte[size];
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "raw-target-accept");
    acceptor.setDaemon(true);
    threads.add(acceptor);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Connections open now. */
  int connections() {
    return sockets.size();
  }

  /** Connections accepted so far. */
  int accepted() {
    return threads.size() - 1;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        sockets.add(s);
        Thread t = new Thread(() -> serve(s), "raw-target-conn");
        t.setDaemon(true);
        threads.add(t);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
      OutputStream out = s.getOutputStream();
      while (true) {
        byte[] h = new byte[24];
        try {
          in.readFully(h);
        } catch (EOFException e) {
          return;
        }
        headers.add(h);
        long size = RawWire.getLe(h, 0);
        long addr = RawWire.getLe(h, 8);
        int op = h[16] & 0xFF;
        try {
          gate.await();
        } catch (InterruptedException e) {
          return;
        }
        Mode m = mode;
        if (m == Mode.SILENT) {
          while (in.read() >= 0) {
            // swallow everything, answer nothing
          }
          return;
        }
        boolean v2 = m != Mode.V1 && (op & 0x80) != 0;
        boolean write = v2 ? (op & 0x7F) == 1 : op == 1;
        byte[] okStatus = m == Mode.BAD_MAGIC
            ? new byte[] {0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44} : RawWire.STATUS_OK;
        boolean inside = Long.compareUnsigned(addr, base) >= 0
            && Long.compareUnsigned(size, memory.length) <= 0
            && Long.compareUnsigned(addr - base, memory.length - size) <= 0;
        if (!inside) {
          if (v2) {
            out.write(RawWire.STATUS_REJECTED);
            out.flush();
          }
          return;
        }
        int off = (int) (addr - base);
        int n = (int) size;
        if (write) {
          byte[] data = RawWire.readFully(in, n);
          synchronized (memory) {
            System.arraycopy(data, 0, memory, off, n);
          }
          if (v2) {
            out.write(okStatus);
          }
        } else {
          if (v2) {
            out.write(okStatus);
          }
          byte[] data = new byte[n];
          synchronized (memory) {
            System.arraycopy(memory, off, data, 0, n);
          }
          if (m == Mode.STALL_MID_READ) {
            stallMidAnswer(out, data);
            return;
          }
          out.write(data);
        }
        out.flush();
      }
    } catch (IOException e) {
      // the initiator went away
    } finally {
      sockets.remove(s);
    }
  }

  private void stallMidAnswer(OutputStream out, byte[] data) throws IOException {
    out.write(data, 0, data.length / 2);
    out.flush();
    try {
      wake.await();
      out.write(data, data.length / 2, data.length - data.length / 2);
      out.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      answered.countDown();
    }
  }

  byte[] get(long addr, int n) {
    byte[] out = new byte[n];
    synchronized (memory) {
      System.arraycopy(memory, (int) (addr - base), out, 0, n);
    }
    return out;
  }

  void put(long addr, byte[] data) {
    synchronized (memory) {
      System.arraycopy(data, 0, memory, (int) (addr - base), data.length);
    }
  }

  /** Closes the listener and every connection (the peer "dies"). */
  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
    for (Thread t : threads) {
      try {
        t.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
