package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data connections over TLS 1.3: bytes intact both ways at every size (records staged and records
 * decrypted straight into registered memory, many requests pipelined); a peer without TLS or with
 * a certificate the cluster does not trust is refused and touches nothing; TLS and the cluster
 * secret together.
 */
@Timeout(60)
class TcpTlsTest {
  private static final long LOCAL = 0x1000_0000L;
  private static final long REMOTE = 0x2000_0000L;
  private static final int LEN = 4 << 20;
  private static final String PASSWORD = "te4j-test";

  @TempDir
  static Path dir;
  private static Path cluster;
  private static Path stranger;

  private final Random rnd = new Random(11);

  @BeforeAll
  static void keyStores() throws Exception {
    cluster = TcpTestSupport.keyStore(dir, "cluster", PASSWORD);
    stranger = TcpTestSupport.keyStore(dir, "stranger", PASSWORD);
  }

  private static TestContext tls(TestMemory memory, Path keyStore) {
    return new TestContext(memory).set("te4j.tcp.tls", "true")
        .set("te4j.tcp.tls.keyStore", keyStore.toString())
        .set("te4j.tcp.tls.password", PASSWORD);
  }

  @Test
  void bytesArriveIntactBothWaysAtEverySize() throws Exception {
    TestMemory targetMemory = new TestMemory();
    TestRegion remote = targetMemory.add(REMOTE, LEN, true);
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, LEN, true);
    try (TcpTransport target = TcpTestSupport.started(tls(targetMemory, cluster));
        TcpTransport initiator = new TcpTransport(tls(memory, cluster))) {
      SegmentDescriptor d = TcpTestSupport.descriptorOf(target);
      int[] sizes = {1, 100, 4096, 16 << 10, 17_000, (1 << 20) + 7};
      long offset = 0;
      List<TestSlice> writes = new ArrayList<>();
      List<byte[]> written = new ArrayList<>();
      for (int size : sizes) {
        byte[] data = TcpTestSupport.random(rnd, size);
        local.put(LOCAL + offset, data);
        writes.add(TestSlice.write(local, LOCAL + offset, d, REMOTE + offset, size, 20_000));
        written.add(data);
        offset += size;
      }
      writes.forEach(initiator::submit); // pipelined on the lanes
      offset = 0;
      for (int i = 0; i < sizes.length; i++) {
        TestSlice.Outcome o = writes.get(i).await(20_000);
        assertTrue(o.ok(), o.toString());
        assertArrayEquals(written.get(i), remote.get(REMOTE + offset, sizes[i]), "write " + i);
        offset += sizes[i];
      }
      byte[] back = TcpTestSupport.random(rnd, (1 << 20) + 3);
      remote.put(REMOTE + LEN / 2, back);
      long at = LOCAL + LEN / 2;
      List<TestSlice> reads = new ArrayList<>();
      for (int piece = 0; piece < back.length; piece += 300_000) {
        int n = Math.min(300_000, back.length - piece);
        reads.add(TestSlice.read(local, at + piece, d, REMOTE + LEN / 2 + piece, n, 20_000));
      }
      reads.forEach(initiator::submit);
      for (TestSlice r : reads) {
        TestSlice.Outcome o = r.await(20_000);
        assertTrue(o.ok(), o.toString());
      }
      assertArrayEquals(back, local.get(at, back.length));
    }
  }

  @Test
  void aPeerWithoutTlsOrWithAStrangersCertificateIsRefused() throws Exception {
    TestMemory targetMemory = new TestMemory();
    TestRegion remote = targetMemory.add(REMOTE, 1 << 20, true);
    try (TcpTransport target = TcpTestSupport.started(tls(targetMemory, cluster))) {
      SegmentDescriptor d = TcpTestSupport.descriptorOf(target);
      byte[] before = remote.snapshot();
      for (TestContext peer : new TestContext[] {
          new TestContext(new TestMemory()), tls(new TestMemory(), stranger)}) {
        TestRegion local = ((TestMemory) peer.memory()).add(LOCAL, 1 << 20, true);
        local.put(LOCAL, TcpTestSupport.random(rnd, 4096));
        try (TcpTransport initiator = new TcpTransport(peer)) {
          TestSlice w = TestSlice.write(local, LOCAL, d, REMOTE, 4096, 5_000);
          initiator.submit(w);
          TestSlice.Outcome o = w.await(10_000);
          assertEquals(TransferState.FAILED, o.state(), o.toString());
          assertFalse(o.ok());
        }
      }
      assertArrayEquals(before, remote.snapshot(), "nothing written");
      // The cluster's own peer is served as before.
      TestMemory memory = new TestMemory();
      TestRegion local = memory.add(LOCAL, 1 << 20, true);
      try (TcpTransport initiator = new TcpTransport(tls(memory, cluster))) {
        TestSlice w = TestSlice.write(local, LOCAL, d, REMOTE, 4096, 10_000);
        initiator.submit(w);
        assertTrue(w.await(10_000).ok());
      }
    }
  }

  @Test
  void aStrangersCertificateIsATlsRejection() throws Exception {
    TestMemory targetMemory = new TestMemory();
    targetMemory.add(REMOTE, 1 << 20, true);
    try (TcpTransport target = TcpTestSupport.started(tls(targetMemory, cluster))) {
      TestMemory memory = new TestMemory();
      TestRegion local = memory.add(LOCAL, 1 << 20, true);
      try (TcpTransport initiator = new TcpTransport(tls(memory, stranger))) {
        TestSlice w = TestSlice.write(local, LOCAL, TcpTestSupport.descriptorOf(target), REMOTE,
            4096, 5_000);
        initiator.submit(w);
        TestSlice.Outcome o = w.await(10_000);
        assertEquals(ErrorCode.REJECT_HANDSHAKE, o.code(), o.toString());
        assertTrue(o.message().contains("TLS"), o.toString());
      }
    }
  }

  @Test
  void tlsAndTheClusterSecretTogether() throws Exception {
    PeerAuth secret = PeerAuth.withSecret("tls-and-secret-0123".getBytes(StandardCharsets.UTF_8));
    TestMemory targetMemory = new TestMemory();
    TestRegion remote = targetMemory.add(REMOTE, 1 << 20, true);
    try (TcpTransport target = TcpTestSupport.started(
        tls(targetMemory, cluster).peerAuth(secret))) {
      TestMemory memory = new TestMemory();
      TestRegion local = memory.add(LOCAL, 1 << 20, true);
      byte[] data = TcpTestSupport.random(rnd, 64 << 10);
      local.put(LOCAL, data);
      try (TcpTransport initiator = new TcpTransport(tls(memory, cluster).peerAuth(
          PeerAuth.withSecret("tls-and-secret-0123".getBytes(StandardCharsets.UTF_8))))) {
        TestSlice w = TestSlice.write(local, LOCAL, TcpTestSupport.descriptorOf(target), REMOTE,
            data.length, 10_000);
        initiator.submit(w);
        assertTrue(w.await(10_000).ok());
      }
      assertArrayEquals(data, remote.get(REMOTE, data.length));
      try (TcpTransport initiator = new TcpTransport(tls(memory, cluster))) { // no secret
        TestSlice w = TestSlice.write(local, LOCAL, TcpTestSupport.descriptorOf(target), REMOTE,
            16, 5_000);
        initiator.submit(w);
        assertFalse(w.await(10_000).ok());
      }
      assertTrue(secret.refused() >= 1);
    }
  }
}
