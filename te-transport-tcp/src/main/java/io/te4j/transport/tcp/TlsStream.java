package io.te4j.transport.tcp;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * TLS over one blocking data connection, read and written like the socket itself: the data path
 * ({@link RegionIo}) moves bytes through it unchanged. One thread may read while another writes
 * (a lane's receiver and sender), as {@link SSLEngine} allows; the writer's lock also covers a
 * reader that must answer a post-handshake message.
 *
 * <p>Decrypted bytes go straight into the caller's buffer (registered memory) when it has room for
 * a whole record, else through a staging buffer, so a reader never gets more than it asked for.
 */
final class TlsStream implements ReadableByteChannel, GatheringByteChannel {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private final SocketChannel socket;
  private final SSLEngine engine;
  /** Plaintext of the largest record: a reader buffer with this much room takes it directly. */
  private final int recordBytes;
  private final Object writeLock = new Object();
  // Reader side: ciphertext read from the socket, plaintext not yet handed out.
  private final ByteBuffer netIn;
  private final ByteBuffer appIn;
  // Writer side (under writeLock): ciphertext to send.
  private final ByteBuffer netOut;
  private boolean inboundDone;

  private TlsStream(SocketChannel socket, SSLEngine engine) {
    this.socket = socket;
    this.engine = engine;
    int packet = engine.getSession().getPacketBufferSize();
    this.recordBytes = engine.getSession().getApplicationBufferSize();
    this.netIn = ByteBuffer.allocateDirect(packet).flip();
    this.appIn = ByteBuffer.allocateDirect(recordBytes).flip();
    this.netOut = ByteBuffer.allocateDirect(packet);
  }

  /**
   * Runs the TLS handshake on a connected blocking socket (bounded by the socket's own deadline:
   * the caller closes it to give up) and returns the stream.
   *
   * @throws SSLException when the peer does not speak TLS or fails the certificate checks
   */
  static TlsStream open(SocketChannel socket, SSLEngine engine) throws IOException {
    TlsStream s = new TlsStream(socket, engine);
    engine.beginHandshake();
    s.handshake();
    return s;
  }

  private void handshake() throws IOException {
    while (true) {
      switch (engine.getHandshakeStatus()) {
        case NEED_UNWRAP:
        case NEED_UNWRAP_AGAIN:
          if (unwrapInto(appIn.compact()) < 0) {
            appIn.flip();
            throw new EOFException("peer closed the connection during the TLS handshake");
          }
          appIn.flip();
          break;
        case NEED_WRAP:
        case NEED_TASK:
          answerHandshake();
          break;
        default: // FINISHED, NOT_HANDSHAKING
          return;
      }
    }
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (appIn.hasRemaining()) {
      return copy(appIn, dst);
    }
    if (inboundDone) {
      return -1;
    }
    int n;
    if (dst.remaining() >= recordBytes) {
      n = unwrapInto(dst); // a whole record fits: no staging copy
    } else {
      n = unwrapInto(appIn.compact());
      appIn.flip();
      if (n > 0) {
        n = copy(appIn, dst);
      }
    }
    return n;
  }

  /**
   * Decrypts one record (reading from the socket as needed) into {@code dst}; the number of bytes
   * it gave, 0 for a record with none (a handshake message), -1 at the end of the stream.
   */
  private int unwrapInto(ByteBuffer dst) throws IOException {
    while (true) {
      SSLEngineResult r = netIn.hasRemaining() ? engine.unwrap(netIn, dst) : null;
      if (r != null) {
        switch (r.getStatus()) {
          case OK:
            if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP
                || r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
              answerHandshake(); // a message after the handshake (a key update)
            }
            if (r.bytesProduced() > 0 || r.bytesConsumed() > 0) {
              return r.bytesProduced();
            }
            break;
          case CLOSED:
            inboundDone = true;
            return -1;
          case BUFFER_OVERFLOW: // only into a caller's buffer, which then takes the staging path
            if (dst == appIn) {
              throw new SSLException("a TLS record larger than the session's buffer");
            }
            int n = unwrapInto(appIn.compact());
            appIn.flip();
            return n < 0 ? n : copy(appIn, dst);
          default: // BUFFER_UNDERFLOW: read more of the record
            break;
        }
      }
      netIn.compact();
      int read = socket.read(netIn);
      netIn.flip();
      if (read < 0) {
        inboundDone = true;
        return -1;
      }
    }
  }

  /** Runs the engine's tasks and sends what it must answer, until it waits for the peer. */
  private void answerHandshake() throws IOException {
    while (true) {
      switch (engine.getHandshakeStatus()) {
        case NEED_TASK:
          for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
            task.run();
          }
          break;
        case NEED_WRAP:
          write(EMPTY);
          break;
        default:
          return;
      }
    }
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    synchronized (writeLock) {
      netOut.clear();
      return send(engine.wrap(src, netOut));
    }
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    synchronized (writeLock) {
      netOut.clear();
      return send(engine.wrap(srcs, offset, length, netOut));
    }
  }

  @Override
  public long write(ByteBuffer[] srcs) throws IOException {
    return write(srcs, 0, srcs.length);
  }

  /**
   * Sends whole the record {@code r} (one record, up to 16 KiB of plaintext) left in {@link
   * #netOut}; the plaintext bytes it took.
   */
  private int send(SSLEngineResult r) throws IOException {
    if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
      throw new IOException("TLS session closed");
    }
    if (r.getStatus() != SSLEngineResult.Status.OK) {
      throw new SSLException("TLS wrap: " + r.getStatus());
    }
    netOut.flip();
    while (netOut.hasRemaining()) {
      socket.write(netOut);
    }
    return r.bytesConsumed();
  }

  private static int copy(ByteBuffer from, ByteBuffer to) {
    int n = Math.min(from.remaining(), to.remaining());
    if (n == from.remaining()) {
      to.put(from);
    } else {
      int limit = from.limit();
      from.limit(from.position() + n);
      to.put(from);
      from.limit(limit);
    }
    return n;
  }

  @Override
  public boolean isOpen() {
    return socket.isOpen();
  }

  /** Closes the socket (no close_notify: a data connection ends with its lane or its peer). */
  @Override
  public void close() throws IOException {
    socket.close();
  }
}
