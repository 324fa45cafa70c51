package io.te4j.api.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster-secret exchange between two ends of a real loopback connection: the same secret
 * passes both ways, another secret or none is refused on the side that checks and counted, and
 * a recorded exchange is worth nothing on a new connection.
 */
@Timeout(30)
class PeerAuthTest {
  private static final PeerAuth A = PeerAuth.withSecret(secret("cluster-a"));
  private static final PeerAuth B = PeerAuth.withSecret(secret("cluster-b"));

  private static byte[] secret(String name) {
    return (name + "-0123456789abcdef").getBytes(StandardCharsets.US_ASCII);
  }

  /** Something a server does with its end of a connection. */
  private interface ServerSide {
    void serve(InputStream in, OutputStream out) throws IOException;
  }

  /** Runs {@code server} on one end and returns the other, connected, for the client side. */
  private static CompletableFuture<Throwable> serve(ServerSocket listener, ServerSide server) {
    return CompletableFuture.supplyAsync(() -> {
      try (Socket s = listener.accept()) {
        s.setSoTimeout(5_000);
        server.serve(s.getInputStream(), s.getOutputStream());
        return null;
      } catch (IOException | RuntimeException e) {
        return e;
      }
    });
  }

  private static Socket connect(ServerSocket listener) throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    s.setSoTimeout(5_000);
    return s;
  }

  @Test
  void theSameSecretPassesBothWays() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      long refusedBefore = A.refused();
      CompletableFuture<Throwable> server = serve(listener, (in, out) -> {
        A.verify(in, out, "tcp");
        out.write(in.read()); // the connection goes on after the exchange
      });
      try (Socket c = connect(listener)) {
        A.proveTo(c.getInputStream(), c.getOutputStream(), "tcp");
        c.getOutputStream().write(42);
        assertEquals(42, c.getInputStream().read());
      }
      assertNull(server.get(5, TimeUnit.SECONDS));
      assertEquals(refusedBefore, A.refused());
    }
  }

  @Test
  void anotherSecretIsRefusedOnBothSides() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      long refusedBefore = A.refused();
      CompletableFuture<Throwable> server = serve(listener, (in, out) -> A.verify(in, out, "tcp"));
      try (Socket c = connect(listener)) {
        PeerAuth.AuthenticationException e = assertThrows(PeerAuth.AuthenticationException.class,
            () -> B.proveTo(c.getInputStream(), c.getOutputStream(), "tcp"));
        assertTrue(e.getMessage().contains("another cluster secret"), e.getMessage());
      }
      assertTrue(server.get(5, TimeUnit.SECONDS) instanceof PeerAuth.AuthenticationException);
      assertEquals(refusedBefore + 1, A.refused(), "the server counts the refusal");
    }
  }

  @Test
  void thePurposeIsPartOfTheProof() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Throwable> server = serve(listener, (in, out) -> A.verify(in, out, "rpc"));
      try (Socket c = connect(listener)) {
        assertThrows(PeerAuth.AuthenticationException.class,
            () -> A.proveTo(c.getInputStream(), c.getOutputStream(), "tcp"));
      }
      assertTrue(server.get(5, TimeUnit.SECONDS) instanceof PeerAuth.AuthenticationException);
    }
  }

  @Test
  void aPeerWithoutTheSecretIsRefusedAndCounted() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      long refusedBefore = A.refused();
      CompletableFuture<Throwable> server = serve(listener, (in, out) -> A.verify(in, out, "tcp"));
      try (Socket c = connect(listener)) {
        byte[] request = new byte[40]; // a plain 24-byte request header and some payload
        request[0] = 16;
        request[16] = (byte) 0x81;
        c.getOutputStream().write(request);
        assertEquals(-1, c.getInputStream().read(), "closed without an answer");
      }
      Throwable t = server.get(5, TimeUnit.SECONDS);
      assertTrue(t instanceof PeerAuth.AuthenticationException, String.valueOf(t));
      assertEquals(refusedBefore + 1, A.refused());
    }
  }

  @Test
  void aServerWithoutTheSecretIsToldApart() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      // A v2 target without a secret takes the hello for a zero-length write and answers OK.
      CompletableFuture<Throwable> server = serve(listener, (in, out) -> {
        in.readNBytes(24);
        out.write(new byte[] {0, 0, 0, 0, 0x56, 0x54, 0x43, 0x4D});
        out.flush();
        in.readNBytes(16);
      });
      try (Socket c = connect(listener)) {
        PeerAuth.AuthenticationException e = assertThrows(PeerAuth.AuthenticationException.class,
            () -> A.proveTo(c.getInputStream(), c.getOutputStream(), "tcp"));
        assertTrue(e.getMessage().contains("does not authenticate"), e.getMessage());
      }
      assertNull(server.get(5, TimeUnit.SECONDS));
    }
  }

  @Test
  void aRecordedExchangeIsRefusedOnANewConnection() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      // Record what an honest client sends.
      ByteArrayOutputStream recorded = new ByteArrayOutputStream();
      CompletableFuture<Throwable> first = serve(listener, (in, out) -> A.verify(in, out, "tcp"));
      try (Socket c = connect(listener)) {
        OutputStream tee = new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            recorded.write(b);
            c.getOutputStream().write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            recorded.write(b, off, len);
            c.getOutputStream().write(b, off, len);
          }
        };
        A.proveTo(c.getInputStream(), tee, "tcp");
      }
      assertNull(first.get(5, TimeUnit.SECONDS));
      // Replay it: the server's nonce is new, so the old proof fails.
      long refusedBefore = A.refused();
      CompletableFuture<Throwable> second = serve(listener, (in, out) -> A.verify(in, out, "tcp"));
      try (Socket c = connect(listener)) {
        c.getOutputStream().write(recorded.toByteArray());
        byte[] challenge = c.getInputStream().readNBytes(PeerAuth.CHALLENGE_BYTES);
        assertEquals(PeerAuth.CHALLENGE_BYTES, challenge.length);
        assertEquals(-1, c.getInputStream().read(), "closed after the replayed proof");
      }
      assertTrue(second.get(5, TimeUnit.SECONDS) instanceof PeerAuth.AuthenticationException);
      assertEquals(refusedBefore + 1, A.refused());
    }
  }

  @Test
  void withoutASecretNothingIsExchanged() throws Exception {
    assertFalse(PeerAuth.NONE.enabled());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PeerAuth.NONE.proveTo(InputStream.nullInputStream(), out, "tcp");
    PeerAuth.NONE.verify(InputStream.nullInputStream(), out, "tcp");
    assertArrayEquals(new byte[0], out.toByteArray());
    assertNull(PeerAuth.NONE.serverExchange("rpc"));
    assertThrows(IllegalArgumentException.class, () -> PeerAuth.withSecret(new byte[15]));
  }
}
