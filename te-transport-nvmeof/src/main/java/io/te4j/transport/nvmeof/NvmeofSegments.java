package io.te4j.transport.nvmeof;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NVMe-oF file segments: a named list of files, published in the metadata store at {@code
 * mooncake/nvmeof/<name>} as the reference engine reads them (WIRE.md section 2):
 *
 * <pre>{@code
 * {"buffers":[{"file_path":"/mnt/nvme0/f1","length":1073741824,"local_path_map":{"node-b":"/mnt/r/f1"}}],
 *  "name":"nvmeof/seg","protocol":"nvmeof","server_name":"node-a"}
 * }</pre>
 *
 * <p>Compact, keys sorted, no {@code addr}, {@code tcp_data_port} or {@code timestamp}. The
 * reference decodes {@code name}, {@code protocol} and each buffer's {@code file_path}, {@code
 * length} and {@code local_path_map}; {@code server_name} names the host that holds the files (the
 * publishing engine's host unless given). te4j's reader requires {@code name}, so it is always
 * written: the segment's name with its {@code nvmeof/} prefix.
 *
 * <p>This class builds and reads those descriptors; an engine publishes them ({@code
 * Engine.publishSegment}, {@code publishNewSegment}), lists them (the store's keys under {@code
 * mooncake/nvmeof/}: no index to keep, so engines registering at once lose nothing) and removes
 * them. A segment lives as long as the metadata store keeps the key of the engine that published
 * it: in P2P mode only inside that engine (other engines cannot see it at all); in stores that tie
 * keys to their owner (etcd leases, ZooKeeper ephemeral nodes) until that engine closes; in stores
 * that keep keys (the reference's HTTP metadata server) until removed.
 *
 * <p>Stateless and thread-safe.
 */
public final class NvmeofSegments {
  /** The protocol of file segments. */
  public static final String PROTOCOL = "nvmeof";
  /** Segment names of file segments start with this; the store key is {@code mooncake/<name>}. */
  public static final String PREFIX = "nvmeof/";

  private NvmeofSegments() {}

  /** {@code nvmeof/<name>}; a name that already has the prefix is returned unchanged. */
  public static String segmentName(String name) {
    if (name == null || name.isBlank()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "empty segment name");
    }
    String n = name.startsWith(PREFIX) ? name : PREFIX + name;
    if (n.length() == PREFIX.length() || n.endsWith("/") || n.contains("//")) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "bad segment name '" + name + "'");
    }
    return n;
  }

  /**
   * The descriptor of a file segment.
   *
   * @param name segment name, with or without the {@code nvmeof/} prefix
   * @param serverName the host that holds the files ({@code server_name})
   * @param files the files, in segment order; at least one
   */
  public static SegmentDescriptor descriptor(String name, String serverName, List<FileSpec> files) {
    if (files == null || files.isEmpty()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "a file segment needs files");
    }
    if (serverName == null || serverName.isEmpty()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "empty server_name");
    }
    SegmentDescriptor.Builder b = SegmentDescriptor.builder(segmentName(name), PROTOCOL)
        .attribute("server_name", serverName);
    long total = 0;
    for (FileSpec f : files) {
      total += f.length();
      if (total < 0) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT, "segment length overflows");
      }
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("file_path", f.filePath());
      fields.put("local_path_map", new LinkedHashMap<String, Object>(f.localPathMap()));
      // No name, no addr: JsonCodec writes exactly file_path, length and local_path_map.
      b.addBuffer(new BufferDescriptor("", 0, f.length(), List.of(), List.of(), fields));
    }
    return b.build();
  }

  /** True when {@code d} is a file segment: protocol nvmeof, and every buffer has a file_path. */
  public static boolean isFileSegment(SegmentDescriptor d) {
    String protocols = d.protocol();
    boolean nvmeof = protocols.equals(PROTOCOL);
    if (!nvmeof && protocols.indexOf(',') >= 0) {
      for (String p : protocols.split(",")) {
        nvmeof |= PROTOCOL.equals(p.trim());
      }
    }
    if (!nvmeof || d.buffers().isEmpty()) {
      return false;
    }
    for (BufferDescriptor b : d.buffers()) {
      if (!(b.attributes().get("file_path") instanceof String)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The files of a file segment, as published.
   *
   * @throws TransferException MALFORMED_JSON when a buffer lacks a string {@code file_path}, has
   *     length 0, or a {@code local_path_map} that is not an object of strings
   */
  public static List<FileSpec> files(SegmentDescriptor d) {
    List<FileSpec> out = new ArrayList<>();
    int i = 0;
    for (BufferDescriptor b : d.buffers()) {
      String what = "segment '" + d.name() + "' file #" + i;
      Object path = b.attributes().get("file_path");
      if (!(path instanceof String) || ((String) path).isEmpty()) {
        throw malformed(what + " has no file_path");
      }
      if (b.length() <= 0) {
        throw malformed(what + " (" + path + ") has length " + Long.toUnsignedString(b.length()));
      }
      Map<String, String> map = new LinkedHashMap<>();
      Object m = b.attributes().get("local_path_map");
      if (m != null) {
        if (!(m instanceof Map<?, ?>)) {
          throw malformed(what + ": local_path_map is not an object");
        }
        for (Map.Entry<?, ?> e : ((Map<?, ?>) m).entrySet()) {
          if (!(e.getValue() instanceof String) || ((String) e.getValue()).isEmpty()) {
            throw malformed(what + ": local_path_map['" + e.getKey() + "'] is not a path");
          }
          map.put(String.valueOf(e.getKey()), (String) e.getValue());
        }
      }
      out.add(new FileSpec((String) path, b.length(), map));
      i++;
    }
    return out;
  }

  private static TransferException malformed(String message) {
    return new TransferException(ErrorCode.MALFORMED_JSON, message);
  }
}
