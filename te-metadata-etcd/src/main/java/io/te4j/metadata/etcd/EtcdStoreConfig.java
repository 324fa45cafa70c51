package io.te4j.metadata.etcd;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.Setting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The etcd store's configuration, concluded once when the store is created: the endpoints parsed
 * from the location, the settings read from the engine ({@link MetadataStoreContext#setting}: an
 * explicit engine setting, else a {@code -D} system property, else an environment variable of the
 * same name), defaults filled in and every malformed value refused with INVALID_CONFIGURATION
 * naming the setting.
 *
 * @param endpoints {@code host:port} of every member, in the order given
 * @param tls true when the endpoints are {@code https://} or a TLS file is set
 * @param leaseTtlSeconds TTL of the lease all keys live under
 * @param user etcd user, or null for none
 * @param password the user's password, or null
 * @param caFile PEM CA certificates to trust, or null for the JDK's trust store
 * @param certFile PEM client certificate, or null
 * @param keyFile PEM (PKCS#8) key of the client certificate, or null
 * @param operationTimeoutNanos the bound of one get, put, remove or of start-up
 */
public record EtcdStoreConfig(
    List<HostPort> endpoints,
    boolean tls,
    long leaseTtlSeconds,
    String user,
    String password,
    Path caFile,
    Path certFile,
    Path keyFile,
    long operationTimeoutNanos) {

  /** TTL in seconds of the lease every key lives under; a dead engine's keys vanish this late. */
  public static final String LEASE_TTL_SECONDS = "te4j.etcd.leaseTtlSeconds";
  /** Default of {@link #LEASE_TTL_SECONDS}. */
  public static final long DEFAULT_LEASE_TTL_SECONDS = 10;
  /** etcd user name (etcd authentication); unset means no authentication. */
  public static final String USER = "te4j.etcd.user";
  /** Password of {@link #USER}; required when the user is set. */
  public static final String PASSWORD = "te4j.etcd.password";
  /** Path of a PEM file of CA certificates to trust; setting it turns TLS on. */
  public static final String TLS_CA = "te4j.etcd.tls.ca";
  /** Path of a PEM client certificate (mutual TLS); needs {@link #TLS_KEY}. */
  public static final String TLS_CERT = "te4j.etcd.tls.cert";
  /** Path of the PEM (PKCS#8) private key of {@link #TLS_CERT}. */
  public static final String TLS_KEY = "te4j.etcd.tls.key";

  static final Setting<Integer> LEASE_TTL = Setting.integer(LEASE_TTL_SECONDS,
      (int) DEFAULT_LEASE_TTL_SECONDS, 1, 3600,
      "TTL of the lease under which an engine's etcd keys live, seconds");
  static final Setting<String> USER_NAME = Setting.text(USER, null, "user name",
      "etcd user (authentication; needs te4j.etcd.password)");
  static final Setting<String> USER_PASSWORD = Setting.text(PASSWORD, null, "password",
      "password of te4j.etcd.user");
  static final Setting<String> CA = Setting.text(TLS_CA, null, "path",
      "PEM file of CA certificates to trust; setting it turns TLS on");
  static final Setting<String> CERT = Setting.text(TLS_CERT, null, "path",
      "PEM client certificate (mutual TLS); needs te4j.etcd.tls.key");
  static final Setting<String> KEY = Setting.text(TLS_KEY, null, "path",
      "PEM (PKCS#8) private key of te4j.etcd.tls.cert");
  /** What {@link EtcdMetadataStoreProvider#settings()} declares. */
  static final List<Setting<?>> SETTINGS =
      List.of(LEASE_TTL, USER_NAME, USER_PASSWORD, CA, CERT, KEY);

  /** etcd's own default client port, used when an endpoint names none. */
  static final int DEFAULT_CLIENT_PORT = 2379;

  public EtcdStoreConfig {
    endpoints = List.copyOf(endpoints);
  }

  /**
   * Parses the location and reads the settings.
   *
   * @param location {@code h1:p1,h2:p2}; each endpoint may be written {@code http://h:p} or {@code
   *     https://h:p} (all alike), and {@code [v6]:p}
   * @throws TransferException INVALID_CONFIGURATION for a malformed location or setting, or a TLS
   *     file that cannot be read
   */
  public static EtcdStoreConfig from(String location, MetadataStoreContext context) {
    List<HostPort> endpoints = new ArrayList<>();
    String scheme = null;
    if (location == null || location.isBlank()) {
      throw invalid("etcd location", "empty; expected host:port[,host:port]");
    }
    for (String raw : location.split(",")) {
      String part = raw.trim();
      String partScheme = "http";
      int sep = part.indexOf("://");
      if (sep >= 0) {
        partScheme = part.substring(0, sep).toLowerCase(Locale.ROOT);
        part = part.substring(sep + 3);
        if (!partScheme.equals("http") && !partScheme.equals("https")) {
          throw invalid("etcd location", "endpoint '" + raw.trim() + "' has scheme " + partScheme
              + "; only http:// and https:// are known");
        }
      }
      while (part.endsWith("/")) {
        part = part.substring(0, part.length() - 1);
      }
      if (part.isEmpty()) {
        throw invalid("etcd location", "empty endpoint in '" + location + "'");
      }
      if (scheme != null && !scheme.equals(partScheme)) {
        throw invalid("etcd location", "mixes http and https endpoints: '" + location + "'");
      }
      scheme = partScheme;
      HostPort hp = HostPort.tryParse(part);
      if (hp == null) {
        // A bare host (or [v6]) means etcd's default port, as etcdctl reads it.
        String host = part.startsWith("[") && part.endsWith("]")
            ? part.substring(1, part.length() - 1) : part;
        if (host.isBlank() || (host.indexOf(':') >= 0 && !part.startsWith("["))) {
          throw invalid("etcd location", "endpoint '" + raw.trim() + "' is not host:port");
        }
        hp = new HostPort(host, DEFAULT_CLIENT_PORT);
      }
      if (hp.port() == 0) {
        throw invalid("etcd location", "endpoint '" + raw.trim() + "' has port 0");
      }
      endpoints.add(hp);
    }

    long ttl = context.setting(LEASE_TTL);
    String user = context.setting(USER_NAME);
    String password = context.setting(USER_PASSWORD);
    if (user == null && password != null) {
      throw invalid(PASSWORD, "set without " + USER);
    }
    if (user != null && password == null) {
      throw invalid(USER, "set without " + PASSWORD);
    }

    Path ca = readableFile(context, CA);
    Path cert = readableFile(context, CERT);
    Path key = readableFile(context, KEY);
    if ((cert == null) != (key == null)) {
      throw invalid(cert == null ? TLS_KEY : TLS_CERT,
          "a client certificate needs both " + TLS_CERT + " and " + TLS_KEY);
    }
    boolean tls = "https".equals(scheme) || ca != null || cert != null;

    long timeout = context.operationTimeoutNanos();
    if (timeout <= 0) {
      timeout = TimeUnit.SECONDS.toNanos(10);
    }
    return new EtcdStoreConfig(endpoints, tls, ttl, user, password, ca, cert, key, timeout);
  }

  /** The endpoints as written in messages: {@code h1:p1,h2:p2}. */
  public String endpointList() {
    StringBuilder sb = new StringBuilder();
    for (HostPort hp : endpoints) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(hp);
    }
    return sb.toString();
  }

  /** The endpoints as jetcd takes them. */
  String[] endpointUris() {
    String scheme = tls ? "https://" : "http://";
    String[] out = new String[endpoints.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = scheme + endpoints.get(i);
    }
    return out;
  }

  @Override
  public String toString() {
    // Never print the password.
    return "EtcdStoreConfig{" + endpointList() + (tls ? ", tls" : "") + ", lease "
        + leaseTtlSeconds + " s" + (user == null ? "" : ", user " + user) + "}";
  }

  private static Path readableFile(MetadataStoreContext context, Setting<String> setting) {
    String value = context.setting(setting);
    if (value == null) {
      return null;
    }
    Path p = Path.of(value.trim());
    if (!Files.isRegularFile(p)) {
      throw invalid(setting.name(), p + " is not a file");
    }
    if (!Files.isReadable(p)) {
      throw invalid(setting.name(), p + " is not readable");
    }
    return p;
  }

  static TransferException invalid(String setting, String why) {
    return new TransferException(ErrorCode.INVALID_CONFIGURATION, setting + ": " + why);
  }
}
