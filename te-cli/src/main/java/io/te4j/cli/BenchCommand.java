package io.te4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferOpcode;
import io.te4j.core.Engine;
import io.te4j.core.config.Settings;
import io.te4j.core.inject.ProviderRegistry;
import io.te4j.core.memory.ManagedMemory;
import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.cxl.CxlDevice;
import io.te4j.transport.cxl.CxlTransport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code te bench}: the counterpart of the reference's {@code transfer_engine_bench}. A target
 * serves a buffer; an initiator moves blocks to or from it in batches from several threads and
 * reports throughput, transfers per second and batch latency. With no {@code --mode} it runs both:
 * the target in a child JVM, the initiator here, on loopback with P2P metadata, and measures the
 * baseline that fits the protocol in the same run.
 *
 * <p>With {@code --protocol cxl} both sides map one device ({@code --cxl-device PATH}, else {@code
 * MC_CXL_DEV_PATH}): the target serves device offsets {@code [0, --buffer-size)} (remote-accessible
 * memory of a cxl engine must lie inside the device), the initiator copies between that range and
 * ordinary memory it registers local-only. {@code --verify} ends any run with a round trip (write a
 * seeded pattern, read it back into cleared memory, compare) over the range the bench used.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Measures the engine as the reference's transfer_engine_bench does: a target "
        + "serves a buffer; an initiator moves blocks to or from it in batches from several "
        + "threads and reports throughput, transfers per second and batch latency.",
        "%nWith no --mode it runs both, the target in a child JVM, on loopback with P2P metadata, "
            + "and measures a baseline that fits the protocol in the same run.",
        "%nA failed batch is counted and the run goes on; the peer going away and answering again "
            + "are said once each. Exit 1 when any batch failed."})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--mode", paramLabel = "target|initiator",
      description = "target: serve --buffer-size bytes until stopped (prints its segment name); "
          + "initiator: drive the target named by --segment-id. Absent: both on this host.")
  String mode;

  @Option(names = "--operation", paramLabel = "write|read", defaultValue = "write",
      description = "Write moves local memory to the target, read the other way.")
  String operation;

  @Option(names = "--protocol", paramLabel = "NAME",
      description = "The transport: tcp, shm, cxl, nvmeof or any installed plugin (default: "
          + "tcp; nvmeof with --segment-file, cxl with --cxl-device).")
  String protocol;

  @Mixin
  EngineOptions engineOptions;

  @Option(names = "--segment-id", paramLabel = "NAME",
      description = "With --mode initiator: the target's segment name, as it printed it "
          + "(host:port in P2P mode).")
  String segmentId;

  @Option(names = "--block-size", paramLabel = "SIZE", defaultValue = "1M",
      converter = Converters.Size.class, description = "Bytes per transfer (4096, 64K, 1M, ...).")
  long blockSize;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "4",
      converter = Converters.Positive.class, description = "Transfers per batch.")
  int batchSize;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "2",
      converter = Converters.Positive.class,
      description = "Initiator threads, each with its own batches and its own part of the "
          + "buffer.")
  int threads;

  @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "10",
      converter = Converters.Positive.class, description = "How long the initiator runs.")
  int duration;

  @Option(names = "--buffer-size", paramLabel = "SIZE", defaultValue = "256M",
      converter = Converters.Size.class,
      description = "Bytes the target serves and the initiator registers; at least "
          + "threads x batch-size x block-size.")
  long bufferSize;

  @Option(names = "--baseline", paramLabel = "NAMES", split = ",",
      description = "What the engine is compared with in the same run, comma-separated: "
          + "socket (a Java socket copy of the same blocks), iperf3 (-l block -P threads), memcpy (a "
          + "C memcpy of the same shape), fio (io_uring, direct, on the --segment-file), none. "
          + "Default: socket,iperf3 for tcp, memcpy for shm and cxl, fio for nvmeof; one not "
          + "installed is said so and skipped.")
  List<String> baselines;

  @Option(names = "--sweep", paramLabel = "SIZES", split = ",",
      converter = Converters.Size.class,
      description = "Run once per block size (e.g. 4K,64K,1M,4M), each for --duration, against "
          + "one target; prints a table with the baselines of each size and writes --chart.")
  List<Long> sweep;

  @Option(names = "--chart", paramLabel = "PATH", defaultValue = "te-bench-sweep.svg",
      description = "With --sweep: where the SVG chart of throughput by block size, the "
          + "engine beside each baseline, is written.")
  Path chart;

  @Option(names = "--report-interval", paramLabel = "SECONDS", defaultValue = "1",
      converter = Converters.Positive.class,
      description = "Seconds between progress lines on stderr.")
  int reportInterval;

  @Option(names = "--segment-file", paramLabel = "PATH",
      description = "With nvmeof: publish a file segment over PATH from this engine and drive "
          + "it (no target process).")
  String segmentFile;

  @Option(names = "--cxl-device", paramLabel = "PATH",
      description = "With cxl: the device both sides map (else MC_CXL_DEV_PATH); the target "
          + "serves its first --buffer-size bytes. A missing file directly under /dev/shm is "
          + "created sparse for the run and deleted after.")
  String cxlDeviceOption;

  @Option(names = "--metrics-port", paramLabel = "PORT", converter = Converters.NonNegative.class,
      description = "Serve this process's meters (its engine's batches, bytes, failures and "
          + "latency histograms, and the JVM's) for Prometheus at http://127.0.0.1:PORT/metrics "
          + "while it runs; 0 for any free port (said on stderr).")
  Integer metricsPort;

  @Option(names = "--gpu", paramLabel = "N", converter = Converters.NonNegative.class,
      description = "Both sides' buffers in the memory of GPU N (cudaMalloc), staged through "
          + "pinned host buffers by tcp, mapped by CUDA IPC with --protocol nvlink (whose "
          + "default is GPU 0); the baseline is then the same copies with cudaMemcpyAsync.")
  Integer gpu;

  @Option(names = "--hold-connections", paramLabel = "N", defaultValue = "0",
      converter = Converters.NonNegative.class,
      description = "With tcp: hold N idle connections open to the target's data port while the "
          + "bench runs (on loopback from 1000 per source address, 127.0.0.2 on), and say the "
          + "target's threads and resident memory before and after opening them.")
  int holdConnections;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Option(names = "--verify",
      description = "End with a write/read-back round trip over the range used and compare "
          + "the bytes.")
  boolean verify;

  @Option(names = "--stop-on-error",
      description = "End the run at the first failed batch (else failures are counted and the "
          + "run goes on).")
  boolean stopOnError;

  /** The target's process id when {@link #runBoth} started it, else -1. */
  private long targetPid = -1;

  /** A child target of {@link #runBoth} stops when its parent closes stdin. */
  @Option(names = "--exit-on-stdin-eof", hidden = true)
  boolean exitOnStdinEof;

  /** System properties, then the environment: where the engine's settings come from too. */
  private static final Settings SYSTEM_SETTINGS = Settings.withSystem(java.util.Map.of());
  private static final String SHM_DIR = "/dev/shm";
  private static final Set<String> MODES = Set.of("target", "initiator");

  private final PrintStream out;
  private final PrintStream err;
  /** The device both sides map when the protocol is cxl, else null; set by {@link #call}. */
  private String cxlDevice;

  BenchCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() throws Exception {
    validate();
    if (segmentFile != null) {
      // An NVMe-oF file segment needs no target process: this engine publishes it (P2P answers
      // its own keys) and drives it; fio runs on the same file.
      return runInitiator(NvmeofCommand.BENCH_SEGMENT, baselines());
    }
    if (mode == null) {
      return runBoth();
    }
    if (mode.equals("target")) {
      return runTarget();
    }
    checkCxlDevice(false, 0);
    return runInitiator(segmentId, List.of());
  }

  /** Everything the command line alone decides, before any engine or process starts. */
  private void validate() {
    if (mode != null && !MODES.contains(mode)) {
      throw new UsageException("--mode is target or initiator (or absent for both), not '"
          + mode + "'");
    }
    opcode(operation);
    Set<String> transports = ProviderRegistry.transports(getClass().getClassLoader()).keySet();
    if (!transports.contains(protocol())) {
      throw new UsageException("--protocol " + protocol() + " is not installed; installed: "
          + String.join(", ", transports));
    }
    if (cxlDeviceOption != null && !protocol().equals("cxl")) {
      throw new UsageException("--cxl-device goes with --protocol cxl, not " + protocol());
    }
    if (protocol().equals("cxl")) {
      cxlDevice = cxlDevicePath();
    }
    if (gpu() != null) {
      if (cxlDevice != null || segmentFile != null) {
        throw new UsageException("--gpu goes with tcp or nvlink, not " + protocol());
      }
      if (verify) {
        throw new UsageException("--verify reads the buffers with the CPU: not with --gpu");
      }
      GpuMemory.check(gpu());
    }
    for (String b : baselines()) {
      if (!Baselines.NAMES.contains(b)) {
        throw new UsageException("--baseline takes " + String.join(", ",
            new TreeSet<>(Baselines.NAMES)) + ", not '" + b + "'");
      }
    }
    boolean initiates = segmentFile != null || !"target".equals(mode);
    if (initiates && "initiator".equals(mode) && segmentFile == null && segmentId == null) {
      throw new UsageException("--mode initiator needs --segment-id, the target's segment name");
    }
    long largest = Collections.max(blockSizes());
    long footprint = largest * batchSize * threads;
    if (initiates && (footprint / threads / batchSize != largest || footprint > bufferSize)) {
      throw new UsageException("--threads x --batch-size x --block-size (" + threads + " x "
          + batchSize + " x " + largest + ") exceeds --buffer-size " + bufferSize);
    }
    if (holdConnections > 0 && (!protocol().equals("tcp") || "target".equals(mode))) {
      throw new UsageException("--hold-connections goes with an initiator over tcp");
    }
    if (sweep != null && (sweep.isEmpty() || "target".equals(mode))) {
      throw new UsageException("--sweep takes the block sizes an initiator runs, e.g. "
          + "4K,64K,1M");
    }
  }

  /** The GPU the buffers live on, or null for host memory. */
  private Integer gpu() {
    return gpu != null ? gpu : protocol().equals("nvlink") ? Integer.valueOf(0) : null;
  }

  private List<String> baselines() {
    if (baselines == null) {
      return gpu() != null ? List.of("cudamemcpy")
          : Baselines.DEFAULTS.getOrDefault(protocol(), List.of());
    }
    List<String> names = new ArrayList<>();
    for (String b : baselines) {
      names.add(b.trim().toLowerCase(Locale.ROOT));
    }
    return names;
  }

  private Engine startEngine() {
    String metadata = engineOptions.metadataServer;
    String name = engineOptions.localServerName;
    Engine.Builder b = Engine.builder().localHostname(name == null ? defaultName(metadata) : name)
        .metadataServer(metadata)
        .protocol(protocol());
    if (cxlDevice != null) {
      b.setting(CxlTransport.DEV_PATH, cxlDevice);
    }
    return b.start();
  }

  /**
   * The engine's name when none is given: in P2P mode {@code 127.0.0.1} (the engine appends its
   * handshake port); with a metadata server {@code 127.0.0.1:<a port free now>}, so the target and
   * the initiator of one host (and two benches) never publish under the same name.
   */
  private static String defaultName(String metadata) {
    if (metadata.equals(EngineOptions.P2P)) {
      return "127.0.0.1";
    }
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getLoopbackAddress())) {
      return "127.0.0.1:" + s.getLocalPort();
    } catch (IOException e) {
      return "127.0.0.1:" + (20000 + ProcessHandle.current().pid() % 40000);
    }
  }

  private String protocol() {
    if (protocol != null) {
      return protocol;
    }
    return segmentFile != null ? "nvmeof" : cxlDeviceOption != null ? "cxl" : "tcp";
  }

  /** {@code --cxl-device}, else {@code MC_CXL_DEV_PATH} (system property, then environment). */
  private String cxlDevicePath() {
    String path = cxlDeviceOption;
    if (path == null || path.isBlank()) {
      path = CxlDevice.configuredPath(SYSTEM_SETTINGS);
    }
    if (path == null) {
      throw new UsageException("--protocol cxl needs a device: --cxl-device PATH or "
          + CxlTransport.DEV_PATH + " (a DAX device such as /dev/dax0.0, or a file on /dev/shm "
          + "standing in for one)");
    }
    return path;
  }

  /**
   * Checks the cxl device before any engine maps it, so a mistake reads as one clear line. A
   * missing file directly under /dev/shm is created sparse ({@code --buffer-size} bytes) when
   * {@code create} is set (the two-process run, which deletes it again); anything else missing is
   * an error: a DAX device is never invented.
   *
   * @param needed bytes the target serves from offset 0, or 0 when this side serves nothing
   * @return true when this call created the file
   * @throws TransferException DEVICE_NOT_FOUND when missing, INVALID_CONFIGURATION when too small
   */
  private boolean checkCxlDevice(boolean create, long needed) throws IOException {
    if (cxlDevice == null) {
      return false;
    }
    Path path = Path.of(cxlDevice);
    boolean created = false;
    if (!Files.exists(path)) {
      Path parent = path.toAbsolutePath().getParent();
      if (!create || parent == null || !parent.equals(Path.of(SHM_DIR))) {
        throw new TransferException(ErrorCode.DEVICE_NOT_FOUND, "CXL device " + cxlDevice
            + " (--cxl-device / " + CxlTransport.DEV_PATH + ") does not exist; te bench creates "
            + "only a missing file directly under " + SHM_DIR + ", and only when it runs both "
            + "sides");
      }
      try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
        f.setLength(needed); // sparse: memory is used only where the bench writes
      }
      created = true;
      err.println("created sparse " + needed + "-byte CXL stand-in " + cxlDevice
          + " for this run");
    }
    if (needed > 0) {
      long size;
      // Opened the way the transport opens it (MC_CXL_DEV_SIZE, sysfs, file length), then let go.
      try (CxlDevice d = CxlDevice.open(cxlDevice, CxlDevice.configuredSize(SYSTEM_SETTINGS))) {
        size = d.size();
      } catch (RuntimeException e) {
        if (created) {
          Files.deleteIfExists(path);
        }
        throw e;
      }
      if (size < needed) {
        throw new TransferException(ErrorCode.INVALID_CONFIGURATION, "CXL device " + cxlDevice
            + " holds " + size + " bytes; the bench target serves --buffer-size " + needed
            + " bytes of it: use a larger device or a smaller --buffer-size");
      }
    }
    return created;
  }


  /**
   * Serves a buffer until killed (or until stdin closes, for a child of {@link #runBoth}): exactly
   * {@code --buffer-size} bytes of memory, or with cxl device offsets {@code [0, --buffer-size)}.
   */
  private int runTarget() throws Exception {
    long size = bufferSize;
    checkCxlDevice(false, size);
    long[] memoryFile = null;
    long gpuBuffer = 0;
    try (Engine engine = startEngine();
        MetricsPort metrics = MetricsPort.startIfAsked(metricsPort, "127.0.0.1", err)) {
      if (metrics != null) {
        metrics.bind(engine);
      }
      // SIGTERM or SIGINT: close the engine, so its metadata keys go with it (as the reference's).
      Runtime.getRuntime().addShutdownHook(new Thread(engine::close, "te-bench-target-stop"));
      long address;
      String where;
      String location = "cpu:0";
      if (cxlDevice != null) {
        address = cxlBase(engine);
        where = "offsets [0, " + size + ") of " + cxlDevice;
      } else if (gpu() != null) {
        gpuBuffer = GpuMemory.allocate(gpu(), size, (byte) 0);
        address = gpuBuffer;
        location = "cuda:" + gpu();
        where = "0x" + Long.toHexString(address) + " on " + location;
      } else {
        // Exactly --buffer-size is registered and published (a managed buffer would publish its
        // whole arena); a memory file, so same-host peers map it as they map managed memory.
        memoryFile = mapShareable(size);
        address = memoryFile[0];
        where = "0x" + Long.toHexString(address);
      }
      engine.register(address, size, location, true);
      if (gpuBuffer == 0) {
        // Touched once, so a read copies real memory rather than the kernel's shared zero page.
        NativeMemory.fill(address, size, (byte) 0);
      }
      out.println(engine.segmentName());
      out.flush();
      err.println("target " + engine.segmentName() + " serving " + size + " bytes at " + where);
      if (exitOnStdinEof) {
        while (System.in.read() >= 0) {
          // until the parent goes away
        }
      } else {
        new CountDownLatch(1).await();
      }
    } finally {
      if (gpuBuffer != 0) {
        GpuMemory.free(gpuBuffer); // after the engine closed, as the memory file below
      }
      if (memoryFile != null) { // after the engine closed: nothing serves it any more
        NativeMemory.unmap(memoryFile[0], size);
        if (memoryFile[1] >= 0) {
          NativeMemory.closeFd((int) memoryFile[1]);
        }
      }
    }
    return 0;
  }

  /** {@code [address, fd]} of a memory file, or of anonymous memory ({@code fd} -1) if refused. */
  private long[] mapShareable(long size) {
    try {
      return NativeMemory.mapMemoryFile("te4j-bench-target", size);
    } catch (TransferException e) {
      err.println("memory file refused (" + e.getMessage() + "): serving anonymous memory");
      return new long[] {NativeMemory.mapAnonymous(size), -1};
    }
  }

  /** This engine's mapping of the cxl device, from its descriptor. */
  private static long cxlBase(Engine engine) {
    return ((Number) engine.localDescriptor().attributes().get("cxl_base_addr")).longValue();
  }

  private int runBoth() throws Exception {
    boolean createdDevice = checkCxlDevice(true, bufferSize);
    try {
      return runBothWithDevice();
    } finally {
      if (createdDevice) {
        Files.deleteIfExists(Path.of(cxlDevice));
      }
    }
  }

  private int runBothWithDevice() throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    for (String p : new String[] {"te4j.cuda.cudart", "te4j.cuda.driver"}) {
      if (System.getProperty(p) != null) {
        cmd.add("-D" + p + "=" + System.getProperty(p));
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.add("bench");
    cmd.add("--mode");
    cmd.add("target");
    cmd.add("--exit-on-stdin-eof");
    cmd.add("--protocol");
    cmd.add(protocol());
    cmd.add("--metadata-server");
    cmd.add(engineOptions.metadataServer);
    cmd.add("--buffer-size");
    cmd.add(Long.toString(bufferSize));
    if (engineOptions.localServerName != null) {
      cmd.add("--local-server-name");
      cmd.add(engineOptions.localServerName);
    }
    if (gpu() != null) {
      cmd.add("--gpu");
      cmd.add(Integer.toString(gpu()));
    }
    if (cxlDevice != null) {
      // Named explicitly: it may have come from this process's properties, not the environment.
      cmd.add("--cxl-device");
      cmd.add(cxlDevice);
    }
    Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    targetPid = child.pid();
    try {
      BufferedReader r = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String segment = r.readLine();
      if (segment == null || segment.isBlank()) {
        err.println("the target process did not start");
        return 1;
      }
      return runInitiator(segment.trim(), baselines());
    } finally {
      child.getOutputStream().close();
      if (!child.waitFor(10, TimeUnit.SECONDS)) {
        child.destroyForcibly();
        child.waitFor(10, TimeUnit.SECONDS); // the device file is deleted only after it is gone
      }
    }
  }

  private int runInitiator(String segment, List<String> baselines) throws Exception {
    TransferOpcode op = opcode(operation);
    List<Long> blocks = blockSizes();
    long footprint = Collections.max(blocks) * batchSize * threads;
    long buffer = bufferSize;
    List<BenchDriver.Outcome> outcomes = new ArrayList<>();
    long verified = -1;
    long anonymous = 0;
    long gpuLocal = 0;
    Engine engine = startEngine();
    MetricsPort metrics = null;
    HeldConnections held = null;
    try {
      metrics = MetricsPort.startIfAsked(metricsPort, "127.0.0.1", err);
      if (metrics != null) {
        metrics.bind(engine);
      }
      long local;
      if (cxlDevice != null) {
        // A cxl engine publishes only memory inside the device, and managed arenas are
        // remote-accessible: the source/destination is plain memory registered local-only.
        anonymous = NativeMemory.mapAnonymous(buffer);
        engine.register(anonymous, buffer, ManagedMemory.LOCATION, false);
        local = anonymous;
      } else if (gpu() != null) {
        gpuLocal = GpuMemory.allocate(gpu(), buffer, (byte) 0x5a);
        engine.register(gpuLocal, buffer, "cuda:" + gpu(), false);
        local = gpuLocal;
      } else {
        local = engine.allocate(buffer).address(); // freed when the engine closes
      }
      if (gpuLocal == 0) {
        // Touched once, so a write copies real memory rather than the kernel's shared zero page.
        NativeMemory.fill(local, buffer, (byte) 0x5a);
      }
      if (segmentFile != null) {
        NvmeofCommand.publishBenchSegment(engine, segmentFile, footprint);
      }
      var buffers = engine.segment(segment).buffers();
      if (buffers.isEmpty() && segmentFile == null) {
        err.println("segment " + segment + " has no buffer");
        return 1;
      }
      // With cxl the address is a device offset, and 0 is a valid one.
      long remote = buffers.isEmpty() ? 0 : buffers.get(0).address();
      if (holdConnections > 0) {
        held = HeldConnections.open(engine.segment(segment), targetPid, holdConnections, err);
      }
      for (long block : blocks) {
        if (sweep != null) {
          err.println("block size " + SweepReport.sizeName(block) + ":");
        }
        BenchDriver.Outcome r = new BenchDriver(new BenchDriver.Load(engine, segment, protocol(),
            op, local, remote, block, batchSize, threads, duration, reportInterval, stopOnError),
            err).run();
        outcomes.add(r);
        if (r.stoppedOnError()) {
          break;
        }
      }
      if (verify) {
        verified = RoundTrip.verify(engine, segment, protocol(), local, remote, blocks.get(0),
            footprint, err);
      }
    } finally {
      if (held != null) {
        held.close();
      }
      if (metrics != null) {
        metrics.close();
      }
      engine.close();
      if (anonymous != 0) {
        NativeMemory.unmap(anonymous, buffer); // after close: no copy can touch it any more
      }
      if (gpuLocal != 0) {
        GpuMemory.free(gpuLocal);
      }
    }
    // Measured with the engine closed, so nothing of it runs beside them.
    List<ObjectNode> results = new ArrayList<>();
    boolean failed = verify && verified < 0;
    for (int i = 0; i < outcomes.size(); i++) {
      BenchDriver.Outcome r = outcomes.get(i);
      ObjectNode json = BenchReport.toJson(r, protocol(), op, blocks.get(i), batchSize,
          threads);
      if (cxlDevice != null) {
        json.put("cxl_device", cxlDevice);
      }
      if (verify) {
        json.put("verified", verified >= 0);
        json.put("verified_bytes", Math.max(0, verified));
      }
      if (held != null) {
        json.put("held_connections", held.count());
        json.put("target_threads_before", held.threadsBefore);
        json.put("target_threads_after", held.threadsAfter);
        json.put("target_rss_kib_before", held.residentKbBefore);
        json.put("target_rss_kib_after", held.residentKbAfter);
      }
      measureBaselines(json, baselines, op, blocks.get(i), r.gbps());
      results.add(json);
      failed |= r.errors() > 0;
    }
    if (sweep != null) {
      SweepReport report = new SweepReport(results, baselines);
      Files.writeString(chart, report.svg());
      if (this.json) {
        out.println(new ObjectMapper().writeValueAsString(report.json(chart)));
      } else {
        out.println(report.table());
        out.println("chart: " + chart.toAbsolutePath());
      }
    } else if (this.json) {
      out.println(new ObjectMapper().writeValueAsString(results.get(0)));
    } else {
      out.println(BenchReport.human(results.get(0)));
    }
    return failed ? 1 : 0;
  }

  private List<Long> blockSizes() {
    return sweep == null ? List.of(blockSize) : sweep;
  }

  /**
   * Measures each baseline for one block size and puts its GB/s and the engine's ratio to it
   * into {@code json}; one that cannot run here (not installed, no native library) is said so.
   */
  private void measureBaselines(ObjectNode json, List<String> baselines, TransferOpcode op,
      long block, double engineGbps) throws Exception {
    for (String name : baselines) {
      Double gbps;
      switch (name) {
        case "socket":
          gbps = Baselines.socketCopy(op, block, duration);
          break;
        case "iperf3":
          gbps = Baselines.iperf3(duration, block, threads);
          break;
        case "memcpy":
          gbps = Baselines.memcpy(block, batchSize, threads, duration);
          break;
        case "cudamemcpy":
          gbps = gpu() == null ? null
              : GpuMemory.memcpyBaseline(gpu(), block, batchSize, threads, duration);
          break;
        case "fio":
          gbps = segmentFile == null ? null
              : Baselines.fio(segmentFile, op, block, batchSize, threads, duration);
          break;
        default:
          continue; // none
      }
      if (gbps == null || gbps <= 0) {
        json.put("baseline_" + name + "_skipped", name.equals("memcpy")
            ? "the native copy library is not loaded" : name.equals("cudamemcpy")
            ? "it measures GPU memory: give --gpu" : name + " is not installed or failed");
        continue;
      }
      json.put("baseline_" + name + "_gbps", BenchReport.round(gbps));
      json.put("ratio_to_" + name, BenchReport.round(engineGbps / gbps));
    }
  }

  private static TransferOpcode opcode(String s) {
    switch (s.toLowerCase(Locale.ROOT)) {
      case "read":
        return TransferOpcode.READ;
      case "write":
        return TransferOpcode.WRITE;
      default:
        throw new UsageException("--operation is read or write, not '" + s + "'");
    }
  }
}
