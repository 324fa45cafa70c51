package io.te4j.metadata.zk;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.TransferException;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.utils.PathUtils;

/**
 * Where a {@code zk://} store lives and how its keys map to znodes: the location {@code
 * h1:p1,h2:p2[/root]} is an ensemble connect string and an optional root (default {@code /}). A key
 * string is used verbatim as a path below the root, so {@code mooncake/ram/x} is the znode {@code
 * /mooncake/ram/x}, or {@code /myroot/mooncake/ram/x} under root {@code /myroot}.
 *
 * <p>No escaping: every {@code '/'} in a key separates nested znodes (WIRE.md's {@code nvmeof/x}
 * lands at {@code /mooncake/nvmeof/x}), and characters such as {@code ':'} are legal in znode
 * names. A key ZooKeeper cannot hold as a path (an empty segment such as {@code a//b} or a trailing
 * {@code '/'}, a segment {@code .} or {@code ..}, control characters) is rejected with
 * INVALID_ARGUMENT rather than rewritten, so every key reads back exactly as it was written.
 *
 * @param connectString the ensemble, {@code host:port[,host:port...]}
 * @param root the absolute root path, without a trailing {@code '/'} unless it is {@code /}
 */
public record ZkLocation(String connectString, String root) {
  /**
   * Parses {@code h1:p1,h2:p2[/root]}.
   *
   * @throws TransferException INVALID_CONFIGURATION for anything else
   */
  public static ZkLocation parse(String location) {
    String loc = location == null ? "" : location.trim();
    int slash = loc.indexOf('/');
    String hosts = slash < 0 ? loc : loc.substring(0, slash);
    String root = slash < 0 ? "/" : loc.substring(slash);
    List<String> parts = new ArrayList<>();
    for (String part : hosts.split(",", -1)) {
      HostPort hp = HostPort.tryParse(part.trim());
      if (hp == null || hp.port() == 0) {
        throw new TransferException(ErrorCode.INVALID_CONFIGURATION, "zk location '" + location
            + "' is not host:port[,host:port...][/root] ('" + part.trim() + "' is not host:port)");
      }
      parts.add(hp.toString());
    }
    while (root.length() > 1 && root.endsWith("/")) {
      root = root.substring(0, root.length() - 1);
    }
    try {
      PathUtils.validatePath(root);
    } catch (IllegalArgumentException e) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "zk location '" + location + "': root '" + root + "' is not a znode path: "
              + e.getMessage(), e);
    }
    return new ZkLocation(String.join(",", parts), root);
  }

  /**
   * The znode path of a key.
   *
   * @throws TransferException INVALID_ARGUMENT when the key is not a valid relative znode path
   */
  public String pathOf(String key) {
    if (key == null || key.isEmpty() || key.startsWith("/")) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          "metadata key '" + key + "' cannot be a znode path (empty or absolute)");
    }
    String path = root.equals("/") ? "/" + key : root + "/" + key;
    try {
      PathUtils.validatePath(path);
    } catch (IllegalArgumentException e) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          "metadata key '" + key + "' cannot be a znode path: " + e.getMessage(), e);
    }
    return path;
  }

  /** The path a watch on {@code prefix} covers: trailing {@code '/'}s dropped, empty is the root. */
  public String pathOfPrefix(String prefix) {
    String p = prefix == null ? "" : prefix;
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p.isEmpty() ? root : pathOf(p);
  }

  /** The key of a znode path below the root, or null for the root itself and paths outside it. */
  public String keyOf(String path) {
    if (path == null) {
      return null;
    }
    String head = root.equals("/") ? "/" : root + "/";
    return path.startsWith(head) && path.length() > head.length()
        ? path.substring(head.length()) : null;
  }

  @Override
  public String toString() {
    return root.equals("/") ? connectString : connectString + root;
  }
}
