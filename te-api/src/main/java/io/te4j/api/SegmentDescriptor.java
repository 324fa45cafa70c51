package io.te4j.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an engine publishes about its memory so peers can reach it (WIRE.md section 2): a segment
 * name, the transport protocol, the buffers, and each transport's own fields.
 *
 * <p>Fields that belong to one transport ({@code tcp_data_port} and {@code tcp_proto_version} of
 * TCP, {@code cxl_name} and {@code cxl_base_addr} of CXL, ...) and fields this version does not
 * know are kept in {@link #attributes()}, read and written by the transport that owns them, and
 * written back unchanged when the descriptor is re-published.
 */
public final class SegmentDescriptor {
  private final String name;
  private final String protocol;
  private final String timestamp;
  private final List<BufferDescriptor> buffers;
  private final List<DeviceDescriptor> devices;
  private final Topology priorityMatrix;
  private final Map<String, Object> attributes;
  private final boolean deviceBuffers;
  private final boolean restrictedBuffers;

  private SegmentDescriptor(Builder b) {
    this.name = Objects.requireNonNull(b.name, "name");
    this.protocol = Objects.requireNonNull(b.protocol, "protocol");
    this.timestamp = b.timestamp;
    this.buffers = List.copyOf(b.buffers);
    this.devices = List.copyOf(b.devices);
    this.priorityMatrix = b.priorityMatrix;
    this.attributes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.attributes));
    boolean device = false;
    boolean restricted = false;
    for (BufferDescriptor buffer : buffers) {
      device |= !MemoryKind.ofBuffer(buffer).isHost();
      restricted |= PeerAccess.ofBuffer(buffer) != PeerAccess.READ_WRITE;
    }
    this.deviceBuffers = device;
    this.restrictedBuffers = restricted;
  }

  public static Builder builder(String name, String protocol) {
    return new Builder().name(name).protocol(protocol);
  }

  /** A builder that starts as a copy of this descriptor. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.name = name;
    b.protocol = protocol;
    b.timestamp = timestamp;
    b.buffers.addAll(buffers);
    b.devices.addAll(devices);
    b.priorityMatrix = priorityMatrix;
    b.attributes.putAll(attributes);
    return b;
  }

  /** The segment name: {@code host:rpcPort} in P2P mode, the local server name otherwise. */
  public String name() {
    return name;
  }

  /** The transport the owner speaks: {@code tcp}, {@code rdma}, {@code cxl}, ... */
  public String protocol() {
    return protocol;
  }

  /** When the owner published this, as {@code YYYY-MM-DD HH:MM:SS.ffffff}, or null. */
  public String timestamp() {
    return timestamp;
  }

  public List<BufferDescriptor> buffers() {
    return buffers;
  }

  /** RDMA devices, in the order of the buffers' key lists; empty for other transports. */
  public List<DeviceDescriptor> devices() {
    return devices;
  }

  /** RDMA priority matrix, or null when absent. */
  public Topology priorityMatrix() {
    return priorityMatrix;
  }

  /** Every other field, JSON-shaped, in the order read. */
  public Map<String, Object> attributes() {
    return attributes;
  }

  /** True when a buffer publishes memory that is not host memory ({@link MemoryKind#ofBuffer}). */
  public boolean hasDeviceBuffers() {
    return deviceBuffers;
  }

  /**
   * True when a buffer allows peers less than read-write ({@link PeerAccess#ofBuffer}): computed
   * once, so initiators check each request's access only against such segments.
   */
  public boolean hasRestrictedBuffers() {
    return restrictedBuffers;
  }

  /** The buffer that wholly contains {@code [start, start + len)}, or null. */
  public BufferDescriptor bufferContaining(long start, long len) {
    for (int i = 0, n = buffers.size(); i < n; i++) { // no iterator: called per slice
      BufferDescriptor b = buffers.get(i);
      if (b.contains(start, len)) {
        return b;
      }
    }
    return null;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SegmentDescriptor)) {
      return false;
    }
    SegmentDescriptor s = (SegmentDescriptor) o;
    return name.equals(s.name) && protocol.equals(s.protocol)
        && Objects.equals(timestamp, s.timestamp)
        && buffers.equals(s.buffers) && devices.equals(s.devices)
        && Objects.equals(priorityMatrix, s.priorityMatrix) && attributes.equals(s.attributes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, protocol, timestamp, buffers);
  }

  @Override
  public String toString() {
    return "SegmentDescriptor{" + name + ", " + protocol + ", " + buffers.size() + " buffers}";
  }

  /** Mutable builder; transports add their fields to the local descriptor through it. */
  public static final class Builder {
    private String name;
    private String protocol;
    private String timestamp;
    private final List<BufferDescriptor> buffers = new ArrayList<>();
    private final List<DeviceDescriptor> devices = new ArrayList<>();
    private Topology priorityMatrix;
    private final Map<String, Object> attributes = new LinkedHashMap<>();

    private Builder() {}

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder protocol(String protocol) {
      this.protocol = protocol;
      return this;
    }

    public Builder timestamp(String timestamp) {
      this.timestamp = timestamp;
      return this;
    }

    public Builder buffers(List<BufferDescriptor> buffers) {
      this.buffers.clear();
      this.buffers.addAll(buffers);
      return this;
    }

    public Builder addBuffer(BufferDescriptor buffer) {
      this.buffers.add(buffer);
      return this;
    }

    public Builder devices(List<DeviceDescriptor> devices) {
      this.devices.clear();
      this.devices.addAll(devices);
      return this;
    }

    public Builder priorityMatrix(Topology topology) {
      this.priorityMatrix = topology;
      return this;
    }

    public Builder attribute(String key, Object value) {
      this.attributes.put(key, value);
      return this;
    }

    public SegmentDescriptor build() {
      return new SegmentDescriptor(this);
    }
  }
}
