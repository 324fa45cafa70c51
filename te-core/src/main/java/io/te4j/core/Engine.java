package io.te4j.core;

import com.google.inject.Guice;
import com.google.inject.Inject;
import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.MetadataKeys;
import io.te4j.api.PeerAccess;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.Topology;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportProvider;
import io.te4j.core.config.EngineConfig;
import io.te4j.core.config.SettingsCatalog;
import io.te4j.core.inject.EngineModule;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.memory.MemoryRegistryImpl;
import io.te4j.core.metadata.MetadataLocation;
import io.te4j.core.rpc.RpcClient;
import io.te4j.core.rpc.RpcServer;
import io.te4j.core.topology.TopologyDiscovery;
import io.te4j.core.transfer.Batch;
import io.te4j.core.observe.Observers;
import io.te4j.core.observe.Subscription;
import io.te4j.core.observe.TransferObserver;
import io.te4j.core.transfer.TransferMetrics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transfer engine, idiomatic face: typed handles, exceptions carrying an {@link ErrorCode},
 * futures for asynchronous work. {@link TransferEngine} is the reference-compatible face over it.
 *
 * <p>This class is the engine's life cycle and its public API; each concept lives in a class of
 * its own: {@link Registrations} (memory and the published descriptor), {@link Transfers}
 * (batches), {@link PeerMessages} (notify, probe, handshake frames), {@link Segments} (metadata),
 * {@link Transports} (which transports run and which one carries a batch).
 *
 * <p>Threading: every method is safe to call from many threads at once. Transfers run on the
 * transports' threads; handshake frames on the RPC server's threads. {@link #close()} fails
 * in-flight transfers promptly and frees everything the engine owns.
 */
public final class Engine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
  /**
   * The periodic throughput lines of MC_TE_METRIC: a logger of their own, so an application (and
   * the CLI, which logs warnings only) can let them through without the engine's other INFO lines.
   */
  private static final Logger METRICS = LoggerFactory.getLogger("io.te4j.metrics");
  /** {@code false} makes managed arenas anonymous memory instead of memory files. */
  public static final String SHAREABLE_MEMORY = EngineConfig.SHAREABLE_MEMORY;

  private final EngineConfig config;
  private final Map<String, TransportProvider> transportProviders;
  private final Map<String, MetadataStoreProvider> storeProviders;
  private final Registrations registrations = new Registrations();
  private final Transports transports = new Transports();
  private final Transfers transfers;
  private final PeerMessages messages;
  private final RpcClient rpcClient;

  private RpcServer rpcServer;
  private Segments segments;
  private Topology topology;
  private String segmentName;
  private ScheduledExecutorService metricsReporter;
  private volatile boolean open;
  private volatile boolean closed;
  private final Observers observers = new Observers();

  @Inject
  Engine(EngineConfig config, Map<String, TransportProvider> transportProviders,
      Map<String, MetadataStoreProvider> storeProviders) {
    this.config = config;
    this.transportProviders = transportProviders;
    this.storeProviders = storeProviders;
    this.transfers = new Transfers(config.transferTimeout().toNanos(),
        registrations.registry(), observers);
    this.rpcClient = new RpcClient(config.handshakeConnectTimeout(), config.transferTimeout(),
        config.handshakeMaxLength(), config.peerAuth());
    this.messages = new PeerMessages(rpcClient, config.notifyMaxQueued(),
        config.notifyMaxQueuedBytes());
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
    LoggingCheck.atStart();
    // Every declared setting is checked before anything opens; unknown te4j.* keys are named.
    for (String unknown : SettingsCatalog.of(transportProviders.values(), storeProviders.values())
        .check(config.settings())) {
      LOG.warn("{}", unknown);
    }
    int min = config.minPort();
    int max = config.maxPort();
    if (config.legacyRpcPortBinding() && config.localHostnamePort() > 0) {
      min = max = config.localHostnamePort();
    }
    rpcServer = RpcServer.start(messages, config.peerAuth(), config.bindAddress(), min, max,
        config.handshakeMaxLength(), Duration.ofSeconds(10), threads("rpc"));
    segmentName = config.isP2p() ? new HostPort(config.localHost(), rpcServer.port()).toString()
        : config.localHostname();
    topology = new TopologyDiscovery().discover(config.customTopologyPath(), config.deviceNames());
    HostPort rpcAddress = new HostPort(config.localHost(), rpcServer.port());
    segments = new Segments(openStore(), MetadataKeys.forCluster(config.clusterId()), segmentName,
        rpcAddress, transports::forget, observers);
    SegmentDescriptor.Builder template = transports.start(config, transportProviders,
        segmentName, slot -> new EngineTransportContext(config, segmentName,
            registrations.registry(), rpcClient, segments::rpcAddress, transports, this::threads,
            slot, topology, registrations));
    messages.open(segments, transports);
    transfers.open(transports, segments);
    segments.publishRpcAddress();
    registrations.open(transports, segments, template, config.shareableMemory());
    if (config.metricsEnabled()) {
      startMetricsReporter();
    }
    open = true;
    LOG.info("engine {} started: protocol {}, rpc port {}, metadata {}, peer authentication {}",
        segmentName, transports.primary(), rpcServer.port(), config.metadataServer(),
        config.peerAuth().enabled() ? "on (cluster secret)" : "off");
  }

  private MetadataStore openStore() {
    MetadataLocation loc = MetadataLocation.parse(config.metadataServer());
    MetadataStoreProvider p = storeProviders.get(loc.scheme());
    if (p == null) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "no metadata store for scheme '" + loc.scheme() + "' (" + config.metadataServer()
              + "); installed: " + storeProviders.keySet());
    }
    Transports.ensureAvailable("metadata store " + p.scheme(), p.availability(), config);
    return p.create(loc.location(),
        new EngineStoreContext(config, segmentName, rpcClient, this::threads));
  }

  private ThreadFactory threads(String role) {
    String name = segmentName == null ? config.localHost() : segmentName;
    return EngineThreads.factory(name, role);
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
    return segments == null ? null : segments.localDescriptor();
  }

  /** Names of the transports this engine runs, the primary one first. */
  public Set<String> transportNames() {
    return transports.names();
  }

  /**
   * The running transport of that name, or null: cast it to its class for what it tells of
   * itself (which path its copies took, for instance).
   */
  public Transport transport(String name) {
    return transports.get(name);
  }

  /** Counters of moved bytes and slices. */
  /**
   * Tells {@code observer} of every batch that ends and every lookup of a peer from now on (for
   * metrics: te-metrics-micrometer's {@code EngineMetrics} is one).
   *
   * @return closing it removes the observer
   */
  public Subscription addObserver(TransferObserver observer) {
    return observers.add(java.util.Objects.requireNonNull(observer, "observer"));
  }

  public TransferMetrics metrics() {
    return transfers.metrics();
  }

  /** The engine's registered memory. */
  public MemoryRegistry memory() {
    return registrations.registry();
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

  // ---------------------------------------------------------------- memory

  /** Registers CPU memory peers may read and write. */
  public RegisteredMemory register(long address, long length) {
    return register(address, length, "cpu:0", true);
  }

  /**
   * Registers memory.
   *
   * @param location {@code cpu:0}, {@code cuda:0}, ... (its {@link io.te4j.api.MemoryKind kind}
   *     decides which transports can move it)
   * @param remoteAccessible false for memory only this engine may use as a source or destination
   * @throws TransferException INVALID_ARGUMENT (zero length, bad address), ADDRESS_OVERLAPPED, or a
   *     transport's refusal (the registration is then rolled back everywhere)
   */
  public RegisteredMemory register(long address, long length, String location,
      boolean remoteAccessible) {
    return register(address, length, location, PeerAccess.of(remoteAccessible));
  }

  /**
   * Registers memory that peers may only read, only write, both or neither ({@code access}): a
   * peer's other requests are refused by this engine's TCP target (and by the RDMA NIC), and te4j
   * initiators refuse them before sending. The descriptor publishes only remote-accessible
   * memory.
   *
   * @see #register(long, long, String, boolean)
   */
  public RegisteredMemory register(long address, long length, String location,
      PeerAccess access) {
    ensureOpen();
    return registrations.register(this, address, length, location, access);
  }

  /** Registers a direct buffer's memory, remote-accessible; the engine keeps the buffer alive. */
  public RegisteredMemory register(ByteBuffer direct) {
    return register(direct, PeerAccess.READ_WRITE);
  }

  /** Registers a direct buffer's memory with what peers may do; the engine keeps it alive. */
  public RegisteredMemory register(ByteBuffer direct, PeerAccess access) {
    ensureOpen();
    return registrations.register(this, direct, access);
  }

  /**
   * Registers several ranges, all or nothing, and publishes the descriptor once for all of them:
   * when one fails, none is registered and the error propagates.
   */
  public List<RegisteredMemory> registerAll(List<MemoryRegistryImpl.RegionSpec> specs) {
    ensureOpen();
    return registrations.registerAll(this, specs);
  }

  /**
   * Unregisters the region starting at {@code address}.
   *
   * @throws TransferException ADDRESS_NOT_REGISTERED when no region starts there
   */
  public void unregister(long address) {
    registrations.unregister(address);
  }

  /** Unregisters several regions, all or nothing. */
  public void unregisterAll(List<Long> addresses) {
    registrations.unregisterAll(addresses);
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
    return registrations.allocate(length);
  }

  /** 0, or a negative {@link ErrorCode} code for an unknown address, wrong length or double free. */
  int freeManaged(long address, long length) {
    return closed ? ErrorCode.ENGINE_CLOSED.code() : registrations.free(address, length);
  }

  /**
   * Copies bytes into registered local host memory.
   *
   * @throws TransferException ADDRESS_NOT_REGISTERED when the range is not inside one region,
   *     MEMORY_KIND_UNSUPPORTED for device memory
   */
  public void write(long address, byte[] src, int offset, int length) {
    ensureOpen();
    registrations.write(address, src, offset, length);
  }

  /** Copies bytes out of registered local host memory. */
  public byte[] read(long address, int length) {
    ensureOpen();
    return registrations.read(address, length);
  }

  // ---------------------------------------------------------------- transfers

  /**
   * Submits a batch of requests to one target and returns at once. Every problem is reported
   * through the batch, never thrown: a whole-batch failure (closed engine, unknown target, no
   * transport, no requests) leaves it {@link Batch#isRejected() rejected}; an entry whose local
   * range is not registered, whose target range overflows or whose memory the transport cannot move
   * fails alone ({@link Batch#state(int)}, {@link Batch#errorCode(int)}) and the others go.
   *
   * @param transportHint a transport name to use when installed and able to reach the target, or
   *     empty for the engine's choice
   */
  public Batch submit(String target, List<TransferRequest> requests, String transportHint) {
    return transfers.submit(target, requests, transportHint, isOpen());
  }

  /**
   * Submits and returns a future that completes when every entry completed; every failure
   * completes it exceptionally (a {@link TransferException} naming the first failed entry), never
   * a synchronous throw.
   */
  public CompletableFuture<Void> transfer(String target, List<TransferRequest> requests) {
    return transfer(target, requests, "");
  }

  /** {@link #transfer(String, List)} through the transport named {@code transportHint}, if it can. */
  public CompletableFuture<Void> transfer(String target, List<TransferRequest> requests,
      String transportHint) {
    try {
      return transfers.transfer(target, requests, transportHint, isOpen());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Each transfer's deadline, from its submission (MC_TRANSFER_TIMEOUT). */
  long transferTimeoutNanos() {
    return config.transferTimeout().toNanos();
  }

  /**
   * The transport a batch of {@code requests} to {@code target} would go through now.
   *
   * @throws TransferException for an unknown target or when no transport reaches it
   */
  Transport transportFor(String target, List<TransferRequest> requests, String hint) {
    ensureOpen();
    return transfers.transportFor(target, requests, hint);
  }

  /**
   * Submits a batch and waits for it. When it failed because the peer could not be connected to
   * and the peer now publishes another descriptor (it restarted, on another data port), the batch
   * is submitted once more against the new descriptor: a restarted peer costs no failure.
   *
   * @return the finished batch, already removed from the table
   */
  public Batch submitAndWait(String target, List<TransferRequest> requests, String transportHint) {
    return transfers.submitAndWait(target, requests, transportHint, isOpen());
  }

  /**
   * Waits until the batch ends, at most until its deadline plus a grace second; a batch still
   * running then is ended as TIMEOUT. Returns once the batch is also {@linkplain
   * Batch#isQuiescent() quiescent}, so the memory of a failed batch may be reused at once (a
   * transport that holds a slice one transfer timeout beyond that is logged and no longer waited
   * for).
   */
  public TransferState await(Batch b) {
    return transfers.await(b);
  }

  /**
   * The batch's state now; a batch past its deadline and grace is ended as TIMEOUT. A FAILED or
   * TIMEOUT batch may still have slices out: reuse its memory only once {@link #isSettled} says so.
   */
  public TransferState poll(Batch b) {
    return transfers.poll(b);
  }

  /**
   * True when the batch ended and no transport touches its memory any more: it is {@linkplain
   * Batch#isQuiescent() quiescent}, or a transport held a slice one transfer timeout past the
   * batch's deadline and grace, after which the engine stops waiting for it. {@link
   * #freeBatch} refuses a batch until it is settled.
   */
  public boolean isSettled(Batch b) {
    return transfers.settled(b);
  }

  /** The batch with this id, or null when the id is unknown or was freed. */
  public Batch batch(long id) {
    return transfers.batch(id);
  }

  /**
   * Forgets a finished batch.
   *
   * @throws TransferException INVALID_BATCH_ID, BATCH_BUSY while it runs or is not {@linkplain
   *     #isSettled settled}
   */
  public void freeBatch(long id) {
    transfers.free(id);
  }

  /** Forgets a batch whatever its state. */
  void dropBatch(long id) {
    transfers.drop(id);
  }

  // ---------------------------------------------------------------- notify, probe

  /**
   * Sends a notification to the engine owning {@code target}; it lands in that engine's {@link
   * #drainNotifies()}.
   *
   * @throws TransferException SOCKET_FAIL, TRANSFER_TIMEOUT, REJECT_HANDSHAKE, METADATA
   */
  public void notify(String target, TransferNotify notify) {
    ensureOpen();
    messages.notify(target, notify);
  }

  /**
   * Takes every notification received so far. Until drained they are held up to {@code
   * te4j.notify.maxQueued} notifications and {@code te4j.notify.maxQueuedBytes}; a peer's
   * notification beyond either is refused (its sender's {@link #notify} fails) and counted in
   * {@link #refusedNotifies()}.
   */
  public List<TransferNotify> drainNotifies() {
    return messages.drain();
  }

  /** Notifications from peers refused because those received had not been drained. */
  public long refusedNotifies() {
    return messages.refusedCount();
  }

  /**
   * Peers refused because they could not authenticate with the cluster secret, on the handshake
   * port and every transport's data port; 0 when no secret is set.
   */
  public long unauthenticatedPeers() {
    return config.peerAuth().refused();
  }

  /**
   * Sends a probe frame to a peer's handshake port.
   *
   * @return true when it answered {@code success} in time
   */
  public boolean probe(String peer) {
    ensureOpen();
    return messages.probe(peer);
  }

  /**
   * Sends a probe frame to a peer's handshake port and says why it failed: DNS_FAIL (the name does
   * not resolve), SOCKET_FAIL (refused, unreachable, closed without a reply: the message says
   * which), TRANSFER_TIMEOUT (no reply in time), REJECT_HANDSHAKE (not a handshake port, e.g. an
   * HTTP server answered), METADATA (no RPC address published for that name).
   *
   * @throws TransferException when the peer did not answer {@code success} in time
   */
  public void probeOrThrow(String peer) {
    ensureOpen();
    messages.probeOrThrow(peer);
  }

  // ---------------------------------------------------------------- segments

  /**
   * Publishes a segment this engine does not serve from its own memory, such as an NVMe-oF file
   * segment ({@code nvmeof/<name>}, stored at {@code mooncake/nvmeof/<name>}). It is removed when
   * the engine closes, or by {@link #removeSegment}.
   */
  public void publishSegment(SegmentDescriptor descriptor) {
    ensureOpen();
    segments.publish(descriptor);
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
    return segments.publishNew(descriptor);
  }

  /**
   * The segments whose names start with {@code namePrefix} ({@code nvmeof/} for every file
   * segment), as the store holds them now, by name. Entries that are not readable descriptors are
   * left out (and logged).
   *
   * @throws TransferException NOT_IMPLEMENTED when the store cannot list keys, METADATA when it
   *     cannot be reached
   */
  public SortedMap<String, SegmentDescriptor> segments(String namePrefix) {
    ensureOpen();
    return segments.list(namePrefix);
  }

  /**
   * The segment of that name as the store holds it now (the cache is bypassed), or empty when the
   * store has none.
   *
   * @throws TransferException METADATA when the store cannot be reached, MALFORMED_JSON when what
   *     it holds is not a descriptor
   */
  public Optional<SegmentDescriptor> findSegment(String name) {
    ensureOpen();
    return segments.find(name);
  }

  /** Removes a segment published with {@link #publishSegment}. */
  public void removeSegment(String name) {
    ensureOpen();
    segments.remove(name);
  }

  /** The descriptor of a segment looked up afresh, bypassing (and refreshing) the cache. */
  public SegmentDescriptor refreshSegment(String name) {
    ensureOpen();
    return segments.refresh(name);
  }

  /** The descriptor of a segment (this engine's own included). */
  public SegmentDescriptor segment(String name) {
    ensureOpen();
    return segments.resolve(name);
  }

  /** The compact JSON a store holds for {@code descriptor} (WIRE.md section 2). */
  public static String descriptorJson(SegmentDescriptor descriptor) {
    return JsonCodec.descriptorToJson(descriptor);
  }

  // ---------------------------------------------------------------- lifecycle

  private boolean isOpen() {
    return open && !closed;
  }

  private void ensureOpen() {
    if (!isOpen()) {
      throw new TransferException(ErrorCode.ENGINE_CLOSED, "engine is closed or not started");
    }
  }

  /** True after {@link #close()}. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Withdraws what this engine published, fails in-flight transfers, closes transports, frees
   * managed memory, then the store and the handshake port. Idempotent.
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
    if (segments != null) {
      segments.withdraw();
    }
    Closing.quietly(transports::close);
    transfers.abortAll();
    Closing.quietly(registrations::close);
    if (segments != null) {
      segments.close();
    }
    if (rpcServer != null) {
      Closing.quietly(rpcServer::close);
    }
    LOG.info("engine {} closed", segmentName);
  }

  private void startMetricsReporter() {
    metricsReporter = Executors.newSingleThreadScheduledExecutor(threads("metrics"));
    long every = config.metricsInterval().toSeconds();
    long[] last = {0};
    metricsReporter.scheduleAtFixedRate(() -> {
      long bytes = metrics().bytes();
      METRICS.info("te4j {}: {} MB/s over {} s, {} slices done, {} failed", segmentName,
          (bytes - last[0]) / 1e6 / every, every, metrics().completedSlices(),
          metrics().failedSlices());
      last[0] = bytes;
    }, every, every, TimeUnit.SECONDS);
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

    /** See {@link EngineConfig.Builder#clusterSecret}. */
    public Builder clusterSecret(byte[] secret) {
      config.clusterSecret(secret);
      return this;
    }

    /** Concludes the configuration and starts the engine. */
    public Engine start() {
      return Engine.start(config.build());
    }
  }
}
