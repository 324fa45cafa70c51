package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Connections to the data port cost no thread each (the I/O threads serve them all), and idle ones
 * never lock a real peer out.
 */
@Timeout(120)
class DataPortBoundsTest {
  private static final long BASE = 0x2000_0000L;

  @Test
  void tenThousandIdleConnectionsCannotLockARealPeerOut() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion region = memory.add(BASE, 1 << 20, true);
    TcpTransport target = TcpTestSupport.started(new TestContext(memory));
    List<Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 10_000; i++) {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", target.dataPort()), 5_000);
        idle.add(s);
      }
      // connect() returns once the client has the SYN-ACK; when the listen backlog overflowed,
      // the server side completes such connections later (retransmitted SYN-ACKs), so some of
      // them would be accepted after the real peer and evict its connection before its worker
      // ran. The bound is about all 10,000 being there: wait until the target has taken each one
      // (serving it, or closed to make room), then the real peer comes.
      awaitTrue(() -> target.targetConnectionCount() + target.targetRefusedConnections()
          >= 10_000, 60_000, "the target to take all 10,000 connections");
      // A real peer (the same loopback address as all of them) still transfers.
      byte[] data = TcpTestSupport.random(new Random(5), 64 << 10);
      try (RawClient c = new RawClient(target.dataPort())) {
        c.send(RawWire.header(data.length, BASE, 0x81), data);
        assertArrayEquals(RawWire.STATUS_OK, c.read(8));
        c.send(RawWire.header(data.length, BASE, 0x80));
        assertArrayEquals(RawWire.STATUS_OK, c.read(8));
        assertArrayEquals(data, c.read(data.length));
      }
      assertArrayEquals(data, region.get(BASE, data.length));
      // Only up to the per-address bound: the oldest idle connections were closed to make room
      // for the newer ones.
      assertTrue(target.targetConnectionCount() <= TcpTarget.MAX_CONNECTIONS_PER_ADDRESS,
          "served: " + target.targetConnectionCount());
      assertTrue(target.targetRefusedConnections()
          >= 10_000 - TcpTarget.MAX_CONNECTIONS_PER_ADDRESS, "refused: "
          + target.targetRefusedConnections());
    } finally {
      for (Socket s : idle) {
        s.close();
      }
      target.close();
    }
    awaitTrue(() -> target.targetConnectionCount() == 0, 10_000, "every connection to end");
  }

  @Test
  void threeThousandConnectionsFromThreeHostsCostNoThreadEach() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion region = memory.add(BASE, 1 << 20, true);
    TestContext context = new TestContext(memory).set(TcpTarget.IO_THREADS_SETTING, "2");
    TcpTransport target = TcpTestSupport.started(context);
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 3000; i++) {
        Socket s = new Socket();
        s.bind(new InetSocketAddress("127.0.0." + (2 + i % 3), 0)); // three peers
        s.connect(new InetSocketAddress("127.0.0.1", target.dataPort()), 5_000);
        held.add(s);
      }
      awaitTrue(() -> target.targetConnectionCount() == 3000, 60_000,
          "the target to serve all 3,000 connections");
      // Every one of them is a working connection: a request on each of a sample is answered.
      byte[] data = TcpTestSupport.random(new Random(3), 4096);
      for (int i = 0; i < held.size(); i += 97) {
        Socket s = held.get(i);
        s.getOutputStream().write(RawWire.header(data.length, BASE + i, 0x81));
        s.getOutputStream().write(data);
        assertArrayEquals(RawWire.STATUS_OK, RawWire.readFully(s.getInputStream(), 8));
        assertArrayEquals(data, region.get(BASE + i, data.length));
      }
      // Threads the transport made: the acceptor, the idle check and the two I/O threads.
      List<Thread> alive = context.threads().stream().filter(Thread::isAlive).toList();
      assertTrue(alive.size() <= 4, "threads for 3,000 connections: " + alive);
      assertEquals(0, target.targetRefusedConnections());
    } finally {
      for (Socket s : held) {
        s.close();
      }
      target.close();
    }
    awaitTrue(() -> target.targetConnectionCount() == 0, 10_000, "every connection to end");
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAtTheIdleTimeout() throws Exception {
    TestMemory memory = new TestMemory();
    memory.add(BASE, 1 << 20, true);
    TcpTransport target = TcpTestSupport.started(new TestContext(memory)
        .set(TcpTransport.IDLE_TIMEOUT_SETTING, "0.3"));
    try (RawClient silent = new RawClient(target.dataPort());
        RawClient used = new RawClient(target.dataPort())) {
      used.send(RawWire.header(16, BASE, 0x80));
      assertArrayEquals(RawWire.STATUS_OK, used.read(8));
      used.read(16);
      assertTrue(silent.closedByPeer(), "an idle connection stays open");
      assertTrue(used.closedByPeer(), "a connection idle after a request stays open");
      assertTrue(target.targetRefusedConnections() >= 2);
    } finally {
      target.close();
    }
  }

  private static void awaitTrue(BooleanSupplier condition, long millis, String what)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }
}
