package io.te4j.api;

import java.util.Objects;

/**
 * An RDMA device of a published segment (WIRE.md section 2).
 *
 * @param name device name, e.g. {@code mlx5_0}
 * @param lid local identifier
 * @param gid global identifier, as the reference prints it
 */
public record DeviceDescriptor(String name, int lid, String gid) {
  public DeviceDescriptor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(gid, "gid");
  }
}
