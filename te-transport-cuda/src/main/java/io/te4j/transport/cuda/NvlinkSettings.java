package io.te4j.transport.cuda;

import io.te4j.api.spi.Setting;
import java.util.List;

/** The settings of the nvlink transport. */
final class NvlinkSettings {
  private NvlinkSettings() {}

  static final Setting<Integer> STREAMS = Setting.integer("te4j.nvlink.streams", 4, 1, 64,
      "non-blocking CUDA streams per GPU the nvlink transport copies on (each submit completes "
          + "by its own event, so a large copy does not hold up a small one on another stream)");

  /** Read by {@link JnaCudaRuntime} as a system property when it binds; declared here for docs. */
  static final Setting<String> CUDART = Setting.text(JnaCudaRuntime.LIBRARY_PROPERTY,
      "libcudart.so.13", "path", "the CUDA 13 runtime library te4j binds (system property, read "
          + "once when CUDA is first used)");

  static final Setting<String> DRIVER = Setting.text(JnaCudaRuntime.DRIVER_PROPERTY,
      "libcuda.so.1", "path", "the CUDA driver library te4j binds (system property, read once "
          + "when CUDA is first used)");

  static final List<Setting<?>> ALL = List.of(STREAMS, CUDART, DRIVER);
}
