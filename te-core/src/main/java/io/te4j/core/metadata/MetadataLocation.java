package io.te4j.core.metadata;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.TransferException;
import io.te4j.core.config.EngineConfig;
import java.util.Locale;

/**
 * A metadata connection string split into the scheme that picks a store provider and the location
 * handed to it: {@code P2PHANDSHAKE} is {@code p2p}; {@code etcd://h:p,h:p}, {@code zk://h:p/root}
 * and {@code http://h:p/metadata} name their scheme; a bare {@code h:p[,h:p]} means etcd.
 *
 * @param scheme lower-case scheme
 * @param location what follows {@code scheme://} (for http, the whole URL)
 */
public record MetadataLocation(String scheme, String location) {
  /** Parses a connection string as API.md describes it. */
  public static MetadataLocation parse(String connection) {
    String c = connection == null ? "" : connection.trim();
    if (c.isEmpty()) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION, "empty metadata server");
    }
    if (c.equalsIgnoreCase(EngineConfig.P2P_HANDSHAKE)) {
      return new MetadataLocation("p2p", "");
    }
    int sep = c.indexOf("://");
    if (sep > 0) {
      String scheme = c.substring(0, sep).toLowerCase(Locale.ROOT);
      boolean wholeUrl = scheme.equals("http") || scheme.equals("https");
      return new MetadataLocation(scheme, wholeUrl ? c : c.substring(sep + 3));
    }
    for (String part : c.split(",")) {
      if (HostPort.tryParse(part.trim()) == null) {
        throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
            "metadata server '" + c + "' is neither P2PHANDSHAKE, scheme://..., nor host:port");
      }
    }
    return new MetadataLocation("etcd", c);
  }

  /**
   * The connection string of {@code initialize_ext}: a server without a scheme gets {@code
   * type://} in front (and {@code p2p} means P2PHANDSHAKE).
   */
  public static String withType(String server, String type) {
    if (type == null || type.isBlank() || server.contains("://")) {
      return server;
    }
    String t = type.trim().toLowerCase(Locale.ROOT);
    if (t.equals("p2p") || server.equalsIgnoreCase(EngineConfig.P2P_HANDSHAKE)) {
      return EngineConfig.P2P_HANDSHAKE;
    }
    return t + "://" + server;
  }
}
