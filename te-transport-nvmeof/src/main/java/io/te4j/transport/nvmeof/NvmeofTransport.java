package io.te4j.transport.nvmeof;

import io.te4j.api.AddressRanges;
import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NVMe-oF file transport: moves bytes between registered local memory and the files of a file
 * segment ({@link NvmeofSegments}), as this host sees them.
 *
 * <p><b>Offsets.</b> A slice's {@code targetOffset} is an offset into the concatenation of the
 * segment's files (each counted with its declared {@code length}); a slice that spans files
 * becomes one I/O per file. A range beyond the segment's total length fails with
 * INVALID_ARGUMENT before anything is read or written. A read that meets end of file inside the
 * declared length (the file shrank) fails with TRANSFER_FAILED, never returns stale bytes; a
 * write never goes past a file's declared length.
 *
 * <p><b>Which file.</b> For each file the path is {@code local_path_map[h]} for the first of this
 * host's names {@code h} that the map holds ({@link #hostNames()}: the engine's host, its segment
 * name, {@value #HOSTNAME_SETTING}, the machine's host name); a mapped path must exist. Without an
 * entry, {@code file_path} is used when that file exists here; otherwise the slice fails with
 * DEVICE_NOT_FOUND naming the names tried. Files are opened on first use, kept per segment, and
 * reopened when the segment's descriptor changes.
 *
 * <p><b>I/O.</b> io_uring through libte4jnvmeof ({@link UringBackend}: O_DIRECT whenever address,
 * offset and length are aligned, the page cache otherwise; one ring thread), or, when
 * io_uring or the library is unavailable or {@value #IOURING_DISABLED_SETTING} is true, positional
 * FileChannel I/O on a thread pool ({@link ChannelBackend}); {@link #fallbackCause()} says why.
 *
 * <p><b>Settings</b> (system property, else environment variable): {@value
 * #IOURING_DISABLED_SETTING} (false), {@value #QUEUE_DEPTH_SETTING} (slices in flight, default
 * {@value #DEFAULT_QUEUE_DEPTH}; more wait for a slot until their deadline), {@value
 * #SLICE_BYTES_SETTING}
 * (default 1 MiB), {@value #DIRECT_IO_SETTING} (true), {@value #DEFER_SUBMIT_SETTING} (false),
 * {@value #THREADS_SETTING} (FileChannel threads, default {@value #DEFAULT_THREADS}), {@value
 * #HOSTNAME_SETTING}.
 *
 * <p><b>Threads.</b> {@link #submit} runs on application threads and does not block on I/O
 * (opening a segment's files on first use aside): it hands the slice to the io_uring ring thread
 * (or the FileChannel pool); slices end on the backend's threads; {@link
 * #unregistered} returns only when no I/O touches the region; {@link #close} fails what is in
 * flight and returns after the backend's threads left memory.
 */
public final class NvmeofTransport implements Transport {
  /** {@code true}: never use io_uring. */
  public static final String IOURING_DISABLED_SETTING = NvmeofIoUring.DISABLED_PROPERTY;
  /** Slices in flight at most (io_uring slots). */
  public static final String QUEUE_DEPTH_SETTING = "te4j.nvmeof.queueDepth";
  /** The largest slice the engine hands this transport, in bytes. */
  public static final String SLICE_BYTES_SETTING = "te4j.nvmeof.sliceBytes";
  /** {@code false}: never use O_DIRECT. */
  public static final String DIRECT_IO_SETTING = "te4j.nvmeof.directIo";
  /** Threads of the FileChannel fallback. */
  public static final String THREADS_SETTING = "te4j.nvmeof.threads";
  /** One more name this host goes by in {@code local_path_map}. */
  public static final String HOSTNAME_SETTING = "te4j.nvmeof.hostname";
  /**
   * {@code true}: the ring thread pushes the I/Os it queued in one system call per round instead
   * of one each. Fewer system calls (faster on files served from memory, such as tmpfs); each I/O
   * reaches the device a little later (slower on real devices, measured). Default false.
   */
  public static final String DEFER_SUBMIT_SETTING = "te4j.nvmeof.deferSubmit";

  public static final int DEFAULT_QUEUE_DEPTH = 1024;
  public static final long DEFAULT_SLICE_BYTES = 1L << 20;
  public static final int DEFAULT_THREADS = 4;

  static final Setting<Boolean> IOURING_OFF = Setting.flag(IOURING_DISABLED_SETTING, false,
      "never use io_uring: positional FileChannel I/O instead");
  static final Setting<Integer> QUEUE_DEPTH = Setting.integer(QUEUE_DEPTH_SETTING,
      DEFAULT_QUEUE_DEPTH, 1, 16384, "NVMe-oF slices in flight at most; more wait for a slot"
          + " until their deadline");
  static final Setting<Long> SLICE_BYTES = Setting.bytes(SLICE_BYTES_SETTING, DEFAULT_SLICE_BYTES,
      4096, 1L << 30, "largest slice the NVMe-oF transport takes");
  static final Setting<Boolean> DIRECT_IO = Setting.flag(DIRECT_IO_SETTING, true,
      "O_DIRECT whenever address, offset and length are aligned; false: the page cache always");
  static final Setting<Integer> THREADS = Setting.integer(THREADS_SETTING, DEFAULT_THREADS, 1,
      256, "threads of the FileChannel fallback");
  static final Setting<String> HOSTNAME = Setting.text(HOSTNAME_SETTING, null, "host name",
      "one more name this host goes by in a file segment's local_path_map");
  static final Setting<Boolean> DEFER_SUBMIT = Setting.flag(DEFER_SUBMIT_SETTING, false,
      "push the queued I/Os in one system call per ring round (faster on tmpfs, slower on"
          + " devices)");
  /** What {@link NvmeofTransportProvider#settings()} declares. */
  static final List<Setting<?>> SETTINGS = List.of(IOURING_OFF, QUEUE_DEPTH, SLICE_BYTES,
      DIRECT_IO, THREADS, HOSTNAME, DEFER_SUBMIT);

  private static final Logger LOG = LoggerFactory.getLogger(NvmeofTransport.class);

  private final TransportContext context;
  private final int queueDepth;
  private final long sliceBytes;
  private final boolean directIo;
  private final boolean deferSubmit;
  private final int threads;
  private final List<String> hostNames;
  private final ConcurrentHashMap<String, SegmentFiles> segments = new ConcurrentHashMap<>();
  private volatile IoBackend backend;
  private volatile SegmentDescriptor lastReachable;
  private volatile Throwable fallbackCause;
  private volatile boolean closed;

  /**
   * Reads the settings; starts nothing until {@link #start}.
   *
   * @throws io.te4j.api.TransferException INVALID_CONFIGURATION naming a malformed setting
   */
  public NvmeofTransport(TransportContext context) {
    this.context = Objects.requireNonNull(context, "context");
    this.queueDepth = context.setting(QUEUE_DEPTH);
    this.sliceBytes = context.setting(SLICE_BYTES);
    this.directIo = context.setting(DIRECT_IO);
    this.deferSubmit = context.setting(DEFER_SUBMIT);
    this.threads = context.setting(THREADS);
    this.hostNames = List.copyOf(discoverHostNames(context));
  }

  @Override
  public String name() {
    return NvmeofSegments.PROTOCOL;
  }

  /**
   * Starts the io_uring backend, or the FileChannel one when io_uring cannot be used. Adds nothing
   * to the engine's descriptor: file segments are published separately ({@link NvmeofSegments}).
   */
  @Override
  public synchronized void start(SegmentDescriptor.Builder localDescriptor) {
    if (closed) {
      throw new IllegalStateException("nvmeof transport is closed");
    }
    if (backend != null) {
      throw new IllegalStateException("nvmeof transport already started");
    }
    Throwable cause = context.setting(IOURING_OFF)
        ? new UnsupportedOperationException("io_uring disabled by " + IOURING_DISABLED_SETTING
            + "=true")
        : NvmeofIoUring.probeFailure();
    IoBackend b = null;
    if (cause == null) {
      try {
        b = new UringBackend(context.memory(), queueDepth, directIo, deferSubmit,
            context.threadFactory("nvmeof-ring"));
      } catch (SliceFailure | LinkageError e) {
        cause = e;
      }
    }
    if (b == null) {
      fallbackCause = cause;
      b = new ChannelBackend(context.memory(), queueDepth, threads,
          context.threadFactory("nvmeof-io"),
          String.valueOf(cause.getMessage()));
      LOG.warn("nvmeof transport: io_uring not used ({}); falling back to FileChannel I/O",
          cause.toString());
    }
    backend = b;
    LOG.info("nvmeof transport: {}; host names {}", b.describe(), hostNames);
  }

  /** True when a file segment: protocol {@code nvmeof} and every buffer has a {@code file_path}. */
  @Override
  public boolean canReach(SegmentDescriptor target) {
    // The engine asks on every submit, mostly about the descriptor it asked about last.
    if (target == lastReachable) {
      return true;
    }
    boolean reachable = NvmeofSegments.isFileSegment(target);
    if (reachable) {
      lastReachable = target;
    }
    return reachable;
  }

  @Override
  public long maxSliceBytes() {
    return sliceBytes;
  }

  @Override
  public void submit(TransferSlice slice) {
    IoBackend b = backend;
    if (closed || b == null) {
      slice.fail(TransferState.FAILED, ErrorCode.ENGINE_CLOSED,
          closed ? "nvmeof transport closed" : "nvmeof transport not started");
      return;
    }
    SegmentFiles files;
    try {
      files = filesFor(slice.target(), b);
    } catch (SliceFailure e) {
      slice.fail(TransferState.FAILED, e.code, e.getMessage());
      return;
    }
    long offset = slice.targetOffset();
    long length = slice.length();
    if (!AddressRanges.contains(0, files.totalLength, offset, length)) {
      files.release();
      slice.fail(TransferState.FAILED, ErrorCode.INVALID_ARGUMENT,
          "range " + Long.toUnsignedString(offset) + "+" + length + " lies beyond the "
              + files.totalLength + " bytes of segment '" + slice.target().name() + "'");
      return;
    }
    b.submit(slice, files);
  }

  /** The segment's opened files, with one reference taken for the caller. */
  private SegmentFiles filesFor(SegmentDescriptor d, IoBackend b) {
    for (;;) {
      SegmentFiles f = segments.get(d.name());
      if (f == null || (f.descriptor != d && !f.descriptor.equals(d))) {
        f = reopen(d, b);
      }
      if (f.retain()) {
        return f;
      }
      // Closed by forget() between the lookup and retain(): look again.
    }
  }

  private SegmentFiles reopen(SegmentDescriptor d, IoBackend b) {
    synchronized (segments) {
      SegmentFiles current = segments.get(d.name());
      if (current != null && (current.descriptor == d || current.descriptor.equals(d))) {
        return current;
      }
      SegmentFiles opened = open(d, b);
      SegmentFiles old = segments.put(d.name(), opened);
      if (old != null) {
        old.release();
      }
      if (closed) {
        // close() may have missed it; do not keep files open past close.
        segments.remove(d.name(), opened);
        opened.release();
        throw new SliceFailure(ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
      }
      return opened;
    }
  }

  /** Resolves and opens every file of {@code d}. */
  private SegmentFiles open(SegmentDescriptor d, IoBackend b) {
    if (!NvmeofSegments.isFileSegment(d)) {
      throw new SliceFailure(ErrorCode.INVALID_ARGUMENT, "segment '" + d.name()
          + "' is not a file segment");
    }
    List<BufferDescriptor> buffers = d.buffers();
    LocalFile[] files = new LocalFile[buffers.size()];
    long start = 0;
    try {
      for (int i = 0; i < files.length; i++) {
        BufferDescriptor buf = buffers.get(i);
        String published = (String) buf.attributes().get("file_path");
        long length = buf.length();
        if (length <= 0 || start + length < start) {
          throw new SliceFailure(ErrorCode.INVALID_ARGUMENT, "segment '" + d.name() + "' file #"
              + i + " has an invalid length " + Long.toUnsignedString(length));
        }
        String local = localPath(d, i, published, buf.attributes().get("local_path_map"));
        LocalFile f = new LocalFile(i, local, published, start, length);
        b.open(f);
        files[i] = f;
        start += length;
      }
    } catch (RuntimeException e) {
      for (LocalFile f : files) {
        if (f != null) {
          b.close(f);
        }
      }
      throw e;
    }
    LOG.debug("nvmeof: opened {} files of segment {} ({} bytes)", files.length, d.name(), start);
    return new SegmentFiles(d, files, b);
  }

  /** Which path names file {@code index} on this host. */
  private String localPath(SegmentDescriptor d, int index, String published, Object map) {
    Map<?, ?> paths = map instanceof Map<?, ?> ? (Map<?, ?>) map : Map.of();
    for (String host : hostNames) {
      Object p = paths.get(host);
      if (p instanceof String && !((String) p).isEmpty()) {
        String path = (String) p;
        if (!Files.exists(Path.of(path))) {
          throw new SliceFailure(ErrorCode.DEVICE_NOT_FOUND, "segment '" + d.name() + "' file #"
              + index + ": local_path_map maps this host ('" + host + "') to " + path
              + ", which does not exist");
        }
        return path;
      }
    }
    if (Files.exists(Path.of(published))) {
      return published;
    }
    throw new SliceFailure(ErrorCode.DEVICE_NOT_FOUND, "segment '" + d.name() + "' file #"
        + index + ": local_path_map has no entry for this host (tried " + hostNames
        + "; it maps " + paths.keySet() + ") and file_path " + published
        + " does not exist here");
  }

  @Override
  public void unregistered(MemoryRegion region) {
    IoBackend b = backend;
    if (b != null) {
      b.awaitIdle(region, context.transferTimeoutNanos());
    }
  }

  /** Closes the segment's files once the I/O in flight on them is done. */
  @Override
  public void forget(String segmentName) {
    SegmentFiles f = segments.remove(segmentName);
    if (f != null) {
      f.release();
    }
  }

  @Override
  public void close() {
    IoBackend b;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      b = backend;
    }
    if (b != null) {
      b.close();
    }
    synchronized (segments) {
      for (SegmentFiles f : segments.values()) {
        f.release();
      }
      segments.clear();
    }
  }

  /** True when bytes move through io_uring, false on the FileChannel fallback (or before start). */
  public boolean usesIoUring() {
    return backend instanceof UringBackend;
  }

  /** Why the FileChannel fallback runs instead of io_uring, or null when it does not. */
  public Throwable fallbackCause() {
    return fallbackCause;
  }

  /** The names this host is looked up by in {@code local_path_map}, in order. */
  public List<String> hostNames() {
    return hostNames;
  }

  /** I/Os issued with O_DIRECT so far. */
  public long directIos() {
    IoBackend b = backend;
    return b == null ? 0 : b.directIos();
  }

  /** I/Os issued through the page cache so far. */
  public long bufferedIos() {
    IoBackend b = backend;
    return b == null ? 0 : b.bufferedIos();
  }

  private static List<String> discoverHostNames(TransportContext context) {
    Set<String> names = new LinkedHashSet<>();
    add(names, context.localHost());
    add(names, context.localSegmentName());
    add(names, context.setting(HOSTNAME));
    try {
      add(names, InetAddress.getLocalHost().getHostName());
    } catch (IOException | RuntimeException e) {
      LOG.debug("nvmeof: no local host name from the resolver: {}", e.toString());
    }
    try {
      add(names, Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8)
          .trim());
    } catch (IOException | RuntimeException e) {
      // Not Linux: the resolver's answer stands.
    }
    return new ArrayList<>(names);
  }

  private static void add(Set<String> names, String name) {
    if (name != null && !name.isBlank()) {
      names.add(name.trim());
    }
  }
}
