package io.te4j.api.spi;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mutual authentication of two te4j engines that share a cluster secret, on every connection to
 * either port (the handshake port and a transport's data port), before the first frame or request.
 * Off unless a secret is set, so reference peers interoperate as before.
 *
 * <p>The exchange, three messages, each side proving it knows the secret without sending it:
 *
 * <ol>
 *   <li>hello, client to server ({@value #HELLO_BYTES} bytes): a zero-length TCP request header
 *       whose address field is {@code "TE4JAUTH"} (harmless to a target that does not
 *       authenticate: it answers an OK status or refuses a zero-length frame), then the client's
 *       16-byte nonce;
 *   <li>challenge, server to client ({@value #CHALLENGE_BYTES} bytes): {@code "TE4JCHAL"}, the
 *       server's nonce, and HMAC-SHA256(secret, "te4j-auth-v1 server", port purpose, both nonces);
 *   <li>proof, client to server ({@value #PROOF_BYTES} bytes): HMAC-SHA256(secret, "te4j-auth-v1
 *       client", port purpose, both nonces).
 * </ol>
 *
 * <p>Fresh nonces on both sides make a recorded exchange useless on another connection; the labels
 * keep one side's answer from serving as the other's, the purpose one port's for the other's. What
 * it does not stop: a peer on the network path that takes over an authenticated TCP connection or
 * reads its bytes (use TLS for that), a process that holds the secret.
 *
 * <p>Thread-safe: one instance per engine, shared by its handshake port and its transports, counts
 * every refused peer ({@link #refused()}).
 */
public final class PeerAuth {
  /** Authentication off: every method lets everything through. */
  public static final PeerAuth NONE = new PeerAuth(null);

  /** Bytes of the client's hello. */
  public static final int HELLO_BYTES = 40;
  /** Bytes of the server's challenge. */
  public static final int CHALLENGE_BYTES = 56;
  /** Bytes of the client's proof. */
  public static final int PROOF_BYTES = 32;
  /** Shortest secret accepted. */
  public static final int MIN_SECRET_BYTES = 16;

  private static final byte[] HELLO_MAGIC = "TE4JAUTH".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHALLENGE_MAGIC = "TE4JCHAL".getBytes(StandardCharsets.US_ASCII);
  private static final int NONCE_BYTES = 16;
  /** Where the hello's magic sits: the address field of a TCP request header. */
  private static final int MAGIC_AT = 8;
  /** The hello's opcode byte: a v2 WRITE, of zero bytes. */
  private static final int OPCODE_AT = 16;
  private static final int HEADER_BYTES = 24;
  private static final String ALGORITHM = "HmacSHA256";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key;
  private final LongAdder refused = new LongAdder();

  private PeerAuth(SecretKeySpec key) {
    this.key = key;
  }

  /**
   * Authentication with {@code secret} (copied).
   *
   * @throws IllegalArgumentException for a secret shorter than {@value #MIN_SECRET_BYTES} bytes
   */
  public static PeerAuth withSecret(byte[] secret) {
    if (secret == null || secret.length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException("a cluster secret needs at least " + MIN_SECRET_BYTES
          + " bytes");
    }
    return new PeerAuth(new SecretKeySpec(secret.clone(), ALGORITHM));
  }

  /** True when a secret is set and every connection must authenticate. */
  public boolean enabled() {
    return key != null;
  }

  /** Peers refused so far because they could not authenticate (both ports). */
  public long refused() {
    return refused.sum();
  }

  /** Why a peer failed the exchange. */
  public static final class AuthenticationException extends IOException {
    private static final long serialVersionUID = 1L;

    public AuthenticationException(String message) {
      super(message);
    }
  }

  // ---------------------------------------------------------------- client side (blocking)

  /**
   * Proves this engine to the server at the other end of a fresh connection and checks the
   * server's proof; nothing when authentication is off. Reads honour the socket's timeout.
   *
   * @param purpose the port's purpose, the same on both sides ({@code "rpc"}, {@code "tcp"})
   * @throws AuthenticationException when the server does not authenticate (no secret, a reference
   *     engine) or proves another secret
   * @throws IOException when the connection fails
   */
  public void proveTo(InputStream in, OutputStream out, String purpose) throws IOException {
    if (key == null) {
      return;
    }
    byte[] clientNonce = nonce();
    byte[] hello = new byte[HELLO_BYTES];
    System.arraycopy(HELLO_MAGIC, 0, hello, MAGIC_AT, HELLO_MAGIC.length);
    hello[OPCODE_AT] = (byte) 0x81;
    System.arraycopy(clientNonce, 0, hello, HEADER_BYTES, NONCE_BYTES);
    out.write(hello);
    out.flush();
    byte[] challenge = new byte[CHALLENGE_BYTES];
    int head = in.readNBytes(challenge, 0, CHALLENGE_MAGIC.length);
    if (head < CHALLENGE_MAGIC.length
        || !Arrays.equals(challenge, 0, CHALLENGE_MAGIC.length, CHALLENGE_MAGIC, 0,
            CHALLENGE_MAGIC.length)) {
      throw new AuthenticationException("the peer does not authenticate (no cluster secret set, or"
          + " not a te4j engine): it " + (head < CHALLENGE_MAGIC.length ? "closed the connection"
          : "answered something else"));
    }
    if (in.readNBytes(challenge, head, CHALLENGE_BYTES - head) != CHALLENGE_BYTES - head) {
      throw new EOFException("the peer closed the connection in the middle of its challenge");
    }
    byte[] serverNonce = Arrays.copyOfRange(challenge, 8, 8 + NONCE_BYTES);
    byte[] serverMac = Arrays.copyOfRange(challenge, 8 + NONCE_BYTES, CHALLENGE_BYTES);
    if (!MessageDigest.isEqual(serverMac, mac("server", purpose, clientNonce, serverNonce))) {
      throw new AuthenticationException("the peer proved another cluster secret");
    }
    out.write(mac("client", purpose, clientNonce, serverNonce));
    out.flush();
  }

  // ---------------------------------------------------------------- server side

  /**
   * Has the client at the other end of a fresh connection prove itself, blocking; nothing when
   * authentication is off. A refusal is counted.
   *
   * @throws AuthenticationException when the client does not authenticate or proves another secret
   */
  public void verify(InputStream in, OutputStream out, String purpose) throws IOException {
    if (key == null) {
      return;
    }
    ServerExchange exchange = new ServerExchange(purpose);
    // Checked as it arrives: a peer without the secret is refused on the first bytes of its
    // request, not left waiting for bytes it will never send.
    byte[] hello = new byte[HELLO_BYTES];
    for (int n = 0, r; n < HELLO_BYTES; n += r) {
      r = in.read(hello, n, HELLO_BYTES - n);
      if (r < 0) {
        throw refuse("it closed before its hello");
      }
      exchange.checkPrefix(hello, n + r);
    }
    exchange.onHello(ByteBuffer.wrap(hello));
    out.write(exchange.challenge.array());
    out.flush();
    exchange.onProof(ByteBuffer.wrap(in.readNBytes(PROOF_BYTES)));
  }

  /**
   * The server's side of the exchange for a selector: {@link ServerExchange#step} reads what arrived and answers
   * without blocking. Null when authentication is off.
   */
  public ServerExchange serverExchange(String purpose) {
    return key == null ? null : new ServerExchange(purpose);
  }

  /** One connection's exchange, server side; used by one thread at a time. */
  public final class ServerExchange {
    private final String purpose;
    private final ByteBuffer hello = ByteBuffer.allocate(HELLO_BYTES);
    private final ByteBuffer proof = ByteBuffer.allocate(PROOF_BYTES);
    private byte[] clientNonce;
    private final byte[] serverNonce = nonce();
    private ByteBuffer challenge;

    private ServerExchange(String purpose) {
      this.purpose = purpose;
    }

    /**
     * Reads what the non-blocking {@code channel} has, answering the hello with the challenge.
     *
     * @return true once the client proved itself
     * @throws AuthenticationException (counted) for a client that does not authenticate, or
     *     closes the connection before it did
     */
    public boolean step(SocketChannel channel) throws IOException {
      if (challenge == null) {
        if (channel.read(hello) < 0) {
          throw refuse("it closed the connection before it authenticated");
        }
        checkPrefix(hello.array(), hello.position());
        if (hello.hasRemaining()) {
          return false;
        }
        hello.flip();
        onHello(hello);
        channel.write(challenge);
        if (challenge.hasRemaining()) { // 56 bytes into a fresh socket's empty send buffer
          throw refuse("its receive window held no " + CHALLENGE_BYTES + "-byte challenge");
        }
      }
      if (channel.read(proof) < 0) {
        throw refuse("it closed the connection before it authenticated");
      }
      if (proof.hasRemaining()) {
        return false;
      }
      proof.flip();
      onProof(proof);
      return true;
    }

    /** Refuses as soon as the first {@code n} bytes differ from a hello's fixed part. */
    private void checkPrefix(byte[] h, int n) throws AuthenticationException {
      for (int i = 0, end = Math.min(n, HEADER_BYTES); i < end; i++) {
        int expected = i >= MAGIC_AT && i < MAGIC_AT + HELLO_MAGIC.length
            ? HELLO_MAGIC[i - MAGIC_AT] : i == OPCODE_AT ? (byte) 0x81 : 0;
        if (h[i] != expected) {
          throw refuse("it sent no hello (a peer without the cluster secret)");
        }
      }
    }

    private void onHello(ByteBuffer bytes) throws AuthenticationException {
      byte[] h = new byte[HELLO_BYTES];
      if (bytes.remaining() != HELLO_BYTES) {
        throw refuse("it closed before its hello");
      }
      bytes.get(h);
      checkPrefix(h, HELLO_BYTES);
      clientNonce = Arrays.copyOfRange(h, HEADER_BYTES, HELLO_BYTES);
      ByteBuffer c = ByteBuffer.allocate(CHALLENGE_BYTES);
      c.put(CHALLENGE_MAGIC).put(serverNonce).put(mac("server", purpose, clientNonce, serverNonce));
      challenge = c.flip();
    }

    private void onProof(ByteBuffer bytes) throws AuthenticationException {
      byte[] p = new byte[PROOF_BYTES];
      if (bytes.remaining() != PROOF_BYTES) {
        throw refuse("it closed before its proof");
      }
      bytes.get(p);
      if (!MessageDigest.isEqual(p, mac("client", purpose, clientNonce, serverNonce))) {
        throw refuse("it proved another cluster secret");
      }
    }
  }

  private AuthenticationException refuse(String why) {
    refused.increment();
    return new AuthenticationException("peer refused: " + why);
  }

  private byte[] mac(String side, String purpose, byte[] clientNonce, byte[] serverNonce) {
    try {
      Mac m = Mac.getInstance(ALGORITHM);
      m.init(key);
      m.update(("te4j-auth-v1 " + side + " " + purpose + "\0").getBytes(StandardCharsets.UTF_8));
      m.update(clientNonce);
      m.update(serverNonce);
      return m.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  private static byte[] nonce() {
    byte[] n = new byte[NONCE_BYTES];
    RANDOM.nextBytes(n);
    return n;
  }
}
