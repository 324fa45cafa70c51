package io.te4j.core.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.te4j.api.BufferDescriptor;
import io.te4j.api.DeviceDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.Topology;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import java.math.BigInteger;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON documents of WIRE.md sections 1, 2, 3 and 5, written exactly as the reference engine
 * writes them (jsoncpp's {@code FastWriter}: compact, keys sorted at every level, non-ASCII
 * escaped) and read strictly: anything malformed is a {@link TransferException} with {@link
 * ErrorCode#MALFORMED_JSON} and a message naming the document.
 *
 * <p>All methods are static and thread-safe; they share one configured {@link JsonMapper}.
 */
public final class JsonCodec {
  private static final Set<String> TOP_LEVEL_FIELDS =
      Set.of(
          "name",
          "protocol",
          "timestamp",
          "buffers",
          "devices",
          "priority_matrix");
  private static final Set<String> BUFFER_FIELDS = Set.of("name", "addr", "length", "rkey", "lkey");

  private static final BigInteger U64_LIMIT = BigInteger.ONE.shiftLeft(64);

  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");

  /**
   * jsoncpp keeps object members in a {@code std::map} ordered by their UTF-8 bytes, which is code
   * point order (String.compareTo is UTF-16 order and differs above U+FFFF).
   */
  private static final Comparator<String> JSONCPP_KEY_ORDER =
      (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
          int ca = a.codePointAt(i);
          int cb = b.codePointAt(j);
          if (ca != cb) {
            return Integer.compare(ca, cb);
          }
          i += Character.charCount(ca);
          j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
      };

  private static final JsonMapper MAPPER =
      JsonMapper.builder()
          // "{} trailing" is not a document.
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          // Unknown decimals survive a round trip digit for digit.
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
          // jsoncpp's writers escape non-ASCII as \\uxxxx, in lowercase hex.
          .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
          .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
          .disable(SerializationFeature.INDENT_OUTPUT)
          .build();

  private static final JsonNodeFactory NODES = MAPPER.getNodeFactory();

  private JsonCodec() {}

  // ---------------------------------------------------------------- segment descriptors

  /**
   * Writes a segment descriptor as the reference does: compact, keys sorted at every level, u64
   * values unsigned. Empty {@code rkey}/{@code lkey}/{@code devices}, a null {@code
   * priority_matrix} and a null timestamp are omitted. A buffer whose attributes hold {@code
   * offset} or {@code file_path} gets no {@code addr}. Attributes (transports' own fields, such as
   * TCP's {@code tcp_data_port}) are written back unchanged, in key order with the rest (known
   * fields win on a clash).
   */
  public static String descriptorToJson(SegmentDescriptor descriptor) {
    ObjectNode root = NODES.objectNode();
    putAttributes(root, descriptor.attributes());
    root.put("name", descriptor.name());
    if (descriptor.protocol().indexOf(',') >= 0) {
      // A multi-protocol descriptor of the reference lists its protocols as an array.
      ArrayNode protocols = root.putArray("protocol");
      for (String p : descriptor.protocol().split(",")) {
        protocols.add(p);
      }
    } else {
      root.put("protocol", descriptor.protocol());
    }
    if (descriptor.timestamp() != null) {
      root.put("timestamp", descriptor.timestamp());
    }
    ArrayNode buffers = root.putArray("buffers");
    for (BufferDescriptor b : descriptor.buffers()) {
      buffers.add(bufferNode(b));
    }
    if (!descriptor.devices().isEmpty()) {
      ArrayNode devices = root.putArray("devices");
      for (DeviceDescriptor d : descriptor.devices()) {
        ObjectNode dev = devices.addObject();
        dev.put("gid", d.gid());
        dev.put("lid", d.lid());
        dev.put("name", d.name());
      }
    }
    if (descriptor.priorityMatrix() != null) {
      root.set("priority_matrix", topologyNode(descriptor.priorityMatrix()));
    }
    return write(root);
  }

  private static ObjectNode bufferNode(BufferDescriptor b) {
    ObjectNode node = NODES.objectNode();
    putAttributes(node, b.attributes());
    boolean addressless = isAddressless(b.attributes());
    if (!(addressless && b.name().isEmpty())) {
      node.put("name", b.name());
    }
    if (!addressless || b.address() != standInAddress(b.attributes())) {
      node.set("addr", u64Node(b.address()));
    }
    node.set("length", u64Node(b.length()));
    if (!b.remoteKeys().isEmpty()) {
      node.set("rkey", u64Array(b.remoteKeys()));
    }
    if (!b.localKeys().isEmpty()) {
      node.set("lkey", u64Array(b.localKeys()));
    }
    return node;
  }

  /** CXL buffers (offset) and NVMe-oF buffers (file_path) are not addressed by process memory. */
  private static boolean isAddressless(Map<String, ?> bufferFields) {
    return bufferFields.containsKey("offset") || bufferFields.containsKey("file_path");
  }

  /** The address an addressless buffer reads as: its CXL offset, else 0. */
  private static long standInAddress(Map<String, ?> bufferFields) {
    Object offset = bufferFields.get("offset");
    return offset instanceof Number ? ((Number) offset).longValue() : 0;
  }

  /** Reads a segment descriptor; see {@link #descriptorFromJson(String, String)}. */
  public static SegmentDescriptor descriptorFromJson(String json) {
    return descriptorFromJson(json, null);
  }

  /**
   * Reads a segment descriptor and validates it: an object with string {@code name} and {@code
   * protocol}; numbers where numbers belong, u64 values read unsigned; every buffer of a protocol
   * with addresses has a non-empty name, a non-zero {@code addr} and {@code length}; for rdma (and
   * barex, efa, cxi) every buffer has exactly one {@code rkey} and one {@code lkey} per device.
   * {@code tcp_proto_version} absent means 1. Unknown fields land in {@code attributes()}.
   *
   * @param segmentForMessages the segment name the caller asked for, used in error messages (null:
   *     the name read from the document)
   * @throws TransferException MALFORMED_JSON naming the segment and what is wrong
   */
  public static SegmentDescriptor descriptorFromJson(String json, String segmentForMessages) {
    String label = segmentForMessages;
    JsonNode root =
        parse(json, label == null ? "segment descriptor" : "segment descriptor of '" + label + "'");
    if (!root.isObject()) {
      throw malformed(
          "segment descriptor"
              + (label == null ? "" : " of '" + label + "'")
              + " is not a JSON object but "
              + kind(root));
    }
    JsonNode nameNode = root.get("name");
    if (label == null) {
      label = nameNode != null && nameNode.isTextual() ? nameNode.textValue() : "(unnamed)";
    }
    String what = "segment descriptor of '" + label + "'";
    // The reference writes nvmeof descriptors without a name: they take the name looked up.
    String name = nameNode == null && segmentForMessages != null
        ? segmentForMessages : requiredText(root, "name", what);
    String protocol = protocolOf(root, what);

    SegmentDescriptor.Builder b = SegmentDescriptor.builder(name, protocol);
    JsonNode timestamp = presentOrNull(root, "timestamp");
    if (timestamp != null) {
      if (!timestamp.isTextual()) {
        throw malformed(what + ": timestamp must be a string, got " + kind(timestamp));
      }
      b.timestamp(timestamp.textValue());
    }

    List<DeviceDescriptor> devices = new ArrayList<>();
    JsonNode devicesNode = presentOrNull(root, "devices");
    if (devicesNode != null) {
      if (!devicesNode.isArray()) {
        throw malformed(what + ": devices must be an array, got " + kind(devicesNode));
      }
      int i = 0;
      for (JsonNode d : devicesNode) {
        devices.add(device(d, what + ": device #" + i));
        i++;
      }
    }
    b.devices(devices);

    JsonNode buffersNode = presentOrNull(root, "buffers");
    if (buffersNode != null) {
      if (!buffersNode.isArray()) {
        throw malformed(what + ": buffers must be an array, got " + kind(buffersNode));
      }
      int i = 0;
      for (JsonNode bn : buffersNode) {
        BufferDescriptor buffer = buffer(bn, what + ": buffer #" + i);
        // Keys are per device, in device order: where a buffer lists any, it lists one of each
        // per device (whichever transport reads them).
        boolean keyed = !buffer.remoteKeys().isEmpty() || !buffer.localKeys().isEmpty();
        if (keyed
            && (buffer.remoteKeys().size() != devices.size()
                || buffer.localKeys().size() != devices.size())) {
          throw malformed(
              what
                  + ": buffer #"
                  + i
                  + " ('"
                  + buffer.name()
                  + "') has "
                  + buffer.remoteKeys().size()
                  + " rkey and "
                  + buffer.localKeys().size()
                  + " lkey entries for "
                  + devices.size()
                  + " devices");
        }
        b.addBuffer(buffer);
        i++;
      }
    }

    JsonNode matrix = presentOrNull(root, "priority_matrix");
    if (matrix != null) {
      b.priorityMatrix(topology(matrix, what + ": priority_matrix"));
    }

    for (Map.Entry<String, JsonNode> f : root.properties()) {
      if (!TOP_LEVEL_FIELDS.contains(f.getKey())) {
        b.attribute(f.getKey(), toJava(f.getValue()));
      }
    }
    return b.build();
  }

  private static String protocolOf(JsonNode root, String what) {
    JsonNode p = root.get("protocol");
    if (p != null && p.isArray() && !p.isEmpty()) {
      // The reference's multi-protocol descriptors: ["cxl","tcp"] reads as "cxl,tcp".
      StringBuilder joined = new StringBuilder();
      for (JsonNode item : p) {
        if (!item.isTextual() || item.textValue().isEmpty()) {
          throw malformed(what + ": protocol array must hold non-empty strings");
        }
        if (joined.length() > 0) {
          joined.append(',');
        }
        joined.append(item.textValue());
      }
      return joined.toString();
    }
    return requiredText(root, "protocol", what);
  }

  private static DeviceDescriptor device(JsonNode d, String what) {
    if (!d.isObject()) {
      throw malformed(what + " is not an object but " + kind(d));
    }
    String name = requiredText(d, "name", what);
    JsonNode lid = presentOrNull(d, "lid");
    int lidValue = lid == null ? 0 : intIn(lid, 0, 65535, what + " ('" + name + "'): lid");
    JsonNode gid = presentOrNull(d, "gid");
    if (gid != null && !gid.isTextual()) {
      throw malformed(what + " ('" + name + "'): gid must be a string, got " + kind(gid));
    }
    return new DeviceDescriptor(name, lidValue, gid == null ? "" : gid.textValue());
  }

  private static BufferDescriptor buffer(JsonNode bn, String what) {
    if (!bn.isObject()) {
      throw malformed(what + " is not an object but " + kind(bn));
    }
    JsonNode nameNode = presentOrNull(bn, "name");
    if (nameNode != null && !nameNode.isTextual()) {
      throw malformed(what + ": name must be a string, got " + kind(nameNode));
    }
    String name = nameNode == null ? "" : nameNode.textValue();
    String where = name.isEmpty() ? what : what + " ('" + name + "')";
    boolean addressless = !bn.has("addr") && (bn.has("offset") || bn.has("file_path"));

    long address;
    long length;
    JsonNode lengthNode = presentOrNull(bn, "length");
    if (addressless) {
      // CXL: the offset stands in for the address, so range checks work on offsets.
      JsonNode offset = presentOrNull(bn, "offset");
      address = offset == null ? 0 : u64(offset, where + ": offset");
      length = lengthNode == null ? 0 : u64(lengthNode, where + ": length");
      if (bn.has("offset") && (name.isEmpty() || length == 0)) {
        throw malformed(where + ": a CXL buffer needs a name and a non-zero length");
      }
    } else {
      if (name.isEmpty()) {
        throw malformed(what + ": empty or missing name");
      }
      JsonNode addr = presentOrNull(bn, "addr");
      if (addr == null) {
        throw malformed(where + ": missing addr");
      }
      address = u64(addr, where + ": addr");
      if (address == 0) {
        throw malformed(where + ": addr is 0");
      }
      if (lengthNode == null) {
        throw malformed(where + ": missing length");
      }
      length = u64(lengthNode, where + ": length");
      if (length == 0) {
        throw malformed(where + ": length is 0");
      }
    }
    List<Long> rkeys = u64List(bn, "rkey", where);
    List<Long> lkeys = u64List(bn, "lkey", where);

    Map<String, Object> attributes = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> f : bn.properties()) {
      Object value = toJava(f.getValue());
      // BufferDescriptor copies its attributes with Map.copyOf, which refuses null values.
      if (!BUFFER_FIELDS.contains(f.getKey()) && value != null) {
        attributes.put(f.getKey(), value);
      }
    }
    return new BufferDescriptor(name, address, length, rkeys, lkeys, attributes);
  }

  private static List<Long> u64List(JsonNode parent, String field, String what) {
    JsonNode list = presentOrNull(parent, field);
    if (list == null) {
      return List.of();
    }
    if (!list.isArray()) {
      throw malformed(what + ": " + field + " must be an array, got " + kind(list));
    }
    List<Long> out = new ArrayList<>(list.size());
    for (JsonNode item : list) {
      out.add(u64(item, what + ": " + field + " entry"));
    }
    return out;
  }

  // ---------------------------------------------------------------- timestamps

  /**
   * The current local time as the reference stamps descriptors: {@code YYYY-MM-DD HH:MM:SS.ffffff}.
   */
  public static String timestampNow() {
    return TIMESTAMP.format(LocalDateTime.now());
  }

  // ---------------------------------------------------------------- topology

  /**
   * Writes a topology (WIRE.md section 5): {@code {"cpu:0":[["mlx5_0"],["mlx5_1"]]}}, keys sorted.
   */
  public static String topologyToJson(Topology topology) {
    return write(topologyNode(topology));
  }

  /**
   * Reads a topology strictly: an object whose every value is exactly two arrays of strings.
   *
   * @throws TransferException MALFORMED_JSON naming the offending location
   */
  public static Topology topologyFromJson(String json) {
    return topology(parse(json, "topology"), "topology");
  }

  private static ObjectNode topologyNode(Topology topology) {
    ObjectNode root = NODES.objectNode();
    for (Map.Entry<String, Topology.Entry> e : topology.entries().entrySet()) {
      ArrayNode pair = root.putArray(e.getKey());
      ArrayNode preferred = pair.addArray();
      e.getValue().preferred().forEach(preferred::add);
      ArrayNode available = pair.addArray();
      e.getValue().available().forEach(available::add);
    }
    return root;
  }

  private static Topology topology(JsonNode root, String what) {
    if (!root.isObject()) {
      throw malformed(what + " must be a JSON object, got " + kind(root));
    }
    Map<String, Topology.Entry> entries = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> f : root.properties()) {
      JsonNode value = f.getValue();
      String where = what + ": location '" + f.getKey() + "'";
      if (!value.isArray() || value.size() != 2) {
        throw malformed(
            where
                + " must map to exactly two arrays (preferred, then available devices), got "
                + (value.isArray() ? "an array of " + value.size() : kind(value)));
      }
      entries.put(
          f.getKey(),
          new Topology.Entry(
              deviceNames(value.get(0), where + ", preferred devices"),
              deviceNames(value.get(1), where + ", available devices")));
    }
    return new Topology(entries);
  }

  private static List<String> deviceNames(JsonNode list, String what) {
    if (!list.isArray()) {
      throw malformed(what + " must be an array of strings, got " + kind(list));
    }
    List<String> names = new ArrayList<>(list.size());
    for (JsonNode item : list) {
      if (!item.isTextual()) {
        throw malformed(what + " must hold strings only, got " + kind(item));
      }
      names.add(item.textValue());
    }
    return names;
  }

  // ---------------------------------------------------------------- rpc_meta and notify

  /** {@code {"ip_or_host_name":"10.0.0.1","rpc_port":15234}}: an engine's RPC location. */
  public static String rpcMetaToJson(HostPort location) {
    ObjectNode root = NODES.objectNode();
    root.put("ip_or_host_name", location.host());
    root.put("rpc_port", location.port());
    return write(root);
  }

  /**
   * Reads an RPC location.
   *
   * @throws TransferException MALFORMED_JSON when the host is missing or empty or the port is not
   *     0..65535
   */
  public static HostPort rpcMetaFromJson(String json) {
    JsonNode root = parse(json, "rpc_meta");
    if (!root.isObject()) {
      throw malformed("rpc_meta is not a JSON object but " + kind(root));
    }
    String host = requiredText(root, "ip_or_host_name", "rpc_meta");
    if (host.isBlank()) {
      throw malformed("rpc_meta: ip_or_host_name is blank");
    }
    JsonNode port = presentOrNull(root, "rpc_port");
    if (port == null) {
      throw malformed("rpc_meta of '" + host + "': missing rpc_port");
    }
    return new HostPort(host, intIn(port, 0, 65535, "rpc_meta of '" + host + "': rpc_port"));
  }

  /** {@code {"name":..,"notify_msg":..}}: the body of a type-2 frame. */
  public static String notifyToJson(TransferNotify notify) {
    ObjectNode root = NODES.objectNode();
    root.put("name", notify.name());
    root.put("notify_msg", notify.msg());
    return write(root);
  }

  /**
   * Reads a notification body. Missing fields read as empty strings, as in the reference.
   *
   * @throws TransferException MALFORMED_JSON when the body is not an object or a field is not a
   *     string
   */
  public static TransferNotify notifyFromJson(String json) {
    JsonNode root = parse(json, "notify");
    if (!root.isObject()) {
      throw malformed("notify is not a JSON object but " + kind(root));
    }
    return new TransferNotify(
        optionalText(root, "name", "notify"), optionalText(root, "notify_msg", "notify"));
  }

  // ---------------------------------------------------------------- generic helpers

  /**
   * Checks that {@code json} is one well-formed JSON value (trailing whitespace allowed).
   *
   * @param what names the document in the error
   * @throws TransferException MALFORMED_JSON otherwise
   */
  public static void requireWellFormed(String json, String what) {
    parse(json, what);
  }

  /** Rewrites any JSON value compactly with sorted keys, as the reference would write it. */
  public static String canonical(String json) {
    return write(parse(json, "document"));
  }

  private static JsonNode parse(String json, String what) {
    if (json == null || json.isBlank()) {
      throw malformed(what + " is empty");
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new TransferException(
          ErrorCode.MALFORMED_JSON, what + " is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (NumberFormatException | ArithmeticException e) {
      // A number no BigDecimal holds (1E99999999999): Jackson lets these escape untyped.
      throw new TransferException(
          ErrorCode.MALFORMED_JSON, what + " holds a number out of range: " + e.getMessage(), e);
    }
    if (node == null || node.isMissingNode()) {
      throw malformed(what + " is empty");
    }
    return node;
  }

  private static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(sorted(node));
    } catch (JsonProcessingException e) {
      // Trees of our own making always serialize.
      throw new IllegalStateException(e);
    }
  }

  /** A copy of {@code node} whose objects list their keys in jsoncpp order, at every level. */
  private static JsonNode sorted(JsonNode node) {
    if (node.isObject()) {
      List<String> keys = new ArrayList<>();
      node.fieldNames().forEachRemaining(keys::add);
      keys.sort(JSONCPP_KEY_ORDER);
      ObjectNode out = NODES.objectNode();
      for (String k : keys) {
        out.set(k, sorted(node.get(k)));
      }
      return out;
    }
    if (node.isArray()) {
      ArrayNode out = NODES.arrayNode(node.size());
      for (JsonNode item : node) {
        out.add(sorted(item));
      }
      return out;
    }
    return node;
  }

  private static void putAttributes(ObjectNode target, Map<String, Object> attributes) {
    for (Map.Entry<String, Object> e : attributes.entrySet()) {
      target.set(e.getKey(), toNode(e.getValue()));
    }
  }

  /** A JSON-shaped Java value (String, Number, Boolean, List, Map, null) as a tree. */
  private static JsonNode toNode(Object value) {
    if (value == null) {
      return NODES.nullNode();
    }
    if (value instanceof JsonNode) {
      return (JsonNode) value;
    }
    if (value instanceof Map<?, ?>) {
      ObjectNode out = NODES.objectNode();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        out.set(String.valueOf(e.getKey()), toNode(e.getValue()));
      }
      return out;
    }
    if (value instanceof Iterable<?>) {
      ArrayNode out = NODES.arrayNode();
      for (Object item : (Iterable<?>) value) {
        out.add(toNode(item));
      }
      return out;
    }
    return MAPPER.valueToTree(value);
  }

  /** A tree as JSON-shaped Java values: objects keep their order, numbers their exact value. */
  private static Object toJava(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> out = new LinkedHashMap<>();
      node.properties().forEach(f -> out.put(f.getKey(), toJava(f.getValue())));
      return out;
    }
    if (node.isArray()) {
      List<Object> out = new ArrayList<>(node.size());
      node.forEach(item -> out.add(toJava(item)));
      return out;
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isIntegralNumber()) {
      if (node.canConvertToInt()) {
        return node.intValue();
      }
      return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
    }
    if (node.isNumber()) {
      return node.decimalValue();
    }
    return null;
  }

  private static JsonNode u64Node(long value) {
    return value >= 0
        ? LongNode.valueOf(value)
        : BigIntegerNode.valueOf(new BigInteger(Long.toUnsignedString(value)));
  }

  private static ArrayNode u64Array(List<Long> values) {
    ArrayNode out = NODES.arrayNode(values.size());
    for (Long v : values) {
      out.add(u64Node(v));
    }
    return out;
  }

  /** An unsigned 64-bit integer, returned in a long's bits. */
  private static long u64(JsonNode node, String what) {
    if (!node.isIntegralNumber()) {
      throw malformed(what + " must be an unsigned integer, got " + kind(node));
    }
    BigInteger v = node.bigIntegerValue();
    if (v.signum() < 0 || v.compareTo(U64_LIMIT) >= 0) {
      throw malformed(what + " is out of the unsigned 64-bit range: " + v);
    }
    return v.longValue();
  }

  private static int intIn(JsonNode node, int min, int max, String what) {
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw malformed(what + " must be an integer, got " + kind(node));
    }
    long v = node.longValue();
    if (v < min || v > max) {
      throw malformed(what + " is out of range [" + min + ", " + max + "]: " + v);
    }
    return (int) v;
  }

  private static String requiredText(JsonNode parent, String field, String what) {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      throw malformed(what + ": missing " + field);
    }
    if (!n.isTextual()) {
      throw malformed(what + ": " + field + " must be a string, got " + kind(n));
    }
    if (n.textValue().isEmpty()) {
      throw malformed(what + ": empty " + field);
    }
    return n.textValue();
  }

  private static String optionalText(JsonNode parent, String field, String what) {
    JsonNode n = presentOrNull(parent, field);
    if (n == null) {
      return "";
    }
    if (!n.isTextual()) {
      throw malformed(what + ": " + field + " must be a string, got " + kind(n));
    }
    return n.textValue();
  }

  /** The member, or null when it is absent or JSON null (jsoncpp reads both alike). */
  private static JsonNode presentOrNull(JsonNode parent, String field) {
    JsonNode n = parent.get(field);
    return n == null || n.isNull() ? null : n;
  }

  private static String kind(JsonNode n) {
    switch (n.getNodeType()) {
      case OBJECT:
        return "an object";
      case ARRAY:
        return "an array";
      case STRING:
        return "a string";
      case NUMBER:
        return "the number " + n.asText();
      case BOOLEAN:
        return "a boolean";
      case NULL:
        return "null";
      default:
        return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private static TransferException malformed(String message) {
    return new TransferException(ErrorCode.MALFORMED_JSON, message);
  }
}
