package io.te4j.core;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.config.EngineConfig;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.memory.MemoryRegistryImpl;
import io.te4j.core.metadata.MetadataLocation;
import io.te4j.core.topology.TopologyDiscovery;
import io.te4j.core.transfer.Batch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parity face: every operation of the reference's Python {@code TransferEngine}, with the same
 * meaning and return codes, so its examples port line by line. A thin adapter over {@link Engine}
 * (see {@link #getEngine()}): each method translates arguments and turns a {@link
 * TransferException} into its negative {@link ErrorCode} code.
 *
 * <p>Return conventions: 0 (or a positive id/address) for success, a negative {@link ErrorCode}
 * code for failure. {@link #transferCheckStatus} returns 1 done, 0 running, -1 failed, -2 timed
 * out, and {@link ErrorCode#INVALID_BATCH_ID} for an unknown or already finished id.
 * Thread-safe.
 */
public class TransferEngine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TransferEngine.class);

  /** {@link #transferCheckStatus} result: completed. */
  public static final int STATUS_COMPLETED = 1;
  /** {@link #transferCheckStatus} result: still running. */
  public static final int STATUS_RUNNING = 0;
  /** {@link #transferCheckStatus} result: failed. */
  public static final int STATUS_FAILED = -1;
  /** {@link #transferCheckStatus} result: timed out. */
  public static final int STATUS_TIMEOUT = -2;

  private volatile Engine engine;

  /** No I/O until {@link #initialize}. */
  public TransferEngine() {}

  // ---------------------------------------------------------------- features

  /** True when the CUDA transport is installed and its probe found a working driver. */
  public static boolean supportCuda() {
    return supports("nvlink");
  }

  /** True when an EFA transport is installed and available. */
  public static boolean supportEfa() {
    return supports("efa");
  }

  /** True when a HIP transport is installed and available. */
  public static boolean supportHip() {
    return supports("hip");
  }

  /** True when a multi-node NVLink transport is installed and available. */
  public static boolean supportMnnvl() {
    return supports("mnnvl");
  }

  /** True when an intra-node NVLink transport is installed and available. */
  public static boolean supportIntraNvlink() {
    return supports("nvlink_intra");
  }

  /** True when a transport of that name is installed and its probe succeeded. */
  public static boolean supports(String transport) {
    return Engine.features().contains(transport);
  }

  /** Every available transport name. */
  public static Set<String> features() {
    return Engine.features();
  }

  // ---------------------------------------------------------------- initialization

  /**
   * Starts the engine.
   *
   * @param localHostname {@code host[:port]} peers use to reach this engine
   * @param metadataServer {@code P2PHANDSHAKE}, {@code etcd://h:p[,h:p]}, bare {@code h:p} (etcd),
   *     {@code zk://h:p[/root]}, {@code http://h:p/metadata}
   * @param protocol {@code tcp}, {@code rdma}, {@code cxl}, {@code nvmeof}, {@code cuda}, {@code auto}
   * @param deviceName comma-separated device filter, or empty
   * @return 0, or a negative code (already initialized: INVALID_ARGUMENT)
   */
  public int initialize(String localHostname, String metadataServer, String protocol,
      String deviceName) {
    return start(EngineConfig.builder().localHostname(localHostname).metadataServer(metadataServer)
        .protocol(protocol).deviceNames(deviceName));
  }

  /** {@link #initialize} where a server without a scheme is taken to be of {@code metadataType}. */
  public int initializeExt(String localHostname, String metadataServer, String protocol,
      String deviceName, String metadataType) {
    return initialize(localHostname, MetadataLocation.withType(metadataServer, metadataType),
        protocol, deviceName);
  }

  /** Starts with a configuration built by the caller (extra settings, isolation for tests). */
  public synchronized int initialize(EngineConfig.Builder config) {
    return start(config);
  }

  private synchronized int start(EngineConfig.Builder config) {
    if (engine != null) {
      LOG.error("initialize: engine already initialized");
      return ErrorCode.INVALID_ARGUMENT.code();
    }
    try {
      engine = Engine.start(config.build());
      return 0;
    } catch (TransferException e) {
      LOG.error("initialize failed: {}", e.getMessage(), e);
      return e.errorCode().code();
    } catch (RuntimeException e) {
      LOG.error("initialize failed", e);
      return ErrorCode.INVALID_ARGUMENT.code();
    }
  }

  /**
   * The idiomatic engine underneath.
   *
   * @throws TransferException ENGINE_CLOSED before {@link #initialize}
   */
  public Engine getEngine() {
    Engine e = engine;
    if (e == null) {
      throw new TransferException(ErrorCode.ENGINE_CLOSED, "not initialized");
    }
    return e;
  }

  /** The handshake port; the P2P segment name is {@code host:getRpcPort()}. 0 before initialize. */
  public int getRpcPort() {
    Engine e = engine;
    return e == null ? 0 : e.rpcPort();
  }

  // ---------------------------------------------------------------- managed buffers

  /** Address of a registered buffer from the buddy allocator, or 0 on failure. */
  public long allocateManagedBuffer(long length) {
    try {
      return getEngine().allocateManaged(length);
    } catch (TransferException e) {
      return 0;
    }
  }

  /** 0, or a negative code for an unknown address, a wrong length or a double free. */
  public int freeManagedBuffer(long bufferAddress, long length) {
    return call(() -> getEngine().freeManaged(bufferAddress, length));
  }

  /** Address of the first buffer of a segment (this engine's or a peer's), or 0 when none. */
  public long getFirstBufferAddress(String segmentName) {
    try {
      SegmentDescriptor d = getEngine().segment(segmentName);
      List<BufferDescriptor> buffers = d.buffers();
      return buffers.isEmpty() ? 0 : buffers.get(0).address();
    } catch (TransferException e) {
      LOG.warn("getFirstBufferAddress({}): {}", segmentName, e.getMessage());
      return 0;
    }
  }

  // ---------------------------------------------------------------- single transfers

  public int transferSyncWrite(String target, long buffer, long peerAddress, long length) {
    return transferSync(target, buffer, peerAddress, length, TransferOpcode.WRITE, null, "");
  }

  public int transferSyncWrite(String target, long buffer, long peerAddress, long length,
      String transportHint) {
    return transferSync(target, buffer, peerAddress, length, TransferOpcode.WRITE, null,
        transportHint);
  }

  public int transferSyncRead(String target, long buffer, long peerAddress, long length) {
    return transferSync(target, buffer, peerAddress, length, TransferOpcode.READ, null, "");
  }

  public int transferSyncRead(String target, long buffer, long peerAddress, long length,
      String transportHint) {
    return transferSync(target, buffer, peerAddress, length, TransferOpcode.READ, null,
        transportHint);
  }

  public int transferSync(String target, long buffer, long peerAddress, long length,
      TransferOpcode opcode) {
    return transferSync(target, buffer, peerAddress, length, opcode, null, "");
  }

  public int transferSync(String target, long buffer, long peerAddress, long length,
      TransferOpcode opcode, TransferNotify notify) {
    return transferSync(target, buffer, peerAddress, length, opcode, notify, "");
  }

  /**
   * One transfer, waited for; {@code notify} (may be null) reaches the target only after the data
   * is in place there.
   *
   * @return 0, or a negative code (TRANSFER_TIMEOUT after MC_TRANSFER_TIMEOUT)
   */
  public int transferSync(String target, long buffer, long peerAddress, long length,
      TransferOpcode opcode, TransferNotify notify, String transportHint) {
    return batchTransferSync(target, List.of(buffer), List.of(peerAddress), List.of(length),
        opcode, notify, transportHint);
  }

  public long transferSubmitWrite(String target, long buffer, long peerAddress, long length) {
    return transferSubmitWrite(target, buffer, peerAddress, length, "");
  }

  /**
   * Submits one write and returns at once.
   *
   * @return a batch id greater than 0, or a negative code (an unknown peer fails here, or shows
   *     as -1 in {@link #transferCheckStatus}; it never hangs)
   */
  public long transferSubmitWrite(String target, long buffer, long peerAddress, long length,
      String transportHint) {
    try {
      Engine e = getEngine();
      Batch b = e.submit(target, List.of(TransferRequest.write(buffer, peerAddress, length)),
          hint(transportHint));
      if (b.isRejected()) {
        e.dropBatch(b.id());
        LOG.warn("transferSubmitWrite to {}: {}", target, b.errorMessage());
        return b.errorCode().code();
      }
      return b.id();
    } catch (TransferException e) {
      LOG.warn("transferSubmitWrite to {}: {}", target, e.getMessage());
      return e.errorCode().code();
    }
  }

  /**
   * Status of a submitted transfer: 1 done, 0 running, -1 failed, -2 timed out. Once it returned a
   * final status the id is freed, and asking again gives {@link ErrorCode#INVALID_BATCH_ID}. A
   * failure is returned only once no transport touches the buffer any more ({@link
   * Engine#isSettled}), so a caller may reuse it then; so do the synchronous calls and {@link
   * #getBatchTransferStatus}.
   */
  public int transferCheckStatus(long batchId) {
    Engine e;
    try {
      e = getEngine();
    } catch (TransferException ex) {
      return ex.errorCode().code();
    }
    Batch b = e.batch(batchId);
    if (b == null) {
      return ErrorCode.INVALID_BATCH_ID.code();
    }
    TransferState s = e.poll(b);
    if (s == TransferState.PENDING || !e.isSettled(b)) {
      return STATUS_RUNNING; // a failure is reported once its buffer may be reused
    }
    e.dropBatch(batchId);
    return statusOf(s);
  }

  private static int statusOf(TransferState s) {
    switch (s) {
      case COMPLETED:
        return STATUS_COMPLETED;
      case TIMEOUT:
        return STATUS_TIMEOUT;
      case PENDING:
      case WAITING:
        return STATUS_RUNNING;
      default:
        return STATUS_FAILED;
    }
  }

  // ---------------------------------------------------------------- CUDA stream transfers

  /**
   * Enqueues a write on CUDA stream {@code streamPtr} (0: the legacy default stream): it runs after
   * the work enqueued on the stream before, and work enqueued after waits for it (CUDA.md 3.5).
   * Toward the nvlink transport the copies are enqueued on the stream itself; toward another
   * transport a host function on the stream starts the transfer and holds the stream until it
   * ends or times out. A failure completes the returned future exceptionally and is logged here;
   * it never ends the process (the reference calls {@code _exit}).
   *
   * @throws TransferException at once when the request is invalid, no transport can take it, or
   *     the stream refuses the host function; TRANSPORT_UNAVAILABLE without te-transport-cuda
   */
  public CompletableFuture<Void> transferWriteOnCuda(String target, long buffer, long peerAddress,
      long length, long streamPtr) {
    return batchTransferWriteOnCuda(target, List.of(buffer), List.of(peerAddress),
        List.of(length), streamPtr, "");
  }

  public CompletableFuture<Void> transferWriteOnCuda(String target, long buffer, long peerAddress,
      long length, long streamPtr, String transportHint) {
    return batchTransferWriteOnCuda(target, List.of(buffer), List.of(peerAddress),
        List.of(length), streamPtr, transportHint);
  }

  /** Enqueues a read on a CUDA stream, as {@link #transferWriteOnCuda} does a write. */
  public CompletableFuture<Void> transferReadOnCuda(String target, long buffer, long peerAddress,
      long length, long streamPtr) {
    return batchTransferReadOnCuda(target, List.of(buffer), List.of(peerAddress),
        List.of(length), streamPtr, "");
  }

  public CompletableFuture<Void> transferReadOnCuda(String target, long buffer, long peerAddress,
      long length, long streamPtr, String transportHint) {
    return batchTransferReadOnCuda(target, List.of(buffer), List.of(peerAddress),
        List.of(length), streamPtr, transportHint);
  }

  public CompletableFuture<Void> batchTransferWriteOnCuda(String target, List<Long> buffers,
      List<Long> peerAddresses, List<Long> lengths, long streamPtr) {
    return batchTransferWriteOnCuda(target, buffers, peerAddresses, lengths, streamPtr, "");
  }

  /** Enqueues writes on a CUDA stream, as {@link #transferWriteOnCuda} does one. */
  public CompletableFuture<Void> batchTransferWriteOnCuda(String target, List<Long> buffers,
      List<Long> peerAddresses, List<Long> lengths, long streamPtr, String transportHint) {
    return onCuda(target, requests(buffers, peerAddresses, lengths, TransferOpcode.WRITE),
        streamPtr, transportHint);
  }

  public CompletableFuture<Void> batchTransferReadOnCuda(String target, List<Long> buffers,
      List<Long> peerAddresses, List<Long> lengths, long streamPtr) {
    return batchTransferReadOnCuda(target, buffers, peerAddresses, lengths, streamPtr, "");
  }

  /** Enqueues reads on a CUDA stream, as {@link #transferWriteOnCuda} does a write. */
  public CompletableFuture<Void> batchTransferReadOnCuda(String target, List<Long> buffers,
      List<Long> peerAddresses, List<Long> lengths, long streamPtr, String transportHint) {
    return onCuda(target, requests(buffers, peerAddresses, lengths, TransferOpcode.READ),
        streamPtr, transportHint);
  }

  private CompletableFuture<Void> onCuda(String target, List<TransferRequest> requests,
      long stream, String hint) {
    Engine e = getEngine();
    io.te4j.api.spi.StreamGate gate = DeviceServices.streamGate("cuda");
    if (gate == null) {
      throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE, "CUDA stream transfers need "
          + "te-transport-cuda and a CUDA device; running: " + e.transportNames());
    }
    CompletableFuture<Void> done;
    if (e.transportFor(target, requests, hint).ordersOnStreams()) {
      List<TransferRequest> onStream = new ArrayList<>(requests.size());
      for (TransferRequest r : requests) {
        onStream.add(r.onStream(stream));
      }
      done = e.transfer(target, onStream, hint);
      TransferException refused = refusedAtOnce(done);
      if (refused != null) {
        throw refused; // nothing was enqueued on the stream
      }
    } else {
      long deadline = System.nanoTime() + e.transferTimeoutNanos();
      done = gate.runInStreamOrder(stream, () -> e.transfer(target, requests, hint), deadline);
    }
    done.whenComplete((v, failure) -> {
      if (failure != null) {
        LOG.error("CUDA stream transfer to {} failed: {}", target, failure.getMessage());
      }
    });
    return done;
  }

  /** The failure of a transfer whose batch was refused before anything was enqueued, or null. */
  private static TransferException refusedAtOnce(CompletableFuture<Void> f) {
    if (!f.isCompletedExceptionally()) {
      return null;
    }
    try {
      f.join();
      return null;
    } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException x) {
      Throwable c = x.getCause() == null ? x : x.getCause();
      return c instanceof TransferException ? (TransferException) c
          : new TransferException(ErrorCode.TRANSFER_FAILED, c.toString(), c);
    }
  }

  // ---------------------------------------------------------------- batches

  public int batchTransferSyncWrite(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths) {
    return batchTransferSync(target, buffers, peerAddresses, lengths, TransferOpcode.WRITE, null,
        "");
  }

  public int batchTransferSyncWrite(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths, String transportHint) {
    return batchTransferSync(target, buffers, peerAddresses, lengths, TransferOpcode.WRITE, null,
        transportHint);
  }

  public int batchTransferSyncRead(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths) {
    return batchTransferSync(target, buffers, peerAddresses, lengths, TransferOpcode.READ, null,
        "");
  }

  public int batchTransferSyncRead(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths, String transportHint) {
    return batchTransferSync(target, buffers, peerAddresses, lengths, TransferOpcode.READ, null,
        transportHint);
  }

  public int batchTransferSync(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths, TransferOpcode opcode, TransferNotify notify) {
    return batchTransferSync(target, buffers, peerAddresses, lengths, opcode, notify, "");
  }

  /**
   * A batch, waited for; then {@code notify} (may be null) is sent.
   *
   * @return 0, or a negative code: INVALID_ARGUMENT for mismatched list lengths
   */
  public int batchTransferSync(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths, TransferOpcode opcode, TransferNotify notify, String transportHint) {
    try {
      Engine e = getEngine();
      Batch b = e.submitAndWait(target, requests(buffers, peerAddresses, lengths, opcode),
          hint(transportHint));
      if (b.state() != TransferState.COMPLETED) {
        TransferException f = b.failure();
        LOG.warn("{}", f.getMessage());
        return f.errorCode().code();
      }
      if (notify != null) {
        e.notify(target, notify);
      }
      return 0;
    } catch (TransferException ex) {
      LOG.warn("transfer to {}: {}", target, ex.getMessage());
      return ex.errorCode().code();
    }
  }

  public long batchTransferAsyncWrite(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths) {
    return batchTransferAsync(target, buffers, peerAddresses, lengths, TransferOpcode.WRITE, "");
  }

  public long batchTransferAsyncWrite(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths, String transportHint) {
    return batchTransferAsync(target, buffers, peerAddresses, lengths, TransferOpcode.WRITE,
        transportHint);
  }

  public long batchTransferAsyncRead(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths) {
    return batchTransferAsync(target, buffers, peerAddresses, lengths, TransferOpcode.READ, "");
  }

  public long batchTransferAsyncRead(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths, String transportHint) {
    return batchTransferAsync(target, buffers, peerAddresses, lengths, TransferOpcode.READ,
        transportHint);
  }

  public long batchTransferAsync(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths, TransferOpcode opcode) {
    return batchTransferAsync(target, buffers, peerAddresses, lengths, opcode, "");
  }

  /** Submits a batch and returns at once: its id, or 0 on failure (as the reference). */
  public long batchTransferAsync(String target, List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths, TransferOpcode opcode, String transportHint) {
    try {
      Engine e = getEngine();
      Batch b = e.submit(target, requests(buffers, peerAddresses, lengths, opcode),
          hint(transportHint));
      if (b.isRejected()) {
        e.dropBatch(b.id());
        LOG.warn("batch transfer to {}: {}", target, b.errorMessage());
        return 0;
      }
      return b.id();
    } catch (TransferException e) {
      LOG.warn("batch transfer to {}: {}", target, e.getMessage());
      return 0;
    }
  }

  /**
   * Waits for every batch and frees them.
   *
   * @return 0 when all completed, -1 when any failed, timed out or is unknown
   */
  public int getBatchTransferStatus(List<Long> batchIds) {
    Engine e;
    try {
      e = getEngine();
    } catch (TransferException ex) {
      return STATUS_FAILED;
    }
    int result = 0;
    for (long id : batchIds) {
      Batch b = e.batch(id);
      if (b == null) {
        result = STATUS_FAILED;
        continue;
      }
      if (e.await(b) != TransferState.COMPLETED) {
        result = STATUS_FAILED;
      }
      e.dropBatch(id);
    }
    return result;
  }

  // ---------------------------------------------------------------- buffer I/O

  /** Copies {@code length} bytes of {@code src} to registered memory; 0 or a negative code. */
  public int writeBytesToBuffer(long destAddress, byte[] src, int length) {
    return call(() -> {
      if (length < 0 || length > src.length) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT,
            "length " + length + " for " + src.length + " bytes");
      }
      getEngine().write(destAddress, src, 0, length);
      return 0;
    });
  }

  /**
   * Copies bytes out of registered memory.
   *
   * @throws TransferException ADDRESS_NOT_REGISTERED outside registered memory
   */
  public byte[] readBytesFromBuffer(long sourceAddress, int length) {
    return getEngine().read(sourceAddress, length);
  }

  // ---------------------------------------------------------------- registration

  /** Registers memory peers may access; 0 or a negative code (overlap, zero length). */
  public int registerMemory(long bufferAddress, long capacity) {
    return call(() -> {
      getEngine().register(bufferAddress, capacity);
      return 0;
    });
  }

  /** Registers a direct buffer; 0 or a negative code. */
  public int registerMemory(ByteBuffer direct) {
    return call(() -> {
      getEngine().register(direct);
      return 0;
    });
  }

  /** Unregisters the region starting at {@code bufferAddress}; 0 or a negative code. */
  public int unregisterMemory(long bufferAddress) {
    return call(() -> {
      getEngine().unregister(bufferAddress);
      return 0;
    });
  }

  /** Registers several regions, all or nothing; 0 or a negative code. */
  public int batchRegisterMemory(List<Long> bufferAddresses, List<Long> capacities) {
    return call(() -> {
      if (bufferAddresses.size() != capacities.size()) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT, bufferAddresses.size()
            + " addresses but " + capacities.size() + " capacities");
      }
      List<MemoryRegistryImpl.RegionSpec> specs = new ArrayList<>();
      for (int i = 0; i < capacities.size(); i++) {
        specs.add(new MemoryRegistryImpl.RegionSpec(bufferAddresses.get(i), capacities.get(i),
            "cpu:0", true));
      }
      getEngine().registerAll(specs);
      return 0;
    });
  }

  /** Unregisters several regions, all or nothing; 0 or a negative code. */
  public int batchUnregisterMemory(List<Long> bufferAddresses) {
    return call(() -> {
      getEngine().unregisterAll(bufferAddresses);
      return 0;
    });
  }

  // ---------------------------------------------------------------- topology, notify, probe

  /** The local topology JSON (WIRE.md section 5). */
  public String getLocalTopology() {
    return getLocalTopology(null);
  }

  /** The local topology JSON, filtered to the comma-separated device names (null for all). */
  public String getLocalTopology(String deviceName) {
    Engine e = engine;
    if (e != null && (deviceName == null || deviceName.isBlank())) {
      return JsonCodec.topologyToJson(e.localTopology());
    }
    String custom = e != null ? e.config().customTopologyPath()
        : io.te4j.core.config.Settings.withSystem(java.util.Map.of())
            .get(EngineConfig.MC_CUSTOM_TOPO_JSON);
    return JsonCodec.topologyToJson(new TopologyDiscovery().discover(custom, deviceName));
  }

  /** Takes the notifications received so far. */
  public List<TransferNotify> getNotifies() {
    Engine e = engine;
    return e == null ? List.of() : e.drainNotifies();
  }

  /** 0 when the peer answered a probe in bounded time, non-zero otherwise. */
  public int sendProbe(String peerServerName) {
    try {
      return getEngine().probe(peerServerName) ? 0 : ErrorCode.SOCKET_FAIL.code();
    } catch (TransferException e) {
      return e.errorCode().code();
    }
  }

  /** Closes the engine; in-flight transfers fail promptly. */
  @Override
  public synchronized void close() {
    Engine e = engine;
    if (e != null) {
      e.close();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static String hint(String transportHint) {
    return transportHint == null ? "" : transportHint;
  }

  private static List<TransferRequest> requests(List<Long> buffers, List<Long> peerAddresses,
      List<Long> lengths, TransferOpcode opcode) {
    if (buffers == null || peerAddresses == null || lengths == null) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "null list");
    }
    if (buffers.size() != peerAddresses.size() || buffers.size() != lengths.size()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "list lengths differ: "
          + buffers.size() + " buffers, " + peerAddresses.size() + " peer addresses, "
          + lengths.size() + " lengths");
    }
    List<TransferRequest> out = new ArrayList<>(buffers.size());
    for (int i = 0; i < buffers.size(); i++) {
      out.add(new TransferRequest(opcode, buffers.get(i), peerAddresses.get(i), lengths.get(i)));
    }
    return out;
  }

  private interface Call {
    int run();
  }

  private static int call(Call c) {
    try {
      return c.run();
    } catch (TransferException e) {
      LOG.warn("{}", e.getMessage());
      return e.errorCode().code();
    }
  }
}
