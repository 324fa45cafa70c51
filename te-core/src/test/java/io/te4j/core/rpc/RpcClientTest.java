package io.te4j.core.rpc;

import static io.te4j.core.rpc.FrameCodecTest.bytes;
import static io.te4j.core.rpc.FrameCodecTest.concat;
import static io.te4j.core.rpc.FrameCodecTest.lengthLe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.spi.PeerRpc;
import io.te4j.core.rpc.RpcTestSupport.RecordingHandler;
import io.te4j.core.rpc.RpcTestSupport.TrackingThreadFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class RpcClientTest {
  /** What a scripted peer does with one accepted connection. */
  interface Script {
    void run(Socket s) throws Exception;
  }

  /** A one-connection peer that follows a script, then waits until the test ends. */
  private static final class ScriptedPeer implements AutoCloseable {
    final ServerSocket listener;
    final Thread thread;
    final CountDownLatch done = new CountDownLatch(1);

    ScriptedPeer(Script script) throws IOException {
      this(script, 0);
    }

    /**
     * @param receiveBuffer SO_RCVBUF of accepted sockets, 0 for the system's (autotuned)
     */
    ScriptedPeer(Script script, int receiveBuffer) throws IOException {
      listener = new ServerSocket();
      if (receiveBuffer > 0) {
        listener.setReceiveBufferSize(receiveBuffer);
      }
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
      thread =
          new Thread(
              () -> {
                try (Socket s = listener.accept()) {
                  script.run(s);
                  done.await(30, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                  // The test sees the effect on the client side.
                }
              },
              "scripted-peer");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return listener.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      done.countDown();
      listener.close();
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private final RpcClient client =
      new RpcClient(
          Duration.ofSeconds(2), Duration.ofMillis(500), FrameCodec.DEFAULT_MAX_FRAME_BYTES);
  private final TrackingThreadFactory threads = new TrackingThreadFactory();
  private RpcServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** Reads one typed request frame, as a peer would, so the client's write completes. */
  private static void readRequest(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    byte[] header = in.readNBytes(8);
    in.readNBytes((int) FrameCodec.frameLength(header));
  }

  private static TransferException assertFailsWith(ErrorCode code, Executable call) {
    TransferException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(20), () -> assertThrows(TransferException.class, call));
    assertEquals(code, e.errorCode(), e.getMessage());
    return e;
  }

  @Test
  void talksToARealServer() {
    RecordingHandler handler = new RecordingHandler("{\"name\":\"x\",\"protocol\":\"tcp\"}");
    server = RpcTestSupport.start(handler, Duration.ofSeconds(10), threads);
    assertEquals(
        "{\"status\":\"success\"}", client.call("127.0.0.1", server.port(), PeerRpc.PROBE, "{}"));
    assertEquals(
        "{\"name\":\"x\",\"protocol\":\"tcp\"}",
        client.call("localhost", server.port(), PeerRpc.METADATA, "{}"));
    assertEquals(
        "{\"name\":\"\",\"notify_msg\":\"success\"}",
        client.call(
            "127.0.0.1", server.port(), PeerRpc.NOTIFY, "{\"name\":\"a\",\"notify_msg\":\"b\"}"));
    assertEquals(new TransferNotify("a", "b"), handler.notifies.poll());
    assertEquals(
        RpcTestSupport.CONNECTION_REPLY,
        client.call("127.0.0.1", server.port(), PeerRpc.CONNECTION, "{}"));
  }

  @Test
  void unreachablePeerIsASocketFailure() {
    TransferException e =
        assertFailsWith(ErrorCode.SOCKET_FAIL, () -> client.call("127.0.0.1", 1, 3, "{}"));
    assertTrue(e.getMessage().contains("127.0.0.1:1"), e.getMessage());
  }

  @Test
  void unknownHostIsADnsFailure() {
    assertFailsWith(ErrorCode.DNS_FAIL, () -> client.call("no-such-host.invalid", 15000, 3, "{}"));
  }

  @Test
  void silentPeerTimesOut() throws Exception {
    try (ScriptedPeer peer = new ScriptedPeer(RpcClientTest::readRequest)) {
      TransferException e =
          assertFailsWith(
              ErrorCode.TRANSFER_TIMEOUT, () -> client.call("127.0.0.1", peer.port(), 3, "{}"));
      assertTrue(e.getMessage().contains("500 ms"), e.getMessage());
    }
  }

  @Test
  void peerThatNeverReadsABigRequestTimesOut() throws Exception {
    // A small receive window and a request larger than any send buffer (tcp_wmem tops out at
    // 4 MiB): the write itself blocks, and only the deadline can end it.
    try (ScriptedPeer peer = new ScriptedPeer(s -> {}, 8 * 1024)) {
      int size = 12 << 20;
      RpcClient bigFrames = new RpcClient(Duration.ofSeconds(2), Duration.ofMillis(500), size + 64);
      char[] filler = new char[size];
      java.util.Arrays.fill(filler, 'x');
      String big = "{\"pad\":\"" + new String(filler) + "\"}";
      assertFailsWith(ErrorCode.TRANSFER_TIMEOUT, () -> bigFrames.call("127.0.0.1", peer.port(), 1, big));
    }
  }

  @Test
  void peerClosingWithoutReplyIsASocketFailure() throws Exception {
    try (ScriptedPeer peer =
        new ScriptedPeer(
            s -> {
              readRequest(s);
              s.close();
            })) {
      assertFailsWith(ErrorCode.SOCKET_FAIL, () -> client.call("127.0.0.1", peer.port(), 3, "{}"));
    }
  }

  @Test
  void replyOfTheWrongTypeIsRejected() throws Exception {
    try (ScriptedPeer peer =
        new ScriptedPeer(
            s -> {
              readRequest(s);
              s.getOutputStream().write(FrameCodec.encode(3, "{\"status\":\"success\"}"));
            })) {
      assertFailsWith(ErrorCode.REJECT_HANDSHAKE, () -> client.call("127.0.0.1", peer.port(), 1, "{}"));
    }
  }

  @Test
  void oversizeReplyHeaderIsRejected() throws Exception {
    try (ScriptedPeer peer =
        new ScriptedPeer(
            s -> {
              readRequest(s);
              s.getOutputStream().write(concat(lengthLe(1L << 40), new byte[] {3}));
            })) {
      assertFailsWith(ErrorCode.REJECT_HANDSHAKE, () -> client.call("127.0.0.1", peer.port(), 3, "{}"));
    }
  }

  @Test
  void replyBodyThatIsNotJsonIsRejected() throws Exception {
    try (ScriptedPeer peer =
        new ScriptedPeer(
            s -> {
              readRequest(s);
              s.getOutputStream().write(FrameCodec.encode(3, "{status: success"));
            })) {
      assertFailsWith(ErrorCode.REJECT_HANDSHAKE, () -> client.call("127.0.0.1", peer.port(), 3, "{}"));
    }
  }

  @Test
  void legacyReplyIsAcceptedForAHandshakeOnly() throws Exception {
    Script legacyReply =
        s -> {
          readRequest(s);
          s.getOutputStream().write(FrameCodec.encodeUntyped("{\"reply_msg\":\"\"}  \n"));
        };
    try (ScriptedPeer peer = new ScriptedPeer(legacyReply)) {
      assertEquals("{\"reply_msg\":\"\"}", client.call("127.0.0.1", peer.port(), 0, "{}"));
    }
    try (ScriptedPeer peer = new ScriptedPeer(legacyReply)) {
      assertFailsWith(ErrorCode.REJECT_HANDSHAKE, () -> client.call("127.0.0.1", peer.port(), 1, "{}"));
    }
  }

  @Test
  void emptyReplyBodyIsReturnedEmpty() throws Exception {
    try (ScriptedPeer peer =
        new ScriptedPeer(
            s -> {
              readRequest(s);
              s.getOutputStream().write(concat(lengthLe(2), new byte[] {1}, bytes("\n")));
            })) {
      assertEquals("", client.call("127.0.0.1", peer.port(), 1, "{}"));
    }
  }

  @Test
  void rejectsBadArguments() {
    assertFailsWith(ErrorCode.INVALID_ARGUMENT, () -> client.call("127.0.0.1", 15000, 4, "{}"));
    assertFailsWith(ErrorCode.INVALID_ARGUMENT, () -> client.call("127.0.0.1", 0, 3, "{}"));
    assertFailsWith(ErrorCode.INVALID_ARGUMENT, () -> client.call(" ", 15000, 3, "{}"));
    RpcClient tiny = new RpcClient(Duration.ofSeconds(1), Duration.ofSeconds(1), 16);
    assertFailsWith(
        ErrorCode.INVALID_ARGUMENT,
        () -> tiny.call("127.0.0.1", 15000, 3, "{\"longer\":\"than sixteen bytes\"}"));
  }
}
