package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.tcp.TcpDescriptorFields;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Engines with a cluster secret: peers with the same secret (one from a secret file, one from the
 * builder) transfer, notify and probe; an engine with another secret or none, and a raw
 * reference-format peer, are refused on the handshake port and on the data port, and counted;
 * without a secret, raw reference-format peers are served as before.
 */
class AuthIT {
  private static final long MIB = 1L << 20;
  private static final byte[] SECRET =
      "a-cluster-secret-of-32-bytes-xyz".getBytes(StandardCharsets.US_ASCII);

  private static Engine.Builder tcp() {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("tcp").setting("te4j.transport.shm.disabled", "true");
  }

  @Test
  void peersWithTheSameSecretTransferNotifyAndProbe(@TempDir Path dir) throws Exception {
    Path secretFile = dir.resolve("secret");
    Files.write(secretFile, (new String(SECRET, StandardCharsets.US_ASCII) + "\n")
        .getBytes(StandardCharsets.US_ASCII)); // a trailing newline is not part of the secret
    try (Engine target = tcp().setting("te4j.auth.secretFile", secretFile.toString()).start();
        Engine initiator = tcp().clusterSecret(SECRET).start();
        ManagedBuffer remote = target.allocate(MIB); ManagedBuffer local = initiator.allocate(MIB)) {
      byte[] data = new byte[256 << 10];
      new Random(1).nextBytes(data);
      initiator.write(local.address(), data, 0, data.length);
      assertEquals(TransferState.COMPLETED, initiator.submitAndWait(target.segmentName(),
          List.of(TransferRequest.write(local.address(), remote.address(), data.length)), "")
          .state());
      assertArrayEquals(data, target.read(remote.address(), data.length));
      initiator.notify(target.segmentName(), new TransferNotify("auth", "hello"));
      assertTrue(initiator.probe(target.segmentName()));
      assertEquals(List.of(new TransferNotify("auth", "hello")), target.drainNotifies());
      assertEquals(0, target.unauthenticatedPeers());
    }
  }

  @Test
  void anotherSecretNoneOrARawPeerIsRefusedOnBothPorts() throws Exception {
    try (Engine target = tcp().clusterSecret(SECRET).start();
        Engine wrong = tcp().clusterSecret("another-secret-of-enough-bytes".getBytes(
            StandardCharsets.US_ASCII)).start();
        Engine none = tcp().start()) {
      // The handshake port: the descriptor cannot be fetched.
      TransferException e = assertThrows(TransferException.class,
          () -> wrong.refreshSegment(target.segmentName()));
      assertEquals(ErrorCode.METADATA, e.errorCode(), e.getMessage());
      assertTrue(e.getMessage().contains("REJECT_HANDSHAKE")
          && e.getMessage().contains("another cluster secret"), e.getMessage());
      awaitRefused(target, 1); // counted once the peer hung up on the server's proof
      assertThrows(TransferException.class, () -> none.refreshSegment(target.segmentName()));
      assertFalse(none.probe(target.segmentName()));
      awaitRefused(target, 3);
      assertEquals("", RawHandshake.call(target.rpcPort(), 3, "{}"), "a raw probe gets no reply");
      awaitRefused(target, 4);
      long refused = target.unauthenticatedPeers();

      // The data port: a raw request is refused before it is read, and touches nothing.
      long region = NativeMemory.mapAnonymous(MIB);
      try {
        target.register(region, MIB);
        int port = TcpDescriptorFields.dataPort(target.localDescriptor());
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
          s.setSoTimeout(10_000);
          byte[] header = new byte[24];
          header[0] = 16; // a 16-byte v2 WRITE
          for (int i = 0; i < 8; i++) {
            header[8 + i] = (byte) (region >>> (8 * i));
          }
          header[16] = (byte) 0x81;
          s.getOutputStream().write(header);
          s.getOutputStream().write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
              16});
          InputStream in = s.getInputStream();
          assertEquals(-1, in.read(), "closed without an answer");
        }
        assertArrayEquals(new byte[16], target.read(region, 16));
        awaitRefused(target, refused + 1);
      } finally {
        target.unregister(region);
        NativeMemory.unmap(region, MIB);
      }
    }
  }

  /** Waits (bounded) until the engine counted at least {@code n} refused peers. */
  private static void awaitRefused(Engine engine, long n) throws InterruptedException {
    long end = System.nanoTime() + 10_000_000_000L;
    while (engine.unauthenticatedPeers() < n && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertTrue(engine.unauthenticatedPeers() >= n,
        engine.unauthenticatedPeers() + " refused peers counted, expected " + n);
  }

  @Test
  void withoutASecretRawReferencePeersAreServed() throws Exception {
    try (Engine engine = tcp().start()) {
      assertEquals("{\"status\":\"success\"}", RawHandshake.call(engine.rpcPort(), 3, "{}"));
      assertEquals(0, engine.unauthenticatedPeers());
    }
  }
}
