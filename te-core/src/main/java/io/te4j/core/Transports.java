package io.te4j.core;

import io.te4j.api.ErrorCode;
import io.te4j.api.MemoryKind;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.spi.Availability;
import io.te4j.api.spi.FrameHandler;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.PeerRpc;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportProvider;
import io.te4j.core.config.EngineConfig;
import io.te4j.core.memory.RegisteredRegion;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transports an engine runs: which ones it starts (by configuration, never by import), which
 * one carries a batch, what each attaches to registered memory, and who serves the handshake
 * frames the engine does not answer itself.
 *
 * <p>Threading: started and closed by the engine's life cycle; {@link #register}, {@link
 * #unregistered} and {@link #describe} run under the registry's lock; {@link #choose} and {@link
 * #frameHandler} on any thread, lock-free.
 */
final class Transports implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Transports.class);

  /** By name, the primary (the descriptor's protocol) first; index = registration slot. */
  private final Map<String, Transport> byName = new LinkedHashMap<>();
  private final List<Transport> bySlot = new ArrayList<>();
  private final Map<Integer, FrameHandler> frameHandlers = new ConcurrentHashMap<>();
  private String primary;

  /**
   * Starts the transports the configuration asks for: the named ones (the first is the primary),
   * or every available and configured one for {@code auto}; and beside them every provider that
   * starts alongside ({@link TransportProvider#startsAlongside()}) when available and configured.
   *
   * @param contexts the context of the transport with each registration slot
   * @return the local descriptor the transports filled in
   * @throws TransferException TRANSPORT_UNAVAILABLE (unknown or unavailable protocol), ENDPOINT
   *     (a transport failed to start); what started is closed by {@link #close()}
   */
  SegmentDescriptor.Builder start(EngineConfig config, Map<String, TransportProvider> providers,
      String segmentName, IntFunction<EngineTransportContext> contexts) {
    List<TransportProvider> chosen = new ArrayList<>();
    Set<TransportProvider> distinct = new LinkedHashSet<>(providers.values());
    if (config.protocol().equals("auto")) {
      for (TransportProvider p : distinct) {
        if (startable(p, config, contexts.apply(chosen.size()))) {
          chosen.add(p);
        }
      }
      if (chosen.isEmpty()) {
        throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE,
            "protocol auto: no available transport among " + providers.keySet());
      }
    } else {
      // "tcp,nvmeof": several transports, the first one is the primary (the descriptor's protocol).
      for (String name : config.protocol().split(",")) {
        TransportProvider p = providers.get(name.trim());
        if (p == null) {
          throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE, "unknown protocol '"
              + name.trim() + "'; installed transports: " + providers.keySet());
        }
        if (!chosen.contains(p)) {
          chosen.add(p);
        }
      }
    }
    for (TransportProvider p : distinct) {
      if (p.startsAlongside() && !chosen.contains(p)
          && startable(p, config, contexts.apply(chosen.size()))) {
        chosen.add(p);
      }
    }
    primary = chosen.get(0).name();
    SegmentDescriptor.Builder descriptor = SegmentDescriptor.builder(segmentName, primary);
    for (TransportProvider p : chosen) {
      ensureAvailable("transport " + p.name(), p.availability(), config);
      Transport t = p.create(contexts.apply(bySlot.size()));
      bySlot.add(t);
      byName.put(p.name(), t);
      try {
        t.start(descriptor);
      } catch (IOException e) {
        throw new TransferException(ErrorCode.ENDPOINT, "transport " + p.name()
            + " failed to start", e);
      }
    }
    return descriptor;
  }

  /** A provider the engine was not asked for by name: started when available and configured. */
  private static boolean startable(TransportProvider p, EngineConfig config,
      EngineTransportContext context) {
    Throwable cause = p.availability().unavailabilityCause(config.settings());
    if (cause != null) {
      LOG.info("transport {} not started: {}", p.name(), cause.getMessage());
      return false;
    }
    if (!p.isConfigured(context)) {
      LOG.info("transport {} not started: not configured", p.name());
      return false;
    }
    return true;
  }

  /** TRANSPORT_UNAVAILABLE with the cause when the provider cannot work for this engine. */
  static void ensureAvailable(String what, Availability availability, EngineConfig config) {
    Throwable cause = availability.unavailabilityCause(config.settings());
    if (cause != null) {
      throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE,
          what + " is unavailable: " + cause.getMessage(), cause);
    }
  }

  /** The primary transport's name: the local descriptor's protocol. */
  String primary() {
    return primary;
  }

  /** Names of the running transports, the primary first. */
  Set<String> names() {
    return Collections.unmodifiableSet(byName.keySet());
  }

  /** The running transport of that name, or null. */
  Transport get(String name) {
    return byName.get(name);
  }

  /**
   * A peer's descriptor changed or it went away: every transport drops what it cached for it
   * (connections, mappings, open files). One transport's failure does not stop the others.
   */
  void forget(String segmentName) {
    for (Transport t : bySlot) {
      try {
        t.forget(segmentName);
      } catch (RuntimeException e) {
        LOG.warn("{}: forgetting segment {} failed: {}", t.name(), segmentName, e.toString());
      }
    }
  }

  // ---------------------------------------------------------------- choosing

  /**
   * The transport for a batch to {@code target} whose entries' local regions are {@code
   * regions[0, count)} (null entries are skipped). In order: the hint when it is installed and
   * reaches the target; a transport that prefers the target (same-host shared memory); the target's
   * protocol; any other that reaches it. The first of those that can move every entry's memory
   * wins; when none can, the first that reaches the target (its entries of other memory then fail
   * alone).
   *
   * @throws TransferException TRANSPORT_UNAVAILABLE when none reaches the target
   */
  Transport choose(SegmentDescriptor target, String hint, MemoryRegion[] regions, int count) {
    Transport first = null;
    for (int pass = 0; pass < 4; pass++) {
      int candidates = pass == 1 || pass == 3 ? bySlot.size() : 1;
      for (int i = 0; i < candidates; i++) { // indexes, not iterators: nothing per batch
        Transport t = candidate(pass, i, target, hint);
        if (t == null || !t.canReach(target) || (pass == 1 && !t.prefers(target))) {
          continue;
        }
        if (movesAll(t, regions, count)) {
          return t;
        }
        if (first == null) {
          first = t;
        }
      }
    }
    if (first != null) {
      return first;
    }
    throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE, "no transport of "
        + byName.keySet() + " can reach segment '" + target.name() + "' (protocol "
        + target.protocol() + ")");
  }

  /** Pass 0: the hint; 1: transports preferring the target; 2: its protocol's; 3: any. */
  private Transport candidate(int pass, int i, SegmentDescriptor target, String hint) {
    switch (pass) {
      case 0:
        return hint == null || hint.isEmpty() ? null : byName.get(hint.toLowerCase(Locale.ROOT));
      case 1:
      case 3:
        return bySlot.get(i);
      default:
        return byName.get(target.protocol());
    }
  }

  private static boolean movesAll(Transport t, MemoryRegion[] regions, int count) {
    for (int i = 0; i < count; i++) {
      if (regions[i] != null && !t.canMove(regions[i].kind())) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- memory

  /**
   * Lets every transport set up what it needs for {@code region} and attaches it; when one
   * refuses, those that took the region are told it is gone, in reverse order, and the refusal
   * propagates.
   */
  void register(RegisteredRegion region) {
    Object[] attachments = new Object[bySlot.size()];
    int done = 0;
    try {
      for (; done < bySlot.size(); done++) {
        attachments[done] = bySlot.get(done).register(region);
      }
    } catch (RuntimeException | Error e) {
      for (int i = done - 1; i >= 0; i--) {
        unregisteredQuietly(bySlot.get(i), region, e);
      }
      throw e;
    }
    region.attach(attachments);
  }

  /** Every transport lets go of {@code region}: after it, none touches the memory. */
  void unregistered(RegisteredRegion region) {
    for (int i = bySlot.size() - 1; i >= 0; i--) {
      unregisteredQuietly(bySlot.get(i), region, null);
    }
  }

  private static void unregisteredQuietly(Transport t, MemoryRegion region, Throwable cause) {
    try {
      t.unregistered(region);
    } catch (RuntimeException e) {
      if (cause != null) {
        cause.addSuppressed(e);
      }
      LOG.error("transport {} failed to let go of {}", t.name(), region, e);
    }
  }

  /**
   * The buffer entry peers see for {@code region}: named after its location (which the primary
   * transport may rename), with {@value MemoryKind#LOCATION_ATTRIBUTE} for memory that is not host
   * memory, then completed by every transport (keys, memory files, offsets).
   */
  io.te4j.api.BufferDescriptor describe(RegisteredRegion region) {
    io.te4j.api.BufferDescriptor d = io.te4j.api.BufferDescriptor.of(region.location(),
        region.address(), region.length());
    if (!region.kind().isHost()) {
      d = new io.te4j.api.BufferDescriptor(d.name(), d.address(), d.length(), List.of(),
          List.of(), Map.of(MemoryKind.LOCATION_ATTRIBUTE, region.location()));
    }
    for (Transport t : bySlot) {
      d = t.describe(region, d);
    }
    return d;
  }

  // ---------------------------------------------------------------- frames

  /** Who serves frames of {@code type}, or null. */
  FrameHandler frameHandler(int type) {
    return frameHandlers.get(type);
  }

  /** See {@link io.te4j.api.spi.TransportContext#serveFrames}. */
  AutoCloseable serveFrames(int frameType, FrameHandler handler) {
    java.util.Objects.requireNonNull(handler, "handler");
    if (frameType != PeerRpc.CONNECTION) {
      throw new IllegalArgumentException("frame type " + frameType + " is "
          + (frameType >= 1 && frameType <= 3 ? "answered by the engine" : "not in 0..3"));
    }
    if (frameHandlers.putIfAbsent(frameType, handler) != null) {
      throw new IllegalStateException("another transport serves frame type " + frameType);
    }
    return () -> frameHandlers.remove(frameType, handler);
  }

  /** Closes every transport, the last started first, and forgets the frame handlers. */
  @Override
  public void close() {
    for (int i = bySlot.size() - 1; i >= 0; i--) {
      Transport t = bySlot.get(i);
      try {
        t.close();
      } catch (RuntimeException e) {
        LOG.warn("while closing transport {}: {}", t.name(), e.toString());
      }
    }
    frameHandlers.clear();
  }
}
