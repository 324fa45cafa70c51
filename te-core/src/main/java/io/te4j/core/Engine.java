package io.te4j.core;

import com.google.inject.Guice;
import com.google.inject.Inject;
import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.MetadataKeys;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.Topology;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.api.spi.FrameHandler;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.api.spi.PeerRpc;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;
import io.te4j.core.config.EngineConfig;
import io.te4j.core.inject.EngineModule;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.memory.ManagedMemory;
import io.te4j.core.memory.MemoryRegistryImpl;
import io.te4j.core.memory.RegisteredRegion;
import io.te4j.core.metadata.MetadataLocation;
import io.te4j.core.metadata.SegmentResolver;
import io.te4j.core.rpc.RpcClient;
import io.te4j.core.rpc.RpcHandler;
import io.te4j.core.rpc.RpcServer;
import io.te4j.core.topology.TopologyDiscovery;
import io.te4j.core.transfer.Batch;
import io.te4j.core.transfer.BatchTable;
import io.te4j.core.transfer.TransferMetrics;
import io.te4j.nativelib.NativeMemory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transfer engine, idiomatic face: typed handles, exceptions carrying an {@link ErrorCode},
 * futures for asynchronous work. {@link TransferEngine} is the reference-compatible face over it.
 *
 * <p>Threading: every method is safe to call from many threads at once. Transfers run on the
 * transports' threads; handshake frames on the RPC server's threads. {@link #close()} fails
 * in-flight transfers promptly and frees everything the engine owns.
 */
public final class Engine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
  /** How long past a batch's deadline the engine waits for its transport before giving up on it. */
  private static final long DEADLINE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final String CPU = "cpu:0";
  private static final long MANAGED_ARENA_BYTES = 64L << 20;
  /** {@code false} makes managed arenas anonymous memory instead of memory files. */
  public static final String SHAREABLE_MEMORY = "te4j.memory.shareable";

  private final EngineConfig config;
  private final Map<String, TransportProvider> transportProviders;
  private final Map<String, MetadataStoreProvider> storeProviders;

  private final MemoryRegistryImpl registry;
  private final BatchTable batches = new BatchTable();
  private final ConcurrentLinkedQueue<TransferNotify> notifies = new ConcurrentLinkedQueue<>();
  private final Map<Long, BufferDescriptor> publishedBuffers = new LinkedHashMap<>();
  private final Map<String, Transport> transports = new LinkedHashMap<>();
  /** Who serves the handshake frames the engine does not answer itself (type 0). */
  private final Map<Integer, FrameHandler> frameHandlers =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  private RpcServer rpcServer;
  private RpcClient rpcClient;
  private MetadataStore store;
  private MetadataKeys keys;
  private SegmentResolver resolver;
  private ManagedMemory managed;
  private Topology topology;
  private String segmentName;
  private String primaryProtocol;
  private ScheduledExecutorService metricsReporter;
  private volatile SegmentDescriptor localDescriptor;
  private volatile SegmentDescriptor.Builder descriptorTemplate;
  private volatile boolean closed;

  @Inject
  Engine(EngineConfig config, Map<String, TransportProvider> transportProviders,
      Map<String, MetadataStoreProvider> storeProviders) {
    this.config = config;
    this.transportProviders = transportProviders;
    this.storeProviders = storeProviders;
    this.registry = new MemoryRegistryImpl(new MemoryRegistryImpl.Listener() {
      @Override
      public void added(RegisteredRegion r) {
        regionAdded(r);
      }

      @Override
      public void removed(RegisteredRegion r) {
        regionRemoved(r);
      }
    });
  }

  /** A builder for an engine's configuration; {@link Builder#start()} starts the engine. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts an engine: wires it with Guice from the providers on the class path, opens its handshake
   * port and transports, connects to the metadata store and publishes its descriptor.
   *
   * @throws TransferException when any of that fails; nothing is left open
   */
  public static Engine start(EngineConfig config) {
    Engine e = Guice.createInjector(new EngineModule(config)).getInstance(Engine.class);
    try {
      e.open();
      return e;
    } catch (RuntimeException ex) {
      e.close();
      throw ex;
    }
  }

  private void open() {
    rpcClient = new RpcClient(Duration.ofSeconds(5), config.transferTimeout(),
        config.handshakeMaxLength());
    int min = config.minPort();
    int max = config.maxPort();
    if (config.legacyRpcPortBinding() && config.localHostnamePort() > 0) {
      min = max = config.localHostnamePort();
    }
    rpcServer = RpcServer.start(new Handshakes(), config.bindAddress(), min, max,
        config.handshakeMaxLength(), Duration.ofSeconds(10), threads("rpc"));
    closeables.add(rpcServer);
    segmentName = config.isP2p() ? new HostPort(config.localHost(), rpcServer.port()).toString()
        : config.localHostname();
    keys = MetadataKeys.forCluster(config.clusterId());
    topology = new TopologyDiscovery().discover(config.customTopologyPath(), config.deviceNames());

    startTransports();
    store = openStore();
    closeables.add(store);
    HostPort rpcAddress = new HostPort(config.localHost(), rpcServer.port());
    resolver = new SegmentResolver(store, keys, segmentName, () -> localDescriptor, rpcAddress);
    closeables.add(store.watch(keys.prefix(), resolver::keyChanged));
    // rpc_meta first: a store that refuses a taken name (the reference's HTTP server does) stops
    // us before we overwrite the holder's descriptor.
    store.put(keys.rpcMetaKey(segmentName), JsonCodec.rpcMetaToJson(rpcAddress));
    publishDescriptor();
    // Managed arenas are memory files unless turned off: same-host peers then map them.
    managed = new ManagedMemory(registry, MANAGED_ARENA_BYTES,
        !"false".equalsIgnoreCase(config.settings().get(SHAREABLE_MEMORY)));
    if (config.metricsEnabled()) {
      startMetricsReporter();
    }
    LOG.info("engine {} started: protocol {}, rpc port {}, metadata {}", segmentName,
        primaryProtocol, rpcServer.port(), config.metadataServer());
  }

  /** A provider the engine was not asked for by name: started when available and configured. */
  private boolean startable(TransportProvider p, TransportContext ctx) {
    Throwable cause = p.availability().unavailabilityCause(config.settings());
    if (cause != null) {
      LOG.info("transport {} not started: {}", p.name(), cause.getMessage());
      return false;
    }
    if (!p.isConfigured(ctx)) {
      LOG.info("transport {} not started: not configured", p.name());
      return false;
    }
    return true;
  }

  private void startTransports() {
    String wanted = config.protocol();
    TransportContext ctx = new EngineTransportContext();
    List<TransportProvider> chosen = new ArrayList<>();
    if (wanted.equals("auto")) {
      for (TransportProvider p : new java.util.LinkedHashSet<>(transportProviders.values())) {
        if (startable(p, ctx)) {
          chosen.add(p);
        }
      }
      if (chosen.isEmpty()) {
        throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE,
            "protocol auto: no available transport among " + transportProviders.keySet());
      }
    } else {
      // "tcp,nvmeof": several transports, the first one is the primary (the descriptor's protocol).
      for (String name : wanted.split(",")) {
        TransportProvider p = transportProvider(name.trim());
        if (!chosen.contains(p)) {
          chosen.add(p);
        }
      }
    }
    for (TransportProvider p : new java.util.LinkedHashSet<>(transportProviders.values())) {
      if (p.startsAlongside() && !chosen.contains(p) && startable(p, ctx)) {
        chosen.add(p);
      }
    }
    primaryProtocol = chosen.get(0).name();
    SegmentDescriptor.Builder b = SegmentDescriptor.builder(segmentName, primaryProtocol);
    for (TransportProvider p : chosen) {
      ensureAvailable("transport " + p.name(), p.availability());
      Transport t = p.create(ctx);
      closeables.add(t);
      try {
        t.start(b);
      } catch (java.io.IOException ex) {
        throw new TransferException(ErrorCode.ENDPOINT, "transport " + p.name() + " failed to start",
            ex);
      }
      transports.put(p.name(), t);
    }
    descriptorTemplate = b;
  }

  /** The provider named {@code name}; an unknown name fails listing the known ones. */
  private TransportProvider transportProvider(String name) {
    TransportProvider p = transportProviders.get(name);
    if (p == null) {
      throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE,
          "unknown protocol '" + name + "'; installed transports: " + transportProviders.keySet());
    }
    return p;
  }

  private MetadataStore openStore() {
    MetadataLocation loc = MetadataLocation.parse(config.metadataServer());
    MetadataStoreProvider p = storeProviders.get(loc.scheme());
    if (p == null) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "no metadata store for scheme '" + loc.scheme() + "' (" + config.metadataServer()
              + "); installed: " + storeProviders.keySet());
    }
    ensureAvailable("metadata store " + p.scheme(), p.availability());
    return p.create(loc.location(), new EngineStoreContext());
  }

  /** TRANSPORT_UNAVAILABLE with the cause when the provider cannot work for this engine. */
  private void ensureAvailable(String what, io.te4j.api.spi.Availability availability) {
    Throwable cause = availability.unavailabilityCause(config.settings());
    if (cause != null) {
      throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE,
          what + " is unavailable: " + cause.getMessage(), cause);
    }
  }

  private ThreadFactory threads(String role) {
    String name = segmentName == null ? config.localHost() : segmentName;
    return EngineThreads.factory(name, role);
  }

  // ---------------------------------------------------------------- descriptor

  private synchronized void regionAdded(RegisteredRegion r) {
    if (!r.remoteAccessible()) {
      return;
    }
    BufferDescriptor d = BufferDescriptor.of(r.location(), r.address(), r.length());
    for (Transport t : transports.values()) {
      d = t.describe(r, d);
    }
    publishedBuffers.put(r.address(), d);
    try {
      publishDescriptor();
    } catch (RuntimeException e) {
      // The registry rolls the region back: so does the descriptor.
      publishedBuffers.remove(r.address());
      localDescriptor = buildDescriptor();
      throw e;
    }
  }

  private synchronized void regionRemoved(RegisteredRegion r) {
    for (Transport t : transports.values()) {
      t.unregistered(r);
    }
    if (publishedBuffers.remove(r.address()) != null) {
      publishDescriptor();
    }
  }

  private synchronized void publishDescriptor() {
    if (descriptorTemplate == null) {
      return;
    }
    SegmentDescriptor d = buildDescriptor();
    localDescriptor = d;
    if (store != null && !closed) {
      store.put(keys.segmentKey(segmentName), JsonCodec.descriptorToJson(d));
    }
  }

  private synchronized SegmentDescriptor buildDescriptor() {
    return descriptorTemplate.buffers(new ArrayList<>(publishedBuffers.values()))
        .timestamp(JsonCodec.timestampNow()).build();
  }

  // ---------------------------------------------------------------- identity

  /** The name peers use for this engine's segment ({@code host:rpcPort} in P2P mode). */
  public String segmentName() {
    return segmentName;
  }

  /** The handshake (RPC) port. */
  public int rpcPort() {
    return rpcServer.port();
  }

  public EngineConfig config() {
    return config;
  }

  /** What this engine publishes now. */
  public SegmentDescriptor localDescriptor() {
    return localDescriptor;
  }

  /** Names of the transports this engine runs, the primary one first. */
  public Set<String> transportNames() {
    return java.util.Collections.unmodifiableSet(transports.keySet());
  }

  /**
   * The running transport of that name, or null: cast it to its class for what it tells of
   * itself (which path its copies took, for instance).
   */
  public Transport transport(String name) {
    return transports.get(name);
  }

  /** Counters of moved bytes and slices. */
  public TransferMetrics metrics() {
    return batches.metrics();
  }

  /** The engine's registered memory. */
  public MemoryRegistry memory() {
    return registry;
  }

  // ---------------------------------------------------------------- memory

  /** Registers CPU memory peers may read and write. */
  public RegisteredMemory register(long address, long length) {
    return register(address, length, CPU, true);
  }

  /**
   * Registers memory.
   *
   * @param location {@code cpu:0}, {@code cuda:0}, ...
   * @param remoteAccessible false for memory only this engine may use as a source or destination
   * @throws TransferException INVALID_ARGUMENT (zero length, bad address), ADDRESS_OVERLAPPED
   */
  public RegisteredMemory register(long address, long length, String location,
      boolean remoteAccessible) {
    ensureOpen();
    RegisteredRegion r = registry.register(address, length, location, remoteAccessible);
    return new RegisteredMemory(this, r.address(), r.length());
  }

  /** Registers a direct buffer's memory, remote-accessible; the engine keeps the buffer alive. */
  public RegisteredMemory register(ByteBuffer direct) {
    ensureOpen();
    RegisteredRegion r = registry.register(direct, CPU, true);
    return new RegisteredMemory(this, r.address(), r.length());
  }

  /**
   * Registers several ranges, all or nothing: when one fails, those this call registered are
   * unregistered again and the error propagates.
   */
  public List<RegisteredMemory> registerAll(List<MemoryRegistryImpl.RegionSpec> specs) {
    ensureOpen();
    List<RegisteredMemory> out = new ArrayList<>();
    for (RegisteredRegion r : registry.registerAll(specs)) {
      out.add(new RegisteredMemory(this, r.address(), r.length()));
    }
    return out;
  }

  /**
   * Unregisters the region starting at {@code address}.
   *
   * @throws TransferException ADDRESS_NOT_REGISTERED when no region starts there
   */
  public void unregister(long address) {
    refuseManaged(address);
    registry.unregister(address);
  }

  /** Unregisters several regions, all or nothing. */
  public void unregisterAll(List<Long> addresses) {
    addresses.forEach(this::refuseManaged);
    registry.unregisterAll(addresses);
  }

  /** Managed arenas belong to the allocator: unregistering one would pull memory from under it. */
  private void refuseManaged(long address) {
    for (RegisteredRegion r : registry.registeredRegions()) {
      if (r.address() == address && r.owner() == managed) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT, "0x" + Long.toHexString(address)
            + " is a managed arena; free its buffers with freeManagedBuffer instead");
      }
    }
  }

  /**
   * A registered buffer from the engine's buddy allocator.
   *
   * @throws TransferException MEMORY when it cannot be allocated
   */
  public ManagedBuffer allocate(long length) {
    long address = allocateManaged(length);
    if (address == 0) {
      throw new TransferException(ErrorCode.MEMORY, "cannot allocate " + length + " bytes");
    }
    return new ManagedBuffer(this, address, length);
  }

  /** Address of a new managed buffer, or 0 on failure. */
  long allocateManaged(long length) {
    ensureOpen();
    return managed.allocate(length);
  }

  /** 0, or a negative {@link ErrorCode} code for an unknown address, wrong length or double free. */
  int freeManaged(long address, long length) {
    if (closed) {
      return ErrorCode.ENGINE_CLOSED.code();
    }
    return managed.free(address, length);
  }

  /**
   * Copies bytes into registered local memory.
   *
   * @throws TransferException ADDRESS_NOT_REGISTERED when the range is not inside one region
   */
  public void write(long address, byte[] src, int offset, int length) {
    java.util.Objects.checkFromIndexSize(offset, length, src.length);
    checkLocal(address, length);
    NativeMemory.write(address, src, offset, length);
  }

  /** Copies bytes out of registered local memory. */
  public byte[] read(long address, int length) {
    if (length < 0) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "negative length " + length);
    }
    checkLocal(address, length);
    byte[] out = new byte[length];
    NativeMemory.read(address, out, 0, length);
    return out;
  }

  private void checkLocal(long address, long length) {
    ensureOpen();
    if (registry.find(address, length) == null) {
      throw new TransferException(ErrorCode.ADDRESS_NOT_REGISTERED, "0x"
          + Long.toHexString(address) + "+" + length + " is not inside memory this engine registered");
    }
  }

  // ---------------------------------------------------------------- transfers

  /**
   * Submits a batch of requests to one target and returns at once.
   *
   * @param transportHint a transport name to use when installed and able to reach the target, or
   *     empty for the engine's choice
   * @throws TransferException before anything is sent: ADDRESS_NOT_REGISTERED, METADATA (unknown
   *     target), TRANSPORT_UNAVAILABLE, INVALID_ARGUMENT
   */
  public Batch submit(String target, List<TransferRequest> requests, String transportHint) {
    ensureOpen();
    if (target == null || target.isBlank()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "empty target segment name");
    }
    SegmentDescriptor desc = resolver.resolve(target);
    Transport t = selectTransport(desc, transportHint);
    return batches.submit(target, desc, t, requests, registry,
        config.transferTimeout().toNanos(), this::sliceFailed);
  }

  /** Submits and returns a future that completes when the batch succeeded, or exceptionally. */
  public java.util.concurrent.CompletableFuture<Void> transfer(String target,
      List<TransferRequest> requests) {
    Batch b = submit(target, requests, "");
    return b.future().thenApply(s -> {
      batches.remove(b.id());
      TransferException f = b.failure();
      if (f != null) {
        throw f;
      }
      return null;
    });
  }

  /**
   * Submits a batch and waits for it. When it failed because the peer could not be connected to
   * and the peer now publishes another descriptor (it restarted, on another data port), the batch
   * is submitted once more against the new descriptor: a restarted peer costs no failure.
   *
   * @return the finished batch, already removed from the table
   */
  public Batch submitAndWait(String target, List<TransferRequest> requests, String transportHint) {
    Batch b = submit(target, requests, transportHint);
    await(b);
    dropBatch(b.id());
    if (b.state() != TransferState.FAILED || b.errorCode() != ErrorCode.SOCKET_FAIL) {
      return b;
    }
    SegmentDescriptor fresh;
    try {
      fresh = resolver.refresh(target);
    } catch (TransferException e) {
      return b; // still unreachable: the first failure stands
    }
    if (fresh.equals(b.descriptor())) {
      return b;
    }
    LOG.info("segment {} republished its descriptor; retrying once", target);
    Batch retry = submit(target, requests, transportHint);
    await(retry);
    dropBatch(retry.id());
    return retry;
  }

  /**
   * Waits until the batch ends, at most until its deadline plus a grace second; a batch still
   * running then is ended as TIMEOUT.
   */
  public TransferState await(Batch b) {
    long wait = b.deadlineNanos() + DEADLINE_GRACE_NANOS - System.nanoTime();
    try {
      b.future().get(Math.max(0, wait), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      b.abort(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "no result before the deadline");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransferException(ErrorCode.TRANSFER_FAILED, "interrupted while waiting", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("batch futures never fail", e);
    }
    return b.state();
  }

  /** The batch's state now; a batch past its deadline and grace is ended as TIMEOUT. */
  public TransferState poll(Batch b) {
    TransferState s = b.state();
    if (s == TransferState.PENDING
        && System.nanoTime() - (b.deadlineNanos() + DEADLINE_GRACE_NANOS) > 0) {
      b.abort(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "no result before the deadline");
      s = b.state();
    }
    return s;
  }

  /** The batch with this id, or null when the id is unknown or was freed. */
  public Batch batch(long id) {
    return batches.get(id);
  }

  /**
   * Forgets a finished batch.
   *
   * @throws TransferException INVALID_BATCH_ID, BATCH_BUSY
   */
  public void freeBatch(long id) {
    batches.free(id);
  }

  /** Forgets a batch whatever its state. */
  void dropBatch(long id) {
    batches.remove(id);
  }

  private Transport selectTransport(SegmentDescriptor target, String hint) {
    if (hint != null && !hint.isEmpty()) {
      Transport t = transports.get(hint.toLowerCase(java.util.Locale.ROOT));
      if (t != null && t.canReach(target)) {
        return t;
      }
      LOG.debug("transport hint '{}' not usable for {}; choosing by descriptor", hint,
          target.name());
    }
    for (Transport preferred : transports.values()) {
      if (preferred.prefers(target) && preferred.canReach(target)) {
        return preferred;
      }
    }
    Transport t = transports.get(target.protocol());
    if (t != null && t.canReach(target)) {
      return t;
    }
    for (Transport other : transports.values()) {
      if (other.canReach(target)) {
        return other;
      }
    }
    throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE, "no transport of "
        + transports.keySet() + " can reach segment '" + target.name() + "' (protocol "
        + target.protocol() + ")");
  }

  private void sliceFailed(Batch batch, TransferState state, ErrorCode code) {
    // The peer may have restarted with another port or other memory: look it up afresh next time.
    resolver.invalidate(batch.target());
  }

  // ---------------------------------------------------------------- notify, probe, topology

  /**
   * Sends a notification to the engine owning {@code target}; it lands in that engine's {@link
   * #drainNotifies()}.
   *
   * @throws TransferException SOCKET_FAIL, TRANSFER_TIMEOUT, REJECT_HANDSHAKE, METADATA
   */
  public void notify(String target, TransferNotify notify) {
    ensureOpen();
    HostPort hp = resolver.rpcAddress(target);
    String reply = rpcClient.call(hp.host(), hp.port(), PeerRpc.NOTIFY,
        JsonCodec.notifyToJson(notify));
    if (!"success".equals(JsonCodec.notifyFromJson(reply).msg())) {
      throw new TransferException(ErrorCode.REJECT_HANDSHAKE, "notify to " + target
          + " was not acknowledged: " + reply);
    }
  }

  /** Takes every notification received so far. */
  public List<TransferNotify> drainNotifies() {
    List<TransferNotify> out = new ArrayList<>();
    for (TransferNotify n; (n = notifies.poll()) != null; ) {
      out.add(n);
    }
    return out;
  }

  /**
   * Sends a probe frame to a peer's handshake port.
   *
   * @return true when it answered {@code success} in time
   */
  public boolean probe(String peer) {
    ensureOpen();
    try {
      HostPort hp = resolver.rpcAddress(peer);
      String reply = rpcClient.call(hp.host(), hp.port(), PeerRpc.PROBE, "{}");
      return reply.contains("\"success\"");
    } catch (TransferException e) {
      LOG.debug("probe of {} failed: {}", peer, e.getMessage());
      resolver.invalidate(peer);
      return false;
    }
  }

  /**
   * Publishes a segment this engine does not serve from its own memory, such as an NVMe-oF file
   * segment ({@code nvmeof/<name>}, stored at {@code mooncake/nvmeof/<name>}). It is removed when
   * the engine closes, or by {@link #removeSegment}.
   */
  public void publishSegment(SegmentDescriptor descriptor) {
    ensureOpen();
    if (descriptor.name().equals(segmentName)) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          "the engine's own segment is published by the engine");
    }
    store.put(keys.segmentKey(descriptor.name()), JsonCodec.descriptorToJson(descriptor));
    resolver.invalidate(descriptor.name());
  }

  /**
   * Publishes a segment only when no segment of that name exists, atomically where the store can
   * compare and set (etcd, ZooKeeper, P2P); with a store that cannot (HTTP), it looks first and
   * publishes after, so two engines racing for one name may both succeed there.
   *
   * @return false when the name is taken (nothing changed)
   */
  public boolean publishNewSegment(SegmentDescriptor descriptor) {
    ensureOpen();
    if (descriptor.name().equals(segmentName)) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          "the engine's own segment is published by the engine");
    }
    String key = keys.segmentKey(descriptor.name());
    String json = JsonCodec.descriptorToJson(descriptor);
    boolean published;
    try {
      published = store.compareAndSet(key, null, json);
    } catch (TransferException e) {
      if (e.errorCode() != ErrorCode.NOT_IMPLEMENTED) {
        throw e;
      }
      published = store.get(key).isEmpty();
      if (published) {
        store.put(key, json);
      }
    }
    resolver.invalidate(descriptor.name());
    return published;
  }

  /**
   * The segments whose names start with {@code namePrefix} ({@code nvmeof/} for every file
   * segment), as the store holds them now, by name. Entries that are not readable descriptors are
   * left out (and logged).
   *
   * @throws TransferException NOT_IMPLEMENTED when the store cannot list keys, METADATA when it
   *     cannot be reached
   */
  public java.util.SortedMap<String, SegmentDescriptor> segments(String namePrefix) {
    ensureOpen();
    java.util.SortedMap<String, SegmentDescriptor> out = new java.util.TreeMap<>();
    store.list(keys.segmentKey(namePrefix)).forEach((key, json) -> {
      String name = keys.segmentNameOfAnyKey(key);
      if (name == null) {
        return;
      }
      try {
        out.put(name, JsonCodec.descriptorFromJson(json, name));
      } catch (TransferException e) {
        LOG.warn("segment '{}' in the store is not a descriptor: {}", name, e.getMessage());
      }
    });
    return out;
  }

  /**
   * The segment of that name as the store holds it now (the cache is bypassed), or empty when the
   * store has none.
   *
   * @throws TransferException METADATA when the store cannot be reached, MALFORMED_JSON when what
   *     it holds is not a descriptor
   */
  public java.util.Optional<SegmentDescriptor> findSegment(String name) {
    ensureOpen();
    return store.get(keys.segmentKey(name)).map(json -> JsonCodec.descriptorFromJson(json, name));
  }

  /** The compact JSON a store holds for {@code descriptor} (WIRE.md section 2). */
  public static String descriptorJson(SegmentDescriptor descriptor) {
    return JsonCodec.descriptorToJson(descriptor);
  }

  /** Removes a segment published with {@link #publishSegment}. */
  public void removeSegment(String name) {
    ensureOpen();
    store.remove(keys.segmentKey(name));
    resolver.invalidate(name);
  }

  /** The descriptor of a segment looked up afresh, bypassing (and refreshing) the cache. */
  public SegmentDescriptor refreshSegment(String name) {
    ensureOpen();
    return resolver.refresh(name);
  }

  /** The descriptor of a segment (this engine's own included). */
  public SegmentDescriptor segment(String name) {
    ensureOpen();
    return resolver.resolve(name);
  }

  /** The local topology the engine discovered (or read from MC_CUSTOM_TOPO_JSON). */
  public Topology localTopology() {
    return topology;
  }

  /** The names of the features whose transports are installed and available. */
  public static Set<String> features() {
    Set<String> out = new TreeSet<>();
    io.te4j.core.inject.ProviderRegistry.transports(Engine.class.getClassLoader())
        .forEach((name, p) -> {
          if (p.availability().isAvailable()) {
            out.add(name);
          }
        });
    return out;
  }

  // ---------------------------------------------------------------- lifecycle

  private void ensureOpen() {
    if (closed || resolver == null) {
      throw new TransferException(ErrorCode.ENGINE_CLOSED, "engine is closed or not started");
    }
  }

  /** True after {@link #close()}. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Fails in-flight transfers, closes transports, the handshake port and the store (removing what
   * this engine published), and frees managed memory. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (metricsReporter != null) {
      metricsReporter.shutdownNow();
    }
    if (store != null && segmentName != null) {
      quietly(() -> store.remove(keys.segmentKey(segmentName)));
      quietly(() -> store.remove(keys.rpcMetaKey(segmentName)));
    }
    for (int i = closeables.size() - 1; i >= 0; i--) {
      AutoCloseable c = closeables.get(i);
      quietly(c::close);
    }
    batches.abortAll(TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "engine closed");
    if (managed != null) {
      quietly(managed::close);
    }
    LOG.info("engine {} closed", segmentName);
  }

  private interface Action {
    void run() throws Exception;
  }

  private static void quietly(Action a) {
    try {
      a.run();
    } catch (Exception e) {
      LOG.warn("while closing: {}", e.toString());
    }
  }

  private void startMetricsReporter() {
    metricsReporter = Executors.newSingleThreadScheduledExecutor(threads("metrics"));
    long every = config.metricsInterval().toSeconds();
    long[] last = {0};
    metricsReporter.scheduleAtFixedRate(() -> {
      long bytes = metrics().bytes();
      LOG.info("te4j {}: {} MB/s over {} s, {} slices done, {} failed", segmentName,
          (bytes - last[0]) / 1e6 / every, every, metrics().completedSlices(),
          metrics().failedSlices());
      last[0] = bytes;
    }, every, every, TimeUnit.SECONDS);
  }

  // ---------------------------------------------------------------- contexts

  private final class Handshakes implements RpcHandler {
    @Override
    public String localDescriptorJson() {
      SegmentDescriptor d = localDescriptor;
      return d == null ? "{}" : JsonCodec.descriptorToJson(d);
    }

    @Override
    public void onNotify(TransferNotify notify) {
      notifies.add(notify);
    }

    @Override
    public String onOtherFrame(int type, String body, String peer) {
      FrameHandler h = frameHandlers.get(type);
      return h == null ? null : h.handle(body, peer);
    }
  }

  private final class EngineTransportContext implements TransportContext {
    @Override
    public String localSegmentName() {
      return segmentName;
    }

    @Override
    public String localHost() {
      return config.localHost();
    }

    @Override
    public String bindAddress() {
      return config.bindAddress();
    }

    @Override
    public int minPort() {
      return config.minPort();
    }

    @Override
    public int maxPort() {
      return config.maxPort();
    }

    @Override
    public MemoryRegistry memory() {
      return registry;
    }

    @Override
    public long transferTimeoutNanos() {
      return config.transferTimeout().toNanos();
    }

    @Override
    public String setting(String name) {
      return config.settings().get(name);
    }

    @Override
    public ThreadFactory threadFactory(String role) {
      return threads(role);
    }

    @Override
    public PeerRpc rpc() {
      return rpcClient;
    }

    @Override
    public HostPort peerRpcAddress(String segment) {
      return resolver.rpcAddress(segment);
    }

    @Override
    public AutoCloseable serveFrames(int frameType, FrameHandler handler) {
      java.util.Objects.requireNonNull(handler, "handler");
      if (frameType != PeerRpc.CONNECTION) {
        throw new IllegalArgumentException("frame type " + frameType + " is "
            + (frameType >= 1 && frameType <= 3 ? "answered by the engine" : "not in 0..3"));
      }
      if (frameHandlers.putIfAbsent(frameType, handler) != null) {
        throw new IllegalStateException("another transport serves frame type " + frameType);
      }
      AutoCloseable registration = () -> frameHandlers.remove(frameType, handler);
      closeables.add(registration);
      return registration;
    }
  }

  private final class EngineStoreContext implements MetadataStoreContext {
    @Override
    public String localSegmentName() {
      return segmentName;
    }

    @Override
    public PeerRpc rpc() {
      return rpcClient;
    }

    @Override
    public long operationTimeoutNanos() {
      return Math.min(config.transferTimeout().toNanos(), TimeUnit.SECONDS.toNanos(10));
    }

    @Override
    public String setting(String name) {
      return config.settings().get(name);
    }

    @Override
    public ThreadFactory threadFactory(String role) {
      return threads(role);
    }
  }

  /** Configuration builder that starts an engine. */
  public static final class Builder {
    private final EngineConfig.Builder config = EngineConfig.builder();

    private Builder() {}

    public Builder localHostname(String v) {
      config.localHostname(v);
      return this;
    }

    public Builder metadataServer(String v) {
      config.metadataServer(v);
      return this;
    }

    public Builder protocol(String v) {
      config.protocol(v);
      return this;
    }

    public Builder deviceNames(String v) {
      config.deviceNames(v);
      return this;
    }

    public Builder transferTimeout(Duration v) {
      config.transferTimeout(v);
      return this;
    }

    public Builder setting(String name, String value) {
      config.setting(name, value);
      return this;
    }

    /** Concludes the configuration and starts the engine. */
    public Engine start() {
      return Engine.start(config.build());
    }
  }
}
