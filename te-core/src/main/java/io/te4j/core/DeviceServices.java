package io.te4j.core;

import io.te4j.api.spi.Availability;
import io.te4j.api.spi.DeviceMemoryAccess;
import io.te4j.api.spi.StreamGate;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What device modules on the class path offer the engine, per device family: access to device
 * memory through host memory ({@link DeviceMemoryAccess}) and ordering on device streams ({@link
 * StreamGate}). Found by {@link ServiceLoader} once per family and kept only when available here
 * (transports and the {@code *_on_cuda} operations ask on their paths).
 */
final class DeviceServices {
  private static final Map<String, Optional<DeviceMemoryAccess>> MEMORY = new ConcurrentHashMap<>();
  private static final Map<String, Optional<StreamGate>> GATES = new ConcurrentHashMap<>();

  private DeviceServices() {}

  /** The access to device memory of {@code family}, or null. */
  static DeviceMemoryAccess memoryAccess(String family) {
    return MEMORY.computeIfAbsent(family, f -> find(DeviceMemoryAccess.class, f,
        DeviceMemoryAccess::family, DeviceMemoryAccess::availability)).orElse(null);
  }

  /** The stream gate of {@code family}, or null. */
  static StreamGate streamGate(String family) {
    return GATES.computeIfAbsent(family, f -> find(StreamGate.class, f, StreamGate::family,
        StreamGate::availability)).orElse(null);
  }

  private static <S> Optional<S> find(Class<S> service, String family,
      Function<S, String> familyOf, Function<S, Availability> availabilityOf) {
    for (S s : ServiceLoader.load(service, DeviceServices.class.getClassLoader())) {
      if (familyOf.apply(s).equals(family) && availabilityOf.apply(s).isAvailable()) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }
}
