package io.te4j.transport.nvmeof;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One file of an NVMe-oF file segment: one entry of the descriptor's {@code buffers} (WIRE.md
 * section 2). A segment is the concatenation of its files in order; a request's target offset is
 * an offset into that concatenation.
 *
 * @param filePath where the file is on the host that published it ({@code file_path})
 * @param length how many bytes of the file belong to the segment ({@code length}), greater than 0
 * @param localPathMap host name to the path under which that host sees the same file ({@code
 *     local_path_map}), for hosts that mounted it from NVMe-oF under another name; may be empty
 */
public record FileSpec(String filePath, long length, Map<String, String> localPathMap) {
  public FileSpec {
    if (filePath == null || filePath.isEmpty()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "file_path is empty");
    }
    if (length <= 0) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          "length of " + filePath + " must be > 0, got " + length);
    }
    Map<String, String> copy = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : Objects.requireNonNull(localPathMap, "localPathMap")
        .entrySet()) {
      if (e.getKey() == null || e.getKey().isEmpty() || e.getValue() == null
          || e.getValue().isEmpty()) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT,
            "local_path_map of " + filePath + " has an empty host or path: " + e);
      }
      copy.put(e.getKey(), e.getValue());
    }
    localPathMap = Collections.unmodifiableMap(copy);
  }

  /** A file every host reaches under its own {@code filePath}. */
  public static FileSpec of(String filePath, long length) {
    return new FileSpec(filePath, length, Map.of());
  }

  /** A copy that also maps {@code host} to {@code path}. */
  public FileSpec withHostPath(String host, String path) {
    Map<String, String> m = new LinkedHashMap<>(localPathMap);
    m.put(host, path);
    return new FileSpec(filePath, length, m);
  }

  /**
   * Splits the command-line form {@code PATH[:LENGTH]} into the path and the length ({@code -1}
   * when absent). LENGTH is a byte count with an optional K, M, G or T suffix (powers of 1024). A
   * suffix after the last ':' that is not a size belongs to the path.
   */
  public static Map.Entry<String, Long> parsePathAndLength(String text) {
    if (text == null || text.isEmpty()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "empty file argument");
    }
    int colon = text.lastIndexOf(':');
    if (colon > 0 && colon < text.length() - 1) {
      long size = parseSize(text.substring(colon + 1));
      if (size > 0) {
        return Map.entry(text.substring(0, colon), size);
      }
      if (size == 0) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT, "length 0 in '" + text + "'");
      }
    }
    return Map.entry(text, -1L);
  }

  /**
   * Splits {@code HOST=PATH}.
   *
   * @throws TransferException INVALID_ARGUMENT when either side is empty
   */
  public static Map.Entry<String, String> parseHostPath(String text) {
    int eq = text == null ? -1 : text.indexOf('=');
    if (eq <= 0 || eq == text.length() - 1) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          "expected HOST=PATH, got '" + text + "'");
    }
    return Map.entry(text.substring(0, eq), text.substring(eq + 1));
  }

  /** A size like 4096, 64K, 1M, 2G, 1T (as settings read them); -1 when the text is not a size. */
  static long parseSize(String text) {
    try {
      return io.te4j.api.spi.Setting.parseSize(text);
    } catch (IllegalArgumentException e) {
      return -1;
    }
  }
}
