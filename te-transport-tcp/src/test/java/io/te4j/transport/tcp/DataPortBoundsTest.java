package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

/** Idle connections to the data port cost bounded threads and never lock a real peer out. */
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
      // One thread per connection still, but only up to the per-address bound: the oldest idle
      // connections were closed to make room for the newer ones.
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
    awaitTrue(() -> target.targetConnectionCount() == 0, 10_000, "every worker to end");
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
