package io.te4j.core.rpc;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.TransferException;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.PeerRpc;
import io.te4j.core.json.JsonCodec;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client side of the handshake port: one connection per call, one typed request frame, one
 * reply frame, then close. Thread-safe and stateless between calls; any thread may call.
 *
 * <p>With a cluster secret ({@link PeerAuth}) each connection proves this engine and checks the
 * peer before the request goes out; a peer that cannot is REJECT_HANDSHAKE.
 *
 * <p>Time is bounded in every case: connecting (over all addresses of the host) by the connect
 * timeout, sending and awaiting the reply by the reply timeout. Reads honour the reply deadline
 * through {@code SO_TIMEOUT}; a write that the peer never drains is cut by a shared watchdog thread
 * that closes the socket at the deadline (the thread exists only while calls are in flight and for
 * a few seconds after). Name resolution is bounded by the system resolver's own timeouts.
 */
public final class RpcClient implements PeerRpc {
  /** The reference's connect timeout. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

  /** The reference's reply timeout. */
  public static final Duration DEFAULT_REPLY_TIMEOUT = Duration.ofSeconds(60);

  private static final ScheduledThreadPoolExecutor WATCHDOG = newWatchdog();

  private final long connectTimeoutNanos;
  private final long replyTimeoutNanos;
  private final int maxFrameBytes;
  private final PeerAuth auth;

  /**
   * @param connectTimeout bound on establishing the connection
   * @param replyTimeout bound on sending the request and receiving the whole reply
   * @param maxFrameBytes longest frame sent or accepted ({@code MC_HANDSHAKE_MAX_LENGTH})
   */
  public RpcClient(Duration connectTimeout, Duration replyTimeout, int maxFrameBytes) {
    this(connectTimeout, replyTimeout, maxFrameBytes, PeerAuth.NONE);
  }

  /** Like {@link #RpcClient(Duration, Duration, int)}, proving itself by {@code auth} first. */
  public RpcClient(Duration connectTimeout, Duration replyTimeout, int maxFrameBytes,
      PeerAuth auth) {
    this.auth = Objects.requireNonNull(auth, "auth");
    this.connectTimeoutNanos = positive(connectTimeout, "connectTimeout");
    this.replyTimeoutNanos = positive(replyTimeout, "replyTimeout");
    if (maxFrameBytes < 1) {
      throw new TransferException(
          ErrorCode.INVALID_ARGUMENT, "maxFrameBytes must be positive: " + maxFrameBytes);
    }
    this.maxFrameBytes = maxFrameBytes;
  }

  /** A client with the reference's timeouts (5 s, 60 s) and the 1 MiB frame limit. */
  public static RpcClient withDefaults() {
    return new RpcClient(
        DEFAULT_CONNECT_TIMEOUT, DEFAULT_REPLY_TIMEOUT, FrameCodec.DEFAULT_MAX_FRAME_BYTES);
  }

  /**
   * {@inheritDoc}
   *
   * <p>A type-0 request also accepts a legacy untyped reply. A non-empty reply body must be JSON.
   *
   * @throws TransferException INVALID_ARGUMENT for a bad type, port or an oversize request;
   *     DNS_FAIL for a host that does not resolve; SOCKET_FAIL when the peer cannot be reached or
   *     closes without a reply; TRANSFER_TIMEOUT when the reply does not come in time;
   *     REJECT_HANDSHAKE for a refused reply header, a reply of the wrong type or a body that is
   *     not JSON
   */
  @Override
  public String call(String host, int port, int frameType, String jsonBody) {
    if (host == null || host.isBlank()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "empty peer host");
    }
    if (port < 1 || port > 65535) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "peer port out of range: " + port);
    }
    if (frameType < 0 || frameType > FrameCodec.MAX_TYPE) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "unknown frame type " + frameType);
    }
    String target = new HostPort(host, port).toString();
    byte[] request = FrameCodec.encode(frameType, jsonBody == null ? "{}" : jsonBody);
    if (request.length - FrameCodec.HEADER_BYTES > maxFrameBytes) {
      throw new TransferException(
          ErrorCode.INVALID_ARGUMENT,
          "request to "
              + target
              + " is "
              + (request.length - FrameCodec.HEADER_BYTES)
              + " bytes, over the frame limit of "
              + maxFrameBytes);
    }
    Socket socket = connect(host, port, target);
    AtomicBoolean cutByWatchdog = new AtomicBoolean();
    ScheduledFuture<?> timer =
        WATCHDOG.schedule(
            () -> {
              cutByWatchdog.set(true);
              closeQuietly(socket);
            },
            replyTimeoutNanos,
            TimeUnit.NANOSECONDS);
    long deadline = System.nanoTime() + replyTimeoutNanos;
    try {
      socket.setTcpNoDelay(true);
      OutputStream out = socket.getOutputStream();
      auth.proveTo(socket.getInputStream(), out, FrameCodec.AUTH_PURPOSE); // the watchdog bounds it
      out.write(request);
      out.flush();
      FrameCodec.Frame reply = FrameCodec.read(socket, maxFrameBytes, deadline);
      if (reply.legacy() ? frameType != CONNECTION : reply.type() != frameType) {
        throw new TransferException(
            ErrorCode.REJECT_HANDSHAKE,
            target
                + " answered a type-"
                + frameType
                + " request with a "
                + (reply.legacy() ? "legacy untyped" : "type-" + reply.type())
                + " frame");
      }
      String body = reply.body().stripTrailing();
      if (!body.isEmpty()) {
        try {
          JsonCodec.requireWellFormed(body, "reply from " + target);
        } catch (TransferException e) {
          throw new TransferException(ErrorCode.REJECT_HANDSHAKE, e.getMessage(), e);
        }
      }
      return body;
    } catch (FrameCodec.MalformedFrameException e) {
      throw new TransferException(
          ErrorCode.REJECT_HANDSHAKE, target + " sent a malformed reply: " + e.getMessage(), e);
    } catch (PeerAuth.AuthenticationException e) {
      throw new TransferException(
          ErrorCode.REJECT_HANDSHAKE, "handshake with " + target + ": " + e.getMessage(), e);
    } catch (SocketTimeoutException e) {
      throw timeout(target, e);
    } catch (EOFException e) {
      throw new TransferException(
          ErrorCode.SOCKET_FAIL,
          target + " closed the connection without a complete reply (" + e.getMessage() + ")",
          e);
    } catch (IOException e) {
      if (cutByWatchdog.get()) {
        throw timeout(target, e);
      }
      throw new TransferException(
          ErrorCode.SOCKET_FAIL, "handshake with " + target + " failed: " + e, e);
    } finally {
      timer.cancel(false);
      closeQuietly(socket);
    }
  }

  private Socket connect(String host, int port, String target) {
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new TransferException(
          ErrorCode.DNS_FAIL, "cannot resolve peer " + target + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + connectTimeoutNanos;
    IOException last = null;
    for (InetAddress address : addresses) {
      long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (leftMillis <= 0) {
        break;
      }
      Socket socket = new Socket();
      try {
        socket.connect(
            new InetSocketAddress(address, port), (int) Math.min(Integer.MAX_VALUE, leftMillis));
        return socket;
      } catch (IOException e) {
        last = e;
        closeQuietly(socket);
      }
    }
    throw new TransferException(
        ErrorCode.SOCKET_FAIL,
        "cannot connect to peer "
            + target
            + " within "
            + TimeUnit.NANOSECONDS.toMillis(connectTimeoutNanos)
            + " ms"
            + (last == null ? "" : ": " + last.getMessage()),
        last);
  }

  private TransferException timeout(String target, Exception cause) {
    return new TransferException(
        ErrorCode.TRANSFER_TIMEOUT,
        "no reply from "
            + target
            + " within "
            + TimeUnit.NANOSECONDS.toMillis(replyTimeoutNanos)
            + " ms",
        cause);
  }

  private static long positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, what + " must be positive: " + d);
    }
    return d.toNanos();
  }

  private static ScheduledThreadPoolExecutor newWatchdog() {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "te4j-rpc-client-watchdog");
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
    executor.setKeepAliveTime(5, TimeUnit.SECONDS);
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Best effort; the connection is finished either way.
    }
  }
}
