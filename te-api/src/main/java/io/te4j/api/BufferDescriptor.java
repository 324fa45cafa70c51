package io.te4j.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One buffer of a published segment (WIRE.md section 2).
 *
 * @param name the buffer's location ({@code "cpu:0"}, {@code "cuda:1"}) or, for TCP, the server
 *     name
 * @param address the buffer's first address in the owner's process, an unsigned 64-bit value (for
 *     CXL, the offset into the device)
 * @param length its length in bytes, unsigned
 * @param remoteKeys per-device remote keys (RDMA), in the order of the segment's devices; empty
 *     for other transports
 * @param localKeys per-device local keys (RDMA); empty for other transports
 * @param attributes every other field of the buffer's JSON object, kept as read and written back
 *     ({@code shm_name}, {@code file_path}, {@code local_path_map}, {@code offset}, unknown fields):
 *     values are JSON-shaped (String, Number, Boolean, List, Map, null)
 */
public record BufferDescriptor(
    String name,
    long address,
    long length,
    List<Long> remoteKeys,
    List<Long> localKeys,
    Map<String, Object> attributes) {

  public BufferDescriptor {
    Objects.requireNonNull(name, "name");
    remoteKeys = List.copyOf(remoteKeys);
    localKeys = List.copyOf(localKeys);
    // JSON null values are legal attribute values, which Map.copyOf refuses.
    attributes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(attributes));
  }

  /** A plain memory buffer, as TCP publishes it. */
  public static BufferDescriptor of(String name, long address, long length) {
    return new BufferDescriptor(name, address, length, List.of(), List.of(), Map.of());
  }

  /** True when {@code [address, address + length)} lies inside this buffer (unsigned, overflow-safe). */
  public boolean contains(long start, long len) {
    return AddressRanges.contains(address, length, start, len);
  }
}
