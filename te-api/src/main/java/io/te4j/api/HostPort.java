package io.te4j.api;

/**
 * A {@code host:port} pair as segment names and server names spell it ({@code 10.0.0.1:15001},
 * {@code [::1]:15001}, {@code node-3:15001}).
 *
 * @param host host name or IP, without brackets
 * @param port 0 to 65535
 */
public record HostPort(String host, int port) {
  public HostPort {
    if (host == null || host.isBlank()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "empty host");
    }
    if (port < 0 || port > 65535) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "port out of range: " + port);
    }
  }

  /**
   * Parses {@code host:port} or {@code [v6]:port}.
   *
   * @throws TransferException INVALID_ARGUMENT when there is no valid port
   */
  public static HostPort parse(String text) {
    HostPort hp = tryParse(text);
    if (hp == null) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "not host:port: " + text);
    }
    return hp;
  }

  /** Like {@link #parse} but returns null for text that is not {@code host:port}. */
  public static HostPort tryParse(String text) {
    if (text == null) {
      return null;
    }
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      return null;
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.indexOf(':') >= 0) {
      return null; // a bare IPv6 address without brackets is ambiguous
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      return null;
    }
    if (host.isBlank() || port < 0 || port > 65535) {
      return null;
    }
    return new HostPort(host, port);
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
