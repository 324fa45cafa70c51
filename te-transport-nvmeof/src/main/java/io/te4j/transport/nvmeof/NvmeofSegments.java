package io.te4j.transport.nvmeof;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.core.Engine;
import io.te4j.core.json.JsonCodec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
 * <p><b>Lifetime.</b> A segment lives as long as the metadata store keeps the key of the engine
 * that published it: in P2P mode only inside that engine (other engines cannot see it at all); in
 * stores that tie keys to their owner (etcd leases, ZooKeeper ephemeral nodes) until that engine
 * closes; in stores that keep keys (the reference's HTTP metadata server) until {@link #remove}.
 *
 * <p><b>Listing.</b> Metadata stores offer no key listing, so {@link #publish} and {@link #remove}
 * also maintain an index segment, {@value #INDEX_SEGMENT}, that {@link #list} reads. The index is
 * read, changed and written back without a transaction: two engines registering at the same
 * instant may drop one name from it (the segments themselves are unaffected), and {@link #list}
 * shows only names that still resolve.
 *
 * <p>Thread-safe; index updates of one JVM are serialized.
 */
public final class NvmeofSegments {
  /** The protocol of file segments. */
  public static final String PROTOCOL = "nvmeof";
  /** Segment names of file segments start with this; the store key is {@code mooncake/<name>}. */
  public static final String PREFIX = "nvmeof/";
  /** The segment holding the names {@link #list} reports ({@code mooncake/te4j/nvmeof_index}). */
  public static final String INDEX_SEGMENT = "te4j/nvmeof_index";

  private static final String INDEX_PROTOCOL = "te4j-index";
  private static final String INDEX_FIELD = "segments";
  private static final Object INDEX_LOCK = new Object();

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

  /** The compact JSON the store holds for {@code descriptor}. */
  public static String toJson(SegmentDescriptor descriptor) {
    return JsonCodec.descriptorToJson(descriptor);
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

  /** Publishes a file segment held by this engine's host ({@code server_name} = its host). */
  public static SegmentDescriptor publish(Engine engine, String name, List<FileSpec> files) {
    return publish(engine, name, engine.config().localHost(), files);
  }

  /**
   * Publishes a file segment at {@code mooncake/nvmeof/<name>} and adds it to the index.
   *
   * @return the published descriptor
   * @throws TransferException INVALID_ARGUMENT for bad arguments, METADATA when the store fails
   */
  public static SegmentDescriptor publish(Engine engine, String name, String serverName,
      List<FileSpec> files) {
    SegmentDescriptor d = descriptor(name, serverName, files);
    engine.publishSegment(d);
    synchronized (INDEX_LOCK) {
      Set<String> names = readIndex(engine);
      if (names.add(d.name())) {
        writeIndex(engine, names);
      }
    }
    return d;
  }

  /**
   * The descriptor of file segment {@code name}, or empty when the store has none.
   *
   * @throws TransferException METADATA when the store cannot be reached, MALFORMED_JSON when what
   *     it holds is not a descriptor, INVALID_ARGUMENT when it is not a file segment
   */
  public static Optional<SegmentDescriptor> find(Engine engine, String name) {
    String segment = segmentName(name);
    SegmentDescriptor d;
    try {
      d = engine.segment(segment);
    } catch (TransferException e) {
      if (e.errorCode() == ErrorCode.METADATA && e.getMessage().contains("not found")) {
        return Optional.empty();
      }
      throw e;
    }
    if (!isFileSegment(d)) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          "segment '" + segment + "' is not a file segment (protocol " + d.protocol() + ")");
    }
    return Optional.of(d);
  }

  /** Removes a file segment and its index entry; no error when it is absent. */
  public static void remove(Engine engine, String name) {
    String segment = segmentName(name);
    engine.removeSegment(segment);
    synchronized (INDEX_LOCK) {
      Set<String> names = readIndex(engine);
      if (names.remove(segment)) {
        writeIndex(engine, names);
      }
    }
  }

  /** The indexed file segments that still resolve, in index order. */
  public static List<SegmentDescriptor> list(Engine engine) {
    List<SegmentDescriptor> out = new ArrayList<>();
    for (String n : readIndex(engine)) {
      try {
        find(engine, n).ifPresent(out::add);
      } catch (TransferException e) {
        // A name reused for something else, or a malformed entry: not a file segment to list.
      }
    }
    return out;
  }

  private static Set<String> readIndex(Engine engine) {
    Set<String> names = new LinkedHashSet<>();
    SegmentDescriptor index;
    try {
      index = engine.segment(INDEX_SEGMENT);
    } catch (TransferException e) {
      if (e.errorCode() == ErrorCode.METADATA && e.getMessage().contains("not found")) {
        return names;
      }
      throw e;
    }
    Object list = index.attributes().get(INDEX_FIELD);
    if (list instanceof List<?>) {
      for (Object o : (List<?>) list) {
        if (o instanceof String && ((String) o).startsWith(PREFIX)) {
          names.add((String) o);
        }
      }
    }
    return names;
  }

  private static void writeIndex(Engine engine, Set<String> names) {
    if (names.isEmpty()) {
      engine.removeSegment(INDEX_SEGMENT);
      return;
    }
    engine.publishSegment(SegmentDescriptor.builder(INDEX_SEGMENT, INDEX_PROTOCOL)
        .attribute(INDEX_FIELD, new ArrayList<>(names)).build());
  }

  private static TransferException malformed(String message) {
    return new TransferException(ErrorCode.MALFORMED_JSON, message);
  }
}
