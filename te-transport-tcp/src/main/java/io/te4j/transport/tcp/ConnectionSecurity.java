package io.te4j.transport.tcp;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.TransportContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;

/**
 * What a data connection goes through before its first request, on both ends: TLS 1.3 with
 * certificates on both sides when {@value #TLS_SETTING} is on (JDK TLS: the bytes are encrypted
 * and each end checks the other's certificate against the trust store), then the cluster-secret
 * exchange ({@link PeerAuth}, inside TLS when both are on). Plain sockets when neither is set, as
 * the reference speaks.
 *
 * <p>Peers are addressed by IP, so certificates are not matched to host names: the trust store
 * (the cluster's own CA or certificate) is what admits a peer.
 */
final class ConnectionSecurity {
  static final String TLS_SETTING = "te4j.tcp.tls";
  static final Setting<Boolean> TLS = Setting.flag(TLS_SETTING, false,
      "TLS 1.3 on data connections (JDK TLS; both ends present certificates); needs"
          + " te4j.tcp.tls.keyStore and te4j.tcp.tls.password, and every peer must have it on");
  static final Setting<String> KEY_STORE = Setting.text("te4j.tcp.tls.keyStore", null, "path",
      "PKCS12 file with this engine's TLS certificate and key");
  static final Setting<String> TRUST_STORE = Setting.text("te4j.tcp.tls.trustStore", null,
      "path", "PKCS12 file with the certificates peers must present (default: the key store)");
  static final Setting<String> PASSWORD = Setting.text("te4j.tcp.tls.password", null, "text",
      "password of the TLS key and trust stores");
  static final List<Setting<?>> SETTINGS = List.of(TLS, KEY_STORE, TRUST_STORE, PASSWORD);

  /** The purpose bound into the cluster-secret proofs of data connections. */
  private static final String PURPOSE = "tcp";

  private final PeerAuth auth;
  private final SSLContext tls;

  private ConnectionSecurity(PeerAuth auth, SSLContext tls) {
    this.auth = auth;
    this.tls = tls;
  }

  /**
   * The engine's cluster secret and this transport's TLS settings.
   *
   * @throws TransferException INVALID_CONFIGURATION when TLS is on but its stores cannot be read
   */
  static ConnectionSecurity of(TransportContext context) {
    return new ConnectionSecurity(context.peerAuth(),
        context.setting(TLS) ? tlsContext(context) : null);
  }

  /**
   * Secures a connection this engine opened to {@code host:port}; blocking, bounded by whoever
   * closes the socket when its time is up.
   *
   * @throws PeerAuth.AuthenticationException when the peer lacks the cluster secret
   * @throws javax.net.ssl.SSLException when the TLS handshake fails (no TLS, untrusted certificate)
   */
  DataConnection client(SocketChannel socket, String host, int port) throws IOException {
    DataConnection c = tls == null ? DataConnection.plain(socket)
        : tlsOver(socket, engine(tls.createSSLEngine(host, port), true));
    auth.proveTo(in(c), Channels.newOutputStream(c.out()), PURPOSE);
    return c;
  }

  /**
   * Secures a connection a peer opened to this engine's data port; blocking, bounded by the
   * target's first-request deadline.
   *
   * @throws PeerAuth.AuthenticationException (counted) when the peer lacks the cluster secret
   * @throws javax.net.ssl.SSLException when the TLS handshake fails
   */
  DataConnection server(SocketChannel socket) throws IOException {
    DataConnection c = tls == null ? DataConnection.plain(socket)
        : tlsOver(socket, engine(tls.createSSLEngine(), false));
    auth.verify(in(c), Channels.newOutputStream(c.out()), PURPOSE);
    return c;
  }

  /**
   * True when a connection needs a thread of its own on the server side: JDK TLS is served over a
   * blocking socket. The cluster-secret exchange alone runs on a selector ({@link
   * #serverExchange}).
   */
  boolean needsThread() {
    return tls != null;
  }

  /** The cluster-secret exchange of a plain connection, for a selector; null when auth is off. */
  PeerAuth.ServerExchange serverExchange() {
    return auth.serverExchange(PURPOSE);
  }

  private static InputStream in(DataConnection c) {
    return Channels.newInputStream(c.in());
  }

  private static DataConnection tlsOver(SocketChannel socket, SSLEngine engine)
      throws IOException {
    TlsStream s = TlsStream.open(socket, engine);
    return new DataConnection(socket, s, s);
  }

  private static SSLEngine engine(SSLEngine e, boolean client) {
    e.setUseClientMode(client);
    e.setEnabledProtocols(new String[] {"TLSv1.3"});
    if (!client) {
      e.setNeedClientAuth(true);
    }
    return e;
  }

  private static SSLContext tlsContext(TransportContext context) {
    String keyStore = context.setting(KEY_STORE);
    String password = context.setting(PASSWORD);
    if (keyStore == null || password == null) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION, TLS_SETTING + " needs "
          + KEY_STORE.name() + " and " + PASSWORD.name());
    }
    String trustStore = context.setting(TRUST_STORE);
    char[] pw = password.toCharArray();
    try {
      KeyManagerFactory keys = KeyManagerFactory.getInstance(
          KeyManagerFactory.getDefaultAlgorithm());
      keys.init(load(keyStore, pw), pw);
      TrustManagerFactory trust = TrustManagerFactory.getInstance(
          TrustManagerFactory.getDefaultAlgorithm());
      trust.init(load(trustStore == null ? keyStore : trustStore, pw));
      SSLContext c = SSLContext.getInstance("TLSv1.3");
      c.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
      return c;
    } catch (IOException | GeneralSecurityException e) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "cannot set up TLS for the tcp transport: " + e.getMessage(), e);
    }
  }

  private static KeyStore load(String path, char[] password)
      throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(Path.of(path))) {
      ks.load(in, password);
    }
    return ks;
  }
}
