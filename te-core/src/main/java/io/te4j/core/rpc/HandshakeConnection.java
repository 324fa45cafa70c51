package io.te4j.core.rpc;

import io.te4j.api.spi.PeerAuth;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One connection to the handshake port, read and written without blocking by the server's selector
 * thread: the peer's authentication when a cluster secret is set, the 8-byte header, then (once
 * the header is accepted) a body of the announced length, then the reply. Holds nothing but its buffers while the peer is idle. Used by the selector thread
 * only, except {@link #reply}, which a handler thread sets before handing the connection back.
 */
final class HandshakeConnection {
  final SocketChannel channel;
  final SelectionKey key;
  final InetAddress address;
  final SocketAddress peer;
  final long deadlineNanos;
  /** The peer's authentication while it runs, or null (done, or no cluster secret). */
  private PeerAuth.ServerExchange auth;
  private final ByteBuffer header = ByteBuffer.allocate(FrameCodec.HEADER_BYTES);
  private ByteBuffer body;
  private ByteBuffer out;
  /** The reply a handler made, or null for none (the connection is then closed). */
  volatile byte[] reply;
  boolean closed;
  private boolean reading = true;

  HandshakeConnection(SocketChannel channel, SelectionKey key, long deadlineNanos,
      PeerAuth.ServerExchange auth) {
    this.channel = channel;
    this.key = key;
    this.deadlineNanos = deadlineNanos;
    this.auth = auth;
    this.peer = channel.socket().getRemoteSocketAddress();
    this.address = peer instanceof InetSocketAddress a ? a.getAddress() : null;
  }

  /** True while nothing of a frame has arrived. */
  boolean idle() {
    return header.position() == 0;
  }

  /**
   * True until the frame is complete: such a connection (oldest first) is closed to make room
   * when the port is crowded. A real peer sends its small frame at once, so only connections that
   * idle or trickle stay in this state for long.
   */
  boolean unfinished() {
    return reading;
  }

  /** Bytes this connection holds for its body (counted against the server's bound). */
  int bodyBytes() {
    return body == null ? 0 : body.capacity();
  }

  /**
   * Reads what has arrived. Returns the body length the header announces once it is complete and
   * accepted (the caller then reserves that many bytes and calls {@link #startBody}), 0 while more
   * is needed, or -1 when the frame is complete.
   *
   * @throws FrameCodec.MalformedFrameException when the header is refused
   * @throws PeerAuth.AuthenticationException when the peer fails to authenticate first
   * @throws EOFException when the peer closed mid-frame
   */
  long read(int maxFrameBytes) throws IOException {
    if (auth != null) {
      if (!auth.step(channel)) {
        return 0;
      }
      auth = null; // authenticated: its frame follows
    }
    if (body == null) {
      if (channel.read(header) < 0) {
        throw new EOFException("peer closed the connection after " + header.position()
            + " of " + FrameCodec.HEADER_BYTES + " header bytes");
      }
      if (header.hasRemaining()) {
        return 0;
      }
      String reason = FrameCodec.rejectReason(header.array(), maxFrameBytes);
      if (reason != null) {
        throw new FrameCodec.MalformedFrameException(reason);
      }
      return FrameCodec.frameLength(header.array());
    }
    if (channel.read(body) < 0) {
      throw new EOFException("peer closed the connection after " + body.position() + " of "
          + body.capacity() + " body bytes");
    }
    return body.hasRemaining() ? 0 : -1;
  }

  /** Takes the body's buffer; reading goes on into it. */
  void startBody(int length) {
    body = ByteBuffer.allocate(length);
  }

  /** The complete frame. */
  FrameCodec.Frame frame() {
    reading = false;
    byte[] payload = body.array();
    body = null; // the bytes live on in the frame's string only
    return FrameCodec.decode(payload);
  }

  /** Starts writing {@code bytes}. */
  void startReply(byte[] bytes) {
    out = ByteBuffer.wrap(bytes);
  }

  /** Writes what the socket takes; true once the whole reply is out. */
  boolean write() throws IOException {
    channel.write(out);
    return !out.hasRemaining();
  }
}
