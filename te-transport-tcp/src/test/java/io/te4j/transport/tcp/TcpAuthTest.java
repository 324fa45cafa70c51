package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferState;
import io.te4j.api.spi.PeerAuth;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The data port with a cluster secret: initiators with the same secret transfer; one with another
 * secret, one without, and a raw reference-format initiator are refused before any request is
 * read, counted, and touch nothing; the target keeps serving the real peer meanwhile.
 */
@Timeout(60)
class TcpAuthTest {
  private static final long LOCAL = 0x1000_0000L;
  private static final long REMOTE = 0x2000_0000L;
  private static final int LEN = 1 << 20;

  private final Random rnd = new Random(7);
  private final PeerAuth cluster = PeerAuth.withSecret(secret("right"));
  private TestRegion remote;
  private TcpTransport target;

  private static byte[] secret(String tag) {
    return ("te4j-test-secret-" + tag).getBytes(StandardCharsets.US_ASCII);
  }

  @BeforeEach
  void startTarget() throws Exception {
    TestMemory memory = new TestMemory();
    remote = memory.add(REMOTE, LEN, true);
    remote.put(REMOTE, TcpTestSupport.random(rnd, LEN));
    target = TcpTestSupport.started(new TestContext(memory).peerAuth(cluster));
  }

  @AfterEach
  void stopTarget() {
    target.close();
  }

  /** Writes {@code data} at REMOTE from an initiator authenticating with {@code auth}. */
  private TestSlice.Outcome write(PeerAuth auth, byte[] data) throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, LEN, true);
    local.put(LOCAL, data);
    SegmentDescriptor d = TcpTestSupport.descriptorOf(target);
    try (TcpTransport initiator = new TcpTransport(new TestContext(memory).peerAuth(auth))) {
      TestSlice w = TestSlice.write(local, LOCAL, d, REMOTE, data.length, 10_000);
      initiator.submit(w);
      return w.await(15_000);
    }
  }

  /** Waits (bounded) until the target counted at least {@code n} refused peers. */
  private void awaitRefused(long n) throws InterruptedException {
    long end = System.nanoTime() + 10_000_000_000L;
    while (cluster.refused() < n && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertTrue(cluster.refused() >= n, cluster.refused() + " refused, expected " + n);
  }

  @Test
  void initiatorsWithTheSecretTransfer() throws Exception {
    byte[] data = TcpTestSupport.random(rnd, 64 << 10);
    TestSlice.Outcome o = write(PeerAuth.withSecret(secret("right")), data);
    assertTrue(o.ok(), o.toString());
    assertArrayEquals(data, remote.get(REMOTE, data.length));
    assertEquals(0, cluster.refused());
  }

  @Test
  void anotherSecretOrNoneIsRefusedAndTouchesNothing() throws Exception {
    byte[] before = remote.snapshot();
    TestSlice.Outcome wrong = write(PeerAuth.withSecret(secret("wrong")), new byte[4096]);
    assertEquals(TransferState.FAILED, wrong.state(), wrong.toString());
    assertEquals(ErrorCode.REJECT_HANDSHAKE, wrong.code(), wrong.toString());
    awaitRefused(1); // counted once the peer hung up on the target's proof
    TestSlice.Outcome none = write(PeerAuth.NONE, new byte[4096]);
    assertEquals(TransferState.FAILED, none.state(), none.toString());
    assertArrayEquals(before, remote.snapshot());
    awaitRefused(2); // once per connection it tried
    long refused = cluster.refused();

    // A raw reference-format initiator: its request header is taken for a hello and refused.
    try (RawClient c = new RawClient(target.dataPort())) {
      c.send(RawWire.header(16, REMOTE, 0x81), new byte[16]);
      assertTrue(c.closedByPeer());
    }
    assertArrayEquals(before, remote.snapshot());
    awaitRefused(refused + 1);

    // The real peer is served as before.
    byte[] data = TcpTestSupport.random(rnd, 4096);
    assertTrue(write(PeerAuth.withSecret(secret("right")), data).ok());
    assertArrayEquals(data, remote.get(REMOTE, data.length));
  }
}
