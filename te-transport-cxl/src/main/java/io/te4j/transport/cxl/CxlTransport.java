package io.te4j.transport.cxl;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.TransportContext;
import io.te4j.transport.shm.CopyBatch;
import io.te4j.transport.shm.CopyRoutines;
import io.te4j.transport.shm.MemoryCopyTransport;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference's {@code cxl} transport: a memory device shared by every engine that maps it ({@code
 * MC_CXL_DEV_PATH}, mapped whole; size from {@code MC_CXL_DEV_SIZE}, sysfs or the file length).
 * The descriptor carries {@code cxl_name} (the path) and {@code cxl_base_addr} (this process's
 * mapping); buffers are published as {@code {name, offset, length}}, offsets into the device. A
 * request's target offset is an offset into the device; the initiator copies directly between its
 * local memory and its own mapping of the device. Remote-accessible memory must lie inside the
 * mapping (register {@code cxl_base_addr + offset}); memory outside it may be registered local-only
 * as a source or destination.
 *
 * <p>Checks (the reference has none): the target range must lie inside the device and inside one
 * buffer the target published; the local range inside a registered region. A rejected slice fails
 * with ADDRESS_NOT_REGISTERED or INVALID_ARGUMENT and touches nothing.
 *
 * <p>Guarantee: when a WRITE completes, the bytes are in the device mapping, visible to every
 * process of this host that maps it, and (with libte4jcxl) written back from this CPU's caches
 * (non-temporal stores for the body of the copy, {@code clwb}/{@code clflushopt} for its edges and
 * for small copies, then {@code sfence}), as a reader on another host of a non-coherent CXL device needs ({@link #WRITEBACK}
 * {@code =0} drops the write-back for single-host use). Without libte4jcxl only a fence is issued:
 * enough within one host, not across hosts. READs copy from the mapping as it is; this transport
 * does not invalidate lines another host may have changed.
 *
 * <p>Threading: {@link #submit} and {@link #submitAll} copy on the caller's thread and finish the
 * slices before they return (memory copies, nothing to wait for; a batch's copies run in one
 * native call, see {@link CopyBatch}); {@link #unregistered} and {@link #close} wait for
 * copies touching the memory to end.
 */
public final class CxlTransport extends MemoryCopyTransport {
  /** Device path setting (the reference's older builds read {@code CXL_DEV_PATH}). */
  public static final String DEV_PATH = "MC_CXL_DEV_PATH";
  /** Device size setting, bytes. */
  public static final String DEV_SIZE = "MC_CXL_DEV_SIZE";
  /**
   * {@code 0} turns off the cache write-back after small writes (default on): only for a device
   * that only processes of one host map, where caches are coherent anyway.
   */
  public static final String WRITEBACK = "MC_CXL_CACHE_WRITEBACK";

  static final Setting<String> DEVICE = Setting.text(DEV_PATH, null, "path",
      "the CXL device: a DAX path, or a file standing in for one").alias("CXL_DEV_PATH");
  static final Setting<Long> SIZE = Setting.bytes(DEV_SIZE, 0, 0, Long.MAX_VALUE,
      "bytes of the device to map; 0 takes them from sysfs or the file's length")
      .alias("CXL_DEV_SIZE").defaultShownAs("sysfs or file size");
  static final Setting<Boolean> WRITE_BACK = Setting.flag(WRITEBACK, true,
      "write completed CXL writes back from the CPU caches (needed across hosts)");
  /** What {@link CxlTransportProvider#settings()} declares. */
  static final java.util.List<Setting<?>> SETTINGS = java.util.List.of(DEVICE, SIZE, WRITE_BACK);

  private static final Logger LOG = LoggerFactory.getLogger(CxlTransport.class);

  private final LongAdder bytesMoved = new LongAdder();
  private volatile CxlDevice device;
  private boolean writeBack = true;
  /** True when cxl is the engine's primary transport (the descriptor's protocol). */
  private boolean primary = true;

  CxlTransport(TransportContext context) {
    super(context);
  }

  @Override
  public String name() {
    return "cxl";
  }

  /** The mapped device, or null before {@link #start}. */
  public CxlDevice device() {
    return device;
  }

  @Override
  public void start(SegmentDescriptor.Builder localDescriptor) {
    String path = CxlDevice.configuredPath(context::setting);
    if (path == null) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "the cxl transport needs " + DEV_PATH + " (a DAX device or a file on /dev/shm)");
    }
    long size = CxlDevice.configuredSize(context::setting);
    writeBack = context.setting(WRITE_BACK);
    primary = "cxl".equals(localDescriptor.build().protocol());
    CxlDevice d = CxlDevice.open(path, size);
    device = d;
    localDescriptor.attribute("cxl_name", d.path());
    localDescriptor.attribute("cxl_base_addr", d.base());
    LOG.info("cxl: {} mapped at 0x{}, {} bytes; cache write-back {}; native copies: {}", d.path(),
        Long.toHexString(d.base()), d.size(), writeBack ? "on" : "off",
        CopyRoutines.isNativeAvailable() ? "yes"
            : "no (" + CopyRoutines.unavailabilityCause().getMessage() + ")");
  }

  /**
   * Publishes a remote-accessible region inside the device as {@code {name, offset, length}}.
   * Outside the device: an error when cxl is the primary transport; otherwise the entry is left to
   * the primary transport unchanged (and the cxl transport cannot target it).
   *
   * @throws TransferException INVALID_ARGUMENT when cxl is primary and the region is not inside
   *     the device mapping
   */
  @Override
  public BufferDescriptor describe(MemoryRegion region, BufferDescriptor base) {
    CxlDevice d = device;
    if (d == null || !d.containsAddress(region.address(), region.length())) {
      if (!primary) {
        return base;
      }
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "remote-accessible memory 0x"
          + Long.toHexString(region.address()) + "+" + region.length() + " is not inside the CXL "
          + "device mapping" + (d == null ? "" : " [0x" + Long.toHexString(d.base()) + ", +"
          + d.size() + ")") + "; register other memory local-only (remoteAccessible=false)");
    }
    long offset = region.address() - d.base();
    Map<String, Object> attrs = new LinkedHashMap<>(base.attributes());
    attrs.put("offset", offset);
    return new BufferDescriptor(context.localSegmentName(), offset, region.length(),
        base.remoteKeys(), base.localKeys(), attrs);
  }


  @Override
  public boolean canReach(SegmentDescriptor target) {
    CxlDevice d = device;
    Object name = target.attributes().get("cxl_name");
    return d != null && !closed && name instanceof String && name.equals(d.path());
  }


  /** Checks the slice's target range and adds its copy to {@code batch}, or fails it. */
  @Override
  protected void copied(long bytes) {
    bytesMoved.add(bytes);
  }

  @Override
  protected ErrorCode closedCode() {
    return ErrorCode.TRANSPORT_UNAVAILABLE;
  }

  @Override
  protected void stage(TransferSlice slice, CopyBatch batch) {
    CxlDevice d = device;
    long offset = slice.targetOffset();
    long length = slice.length();
    if (d == null || closed) {
      slice.fail(TransferState.FAILED, ErrorCode.TRANSPORT_UNAVAILABLE, "cxl transport closed");
      return;
    }
    if (!d.containsOffset(offset, length)) {
      slice.fail(TransferState.FAILED, ErrorCode.INVALID_ARGUMENT, "cxl: offset "
          + Long.toUnsignedString(offset) + "+" + length + " is outside the device (" + d.size()
          + " bytes)");
      return;
    }
    BufferDescriptor b = slice.target().bufferContaining(offset, length);
    if (b == null || !b.attributes().containsKey("offset")) {
      slice.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED, "cxl: offset "
          + Long.toUnsignedString(offset) + "+" + length + " is not inside one buffer segment '"
          + slice.target().name() + "' published");
      return;
    }
    long local = slice.localAddress();
    long remote = d.base() + offset;
    if (slice.opcode() == TransferOpcode.WRITE) {
      batch.add(slice, remote, local, length, writeBack, local);
    } else {
      batch.add(slice, local, remote, length, false, local);
    }
  }


  /** Bytes written to and read from the device since start. */
  public long bytesMoved() {
    return bytesMoved.sum();
  }

  @Override
  public void close() {
    CxlDevice d = device;
    boolean quiet = closeAndQuiesce();
    if (d != null) {
      // No copy may run on the mapping once it is gone.
      if (!quiet) {
        LOG.warn("cxl: copies still running at close; leaving {} mapped", d.path());
        return;
      }
      d.close();
    }
  }
}
