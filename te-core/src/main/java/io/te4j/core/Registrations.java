package io.te4j.core;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.PeerAccess;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.memory.ManagedMemory;
import io.te4j.core.memory.MemoryRegistryImpl;
import io.te4j.core.memory.RegisteredRegion;
import io.te4j.nativelib.NativeMemory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine's memory: registrations and the managed buffers of its buddy allocator, what every
 * transport attaches to them, and the descriptor that publishes the remote-accessible ones.
 *
 * <p>A registration runs in three steps under the registry's lock: every transport takes the
 * regions ({@link Transports#register}: an RDMA memory region per NIC, say) before anyone can find
 * them; the registry publishes them; the descriptor is published once for the whole call. A
 * refusal at any step rolls the earlier ones back. Unregistering waits until no transport touches
 * the memory, then publishes the descriptor without it.
 */
final class Registrations implements MemoryRegistryImpl.Listener, AutoCloseable {
  private static final String CPU = "cpu:0";
  private static final long MANAGED_ARENA_BYTES = 64L << 20;

  private final MemoryRegistryImpl registry = new MemoryRegistryImpl(this);
  private final Map<Long, BufferDescriptor> published = new LinkedHashMap<>();
  private Transports transports;
  private Segments segments;
  private SegmentDescriptor.Builder template;
  /** Transport changes to the template made before it existed (see {@link #editTemplate}). */
  private final List<java.util.function.Consumer<SegmentDescriptor.Builder>> pendingEdits =
      new ArrayList<>();
  private volatile ManagedMemory managed;

  /** The registry transports look regions up in (usable before {@link #open}: it is empty). */
  MemoryRegistryImpl registry() {
    return registry;
  }

  /**
   * Starts publishing: the local descriptor made of {@code template} (the transports' fields) and
   * the registered buffers; then opens the managed buffers, as memory files unless {@code
   * shareable} is false (same-host peers then map them).
   */
  void open(Transports transports, Segments segments, SegmentDescriptor.Builder template,
      boolean shareable) {
    synchronized (this) {
      this.transports = transports;
      this.segments = segments;
      this.template = template;
      pendingEdits.forEach(edit -> edit.accept(template));
      pendingEdits.clear();
      publishDescriptor();
    }
    managed = new ManagedMemory(registry, MANAGED_ARENA_BYTES, shareable);
  }

  // ---------------------------------------------------------------- the registry's listener

  @Override
  public synchronized void preparing(List<RegisteredRegion> regions) {
    int done = 0;
    try {
      for (; done < regions.size(); done++) {
        transports.register(regions.get(done));
      }
    } catch (RuntimeException | Error e) {
      for (int i = done - 1; i >= 0; i--) {
        transports.unregistered(regions.get(i));
      }
      throw e;
    }
  }

  @Override
  public synchronized void added(List<RegisteredRegion> regions) {
    List<Long> added = new ArrayList<>();
    try {
      for (RegisteredRegion r : regions) {
        if (r.remoteAccessible()) {
          published.put(r.address(), withAccess(transports.describe(r), r.peerAccess()));
          added.add(r.address());
        }
      }
      if (!added.isEmpty()) {
        publishDescriptor();
      }
    } catch (RuntimeException | Error e) {
      // The registry rolls the regions back: so does the descriptor, before it says removed().
      added.forEach(published::remove);
      throw e;
    }
  }

  @Override
  public synchronized void removed(List<RegisteredRegion> regions) {
    boolean changed = false;
    for (RegisteredRegion r : regions) {
      transports.unregistered(r);
      changed |= published.remove(r.address()) != null;
    }
    if (changed) {
      publishDescriptor();
    }
  }

  /** A restricted buffer says so in its descriptor; a read-write one stays the reference's. */
  private static BufferDescriptor withAccess(BufferDescriptor b, PeerAccess access) {
    String value = access.attributeValue();
    if (value == null) {
      return b;
    }
    Map<String, Object> attributes = new LinkedHashMap<>(b.attributes());
    attributes.put(PeerAccess.ATTRIBUTE, value);
    return new BufferDescriptor(b.name(), b.address(), b.length(), b.remoteKeys(), b.localKeys(),
        attributes);
  }

  /**
   * Applies a transport's change to the descriptor's transport fields and republishes; a change
   * that comes before {@link #open} is applied then.
   */
  synchronized void editTemplate(java.util.function.Consumer<SegmentDescriptor.Builder> edit) {
    if (template == null) {
      pendingEdits.add(edit);
      return;
    }
    edit.accept(template);
    publishDescriptor();
  }

  private synchronized void publishDescriptor() {
    if (template == null) {
      return;
    }
    segments.publishLocal(template.buffers(new ArrayList<>(published.values()))
        .timestamp(JsonCodec.timestampNow()).build());
  }

  // ---------------------------------------------------------------- registering

  RegisteredMemory register(Engine engine, long address, long length, String location,
      PeerAccess access) {
    RegisteredRegion r = registry.register(address, length, location, access, null);
    return new RegisteredMemory(engine, r.address(), r.length());
  }

  RegisteredMemory register(Engine engine, ByteBuffer direct, PeerAccess access) {
    RegisteredRegion r = registry.register(direct, CPU, access);
    return new RegisteredMemory(engine, r.address(), r.length());
  }

  List<RegisteredMemory> registerAll(Engine engine, List<MemoryRegistryImpl.RegionSpec> specs) {
    List<RegisteredMemory> out = new ArrayList<>();
    for (RegisteredRegion r : registry.registerAll(specs)) {
      out.add(new RegisteredMemory(engine, r.address(), r.length()));
    }
    return out;
  }

  void unregister(long address) {
    refuseManaged(address);
    registry.unregister(address);
  }

  void unregisterAll(List<Long> addresses) {
    addresses.forEach(this::refuseManaged);
    registry.unregisterAll(addresses);
  }

  /** Managed arenas belong to the allocator: unregistering one would pull memory from under it. */
  private void refuseManaged(long address) {
    for (RegisteredRegion r : registry.registeredRegions()) {
      if (r.address() == address && r.owner() == managed()) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT, "0x" + Long.toHexString(address)
            + " is a managed arena; free its buffers with freeManagedBuffer instead");
      }
    }
  }

  /** Address of a new managed buffer, or 0 on failure. */
  long allocate(long length) {
    return managed().allocate(length);
  }

  /** 0, or a negative {@link ErrorCode} code for an unknown address, wrong length or double free. */
  int free(long address, long length) {
    return managed().free(address, length);
  }

  private ManagedMemory managed() {
    return managed;
  }

  // ---------------------------------------------------------------- bytes

  /**
   * Copies bytes into registered local host memory.
   *
   * @throws TransferException ADDRESS_NOT_REGISTERED when the range is not inside one region,
   *     MEMORY_KIND_UNSUPPORTED for device memory (the CPU cannot touch it)
   */
  void write(long address, byte[] src, int offset, int length) {
    java.util.Objects.checkFromIndexSize(offset, length, src.length);
    checkHost(address, length);
    NativeMemory.write(address, src, offset, length);
  }

  /** Copies bytes out of registered local host memory. */
  byte[] read(long address, int length) {
    if (length < 0) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "negative length " + length);
    }
    checkHost(address, length);
    byte[] out = new byte[length];
    NativeMemory.read(address, out, 0, length);
    return out;
  }

  private void checkHost(long address, long length) {
    RegisteredRegion r = registry.findContaining(address, length);
    if (r == null) {
      throw new TransferException(ErrorCode.ADDRESS_NOT_REGISTERED, "0x"
          + Long.toHexString(address) + "+" + length + " is not inside memory this engine registered");
    }
    if (!r.kind().isHost()) {
      throw new TransferException(ErrorCode.MEMORY_KIND_UNSUPPORTED, "0x"
          + Long.toHexString(address) + " is " + r.kind() + ": the CPU cannot copy it");
    }
  }

  /** Frees the managed buffers (their arenas are unregistered and unmapped). */
  @Override
  public void close() {
    ManagedMemory m = managed;
    if (m != null) {
      m.close();
    }
  }
}
