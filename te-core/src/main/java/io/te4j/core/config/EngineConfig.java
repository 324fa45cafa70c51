package io.te4j.core.config;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.TransferException;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.Setting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The engine's configuration, concluded once: defaults filled in, values read from settings
 * (system properties and {@code MC_*} environment variables), cross-field rules checked. A
 * malformed value fails here, naming the variable, never later and never silently.
 */
public final class EngineConfig {
  /** Transfer deadline in seconds; default 30. */
  public static final String MC_TRANSFER_TIMEOUT = "MC_TRANSFER_TIMEOUT";
  /** Metadata connection string when the caller gives none. */
  public static final String MC_METADATA_SERVER = "MC_METADATA_SERVER";
  /** Bind the RPC port named in local_hostname instead of picking a free one. */
  public static final String MC_LEGACY_RPC_PORT_BINDING = "MC_LEGACY_RPC_PORT_BINDING";
  /** Address listening sockets bind to. */
  public static final String MC_TCP_BIND_ADDRESS = "MC_TCP_BIND_ADDRESS";
  /** File whose topology JSON replaces discovery. */
  public static final String MC_CUSTOM_TOPO_JSON = "MC_CUSTOM_TOPO_JSON";
  /** Log transfer metrics periodically. */
  public static final String MC_TE_METRIC = "MC_TE_METRIC";
  /** Seconds between metric reports; default 5. */
  public static final String MC_TE_METRIC_INTERVAL_SECONDS = "MC_TE_METRIC_INTERVAL_SECONDS";
  /** Lowest listening port; default 15000. */
  public static final String MC_MIN_RPC_PORT = "MC_MIN_RPC_PORT";
  /** Highest listening port; default 17000. */
  public static final String MC_MAX_RPC_PORT = "MC_MAX_RPC_PORT";
  /** Cluster id inserted in metadata keys. */
  public static final String MC_METADATA_CLUSTER_ID = "MC_METADATA_CLUSTER_ID";
  /** Largest handshake frame in bytes; default 1 MiB. */
  public static final String MC_HANDSHAKE_MAX_LENGTH = "MC_HANDSHAKE_MAX_LENGTH";

  /** The metadata string that selects peer-to-peer handshakes instead of a store. */
  public static final String P2P_HANDSHAKE = "P2PHANDSHAKE";
  /** {@code false} makes managed arenas anonymous memory instead of memory files. */
  public static final String SHAREABLE_MEMORY = "te4j.memory.shareable";

  static final Setting<Double> TRANSFER_TIMEOUT = Setting.seconds(MC_TRANSFER_TIMEOUT, 30,
      "deadline of every transfer, seconds (fractions allowed)");
  static final Setting<String> METADATA_SERVER = Setting.text(MC_METADATA_SERVER, P2P_HANDSHAKE,
      "P2PHANDSHAKE, etcd://h:p[,h:p], h:p, zk://h:p[/root] or http://h:p/metadata",
      "metadata when initialize is given none");
  static final Setting<Double> HANDSHAKE_CONNECT_TIMEOUT = Setting.seconds(
      "MC_HANDSHAKE_CONNECT_TIMEOUT", 5, "how long connecting to a peer's handshake port may take,"
          + " seconds");
  static final Setting<Boolean> LEGACY_RPC_PORT_BINDING = Setting.flag(
      MC_LEGACY_RPC_PORT_BINDING, false, "bind the handshake port named in local_hostname");
  static final Setting<String> TCP_BIND_ADDRESS = Setting.text(MC_TCP_BIND_ADDRESS, null,
      "host or IP", "address listening sockets bind to (default: all interfaces)");
  static final Setting<String> CUSTOM_TOPO_JSON = Setting.text(MC_CUSTOM_TOPO_JSON, null, "path",
      "file whose topology JSON replaces discovery");
  static final Setting<Boolean> TE_METRIC = Setting.flag(MC_TE_METRIC, false,
      "log throughput periodically");
  static final Setting<Integer> TE_METRIC_INTERVAL = Setting.integer(
      MC_TE_METRIC_INTERVAL_SECONDS, 5, 1, 86400, "seconds between throughput lines");
  static final Setting<Integer> MIN_RPC_PORT = Setting.integer(MC_MIN_RPC_PORT, 15000, 1, 65535,
      "lowest port of the handshake port and the transports' listening ports")
      .alias("MC_MIN_PRC_PORT");
  static final Setting<Integer> MAX_RPC_PORT = Setting.integer(MC_MAX_RPC_PORT, 17000, 1, 65535,
      "highest port of the handshake port and the transports' listening ports")
      .alias("MC_MAX_PRC_PORT");
  static final Setting<String> CLUSTER_ID = Setting.text(MC_METADATA_CLUSTER_ID, null,
      "name without '/'", "cluster id in metadata keys (mooncake/<id>/ram/...)");
  static final Setting<Integer> HANDSHAKE_MAX_LENGTH = Setting.integer(MC_HANDSHAKE_MAX_LENGTH,
      1 << 20, 64, 1 << 30, "largest handshake frame accepted, bytes");
  static final Setting<Integer> NOTIFY_MAX_QUEUED = Setting.integer("te4j.notify.maxQueued",
      4096, 1, 1 << 24, "received notifications held until drained; more are refused");
  static final Setting<Long> NOTIFY_MAX_QUEUED_BYTES = Setting.bytes("te4j.notify.maxQueuedBytes",
      16L << 20, 1, Long.MAX_VALUE, "bytes of received notifications held until drained; more"
          + " are refused");
  static final Setting<Boolean> SHAREABLE = Setting.flag(SHAREABLE_MEMORY, true,
      "managed buffers are memory files (memfd) that same-host peers map; false: anonymous"
          + " memory");
  static final Setting<String> AUTH_SECRET_FILE = Setting.text("te4j.auth.secretFile", null,
      "path", "file holding the cluster secret (16 bytes or more): every connection between te4j"
          + " engines, on the handshake and data ports, then authenticates both ends, and peers"
          + " that cannot are refused; unset: off (reference peers interoperate)");
  static final Setting<String> NATIVE_WORK_DIR = Setting.text("te4j.native.workdir", null,
      "path", "where native libraries are extracted from their JARs (system property;"
          + " default <java.io.tmpdir>/te4j-native-<user>)");

  /** The engine's own settings, in the order the documentation lists them. */
  public static final List<Setting<?>> SETTINGS = List.of(METADATA_SERVER, TRANSFER_TIMEOUT,
      MIN_RPC_PORT, MAX_RPC_PORT, LEGACY_RPC_PORT_BINDING, TCP_BIND_ADDRESS,
      HANDSHAKE_CONNECT_TIMEOUT, HANDSHAKE_MAX_LENGTH, NOTIFY_MAX_QUEUED, NOTIFY_MAX_QUEUED_BYTES, CLUSTER_ID,
      CUSTOM_TOPO_JSON, TE_METRIC, TE_METRIC_INTERVAL, SHAREABLE, AUTH_SECRET_FILE,
      NATIVE_WORK_DIR);

  private final String localHostname;
  private final String metadataServer;
  private final String protocol;
  private final String deviceNames;
  private final Duration transferTimeout;
  private final Duration handshakeConnectTimeout;
  private final boolean legacyRpcPortBinding;
  private final String bindAddress;
  private final String customTopologyPath;
  private final boolean metricsEnabled;
  private final Duration metricsInterval;
  private final int minPort;
  private final int maxPort;
  private final String clusterId;
  private final int handshakeMaxLength;
  private final int notifyMaxQueued;
  private final long notifyMaxQueuedBytes;
  private final boolean shareableMemory;
  private final PeerAuth peerAuth;
  private final Settings settings;

  private EngineConfig(Builder b, Settings s) {
    this.settings = s;
    this.localHostname = require(b.localHostname, "local_hostname");
    this.metadataServer = b.metadataServer != null ? b.metadataServer : METADATA_SERVER.valueIn(s);
    this.protocol = (b.protocol == null || b.protocol.isBlank() ? "tcp" : b.protocol.trim())
        .toLowerCase(Locale.ROOT);
    this.deviceNames = b.deviceNames == null ? "" : b.deviceNames.trim();
    this.transferTimeout = b.transferTimeout != null ? b.transferTimeout
        : Duration.ofMillis(Math.round(1000 * TRANSFER_TIMEOUT.valueIn(s)));
    this.handshakeConnectTimeout =
        Duration.ofMillis(Math.round(1000 * HANDSHAKE_CONNECT_TIMEOUT.valueIn(s)));
    this.legacyRpcPortBinding = LEGACY_RPC_PORT_BINDING.valueIn(s);
    this.bindAddress = TCP_BIND_ADDRESS.valueIn(s);
    this.customTopologyPath = CUSTOM_TOPO_JSON.valueIn(s);
    this.metricsEnabled = TE_METRIC.valueIn(s);
    this.metricsInterval = Duration.ofSeconds(TE_METRIC_INTERVAL.valueIn(s));
    this.minPort = MIN_RPC_PORT.valueIn(s);
    this.maxPort = MAX_RPC_PORT.valueIn(s);
    if (minPort > maxPort) {
      throw invalid(MC_MIN_RPC_PORT, minPort + " is above " + MC_MAX_RPC_PORT + "=" + maxPort);
    }
    this.clusterId = CLUSTER_ID.valueIn(s);
    this.handshakeMaxLength = HANDSHAKE_MAX_LENGTH.valueIn(s);
    this.notifyMaxQueued = NOTIFY_MAX_QUEUED.valueIn(s);
    this.notifyMaxQueuedBytes = NOTIFY_MAX_QUEUED_BYTES.valueIn(s);
    this.shareableMemory = SHAREABLE.valueIn(s);
    this.peerAuth = peerAuth(b.clusterSecret, AUTH_SECRET_FILE.valueIn(s));
    if (metadataServer.isBlank()) {
      throw invalid("metadata_server", "empty");
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code host[:port]} this engine was started with. */
  public String localHostname() {
    return localHostname;
  }

  /** The host part of {@link #localHostname()}. */
  public String localHost() {
    HostPort hp = HostPort.tryParse(localHostname);
    return hp == null ? localHostname : hp.host();
  }

  /** The port part of {@link #localHostname()}, or 0 when it names none. */
  public int localHostnamePort() {
    HostPort hp = HostPort.tryParse(localHostname);
    return hp == null ? 0 : hp.port();
  }

  /** The metadata connection string: {@code P2PHANDSHAKE}, {@code etcd://...}, ... */
  public String metadataServer() {
    return metadataServer;
  }

  /** True in peer-to-peer handshake mode (no metadata store). */
  public boolean isP2p() {
    return P2P_HANDSHAKE.equalsIgnoreCase(metadataServer);
  }

  /** Lower-cased protocol name: {@code tcp}, {@code rdma}, ..., or {@code auto}. */
  public String protocol() {
    return protocol;
  }

  /** Comma-separated device filter; empty for all devices. */
  public String deviceNames() {
    return deviceNames;
  }

  public Duration transferTimeout() {
    return transferTimeout;
  }

  /** How long connecting to a peer's handshake port may take (MC_HANDSHAKE_CONNECT_TIMEOUT). */
  public Duration handshakeConnectTimeout() {
    return handshakeConnectTimeout;
  }

  public boolean legacyRpcPortBinding() {
    return legacyRpcPortBinding;
  }

  /** Null for all interfaces. */
  public String bindAddress() {
    return bindAddress;
  }

  /** Null when topology is discovered. */
  public String customTopologyPath() {
    return customTopologyPath;
  }

  public boolean metricsEnabled() {
    return metricsEnabled;
  }

  public Duration metricsInterval() {
    return metricsInterval;
  }

  public int minPort() {
    return minPort;
  }

  public int maxPort() {
    return maxPort;
  }

  /** Null when none. */
  public String clusterId() {
    return clusterId;
  }

  public int handshakeMaxLength() {
    return handshakeMaxLength;
  }

  /** Received notifications held until drained; a peer's notification beyond them is refused. */
  public int notifyMaxQueued() {
    return notifyMaxQueued;
  }

  /** Bytes (names and messages) of received notifications held until drained. */
  public long notifyMaxQueuedBytes() {
    return notifyMaxQueuedBytes;
  }

  /** Whether managed buffers are memory files same-host peers can map. */
  public boolean shareableMemory() {
    return shareableMemory;
  }

  /** Every other setting, for transports and stores. */
  public Settings settings() {
    return settings;
  }

  /**
   * How this engine authenticates peers: with the cluster secret of the builder or of {@code
   * te4j.auth.secretFile}, else {@link PeerAuth#NONE}.
   */
  public PeerAuth peerAuth() {
    return peerAuth;
  }

  private static PeerAuth peerAuth(byte[] secret, String secretFile) {
    if (secret == null && secretFile != null) {
      try {
        secret = Files.readAllBytes(Path.of(secretFile));
      } catch (IOException | RuntimeException e) {
        throw invalid(AUTH_SECRET_FILE.name(), "cannot read " + secretFile + ": " + e);
      }
      int end = secret.length; // a trailing newline is the editor's, not the secret's
      while (end > 0 && (secret[end - 1] == '\n' || secret[end - 1] == '\r')) {
        end--;
      }
      secret = Arrays.copyOf(secret, end);
    }
    if (secret == null) {
      return PeerAuth.NONE;
    }
    try {
      return PeerAuth.withSecret(secret);
    } catch (IllegalArgumentException e) {
      throw invalid(AUTH_SECRET_FILE.name(), e.getMessage());
    }
  }

  private static String require(String v, String what) {
    if (v == null || v.isBlank()) {
      throw invalid(what, "must be given");
    }
    return v.trim();
  }


  static TransferException invalid(String name, String why) {
    return new TransferException(ErrorCode.INVALID_CONFIGURATION, name + ": " + why);
  }




  /** Collects the caller's choices; {@link #build()} concludes them. */
  public static final class Builder {
    private String localHostname;
    private String metadataServer;
    private String protocol;
    private String deviceNames;
    private Duration transferTimeout;
    private final Map<String, String> explicit = new LinkedHashMap<>();
    private boolean isolated;
    private byte[] clusterSecret;

    private Builder() {}

    /** {@code host[:port]} peers use to reach this engine (required). */
    public Builder localHostname(String v) {
      this.localHostname = v;
      return this;
    }

    /** Metadata connection string; default MC_METADATA_SERVER, else P2PHANDSHAKE. */
    public Builder metadataServer(String v) {
      this.metadataServer = v;
      return this;
    }

    /**
     * {@code tcp} (default), {@code rdma}, {@code cxl}, {@code nvmeof}, {@code cuda}, a
     * comma-separated list of them (the first is the primary), or {@code auto} (every available).
     */
    public Builder protocol(String v) {
      this.protocol = v;
      return this;
    }

    /** Comma-separated device filter. */
    public Builder deviceNames(String v) {
      this.deviceNames = v;
      return this;
    }

    /** Overrides MC_TRANSFER_TIMEOUT. */
    public Builder transferTimeout(Duration v) {
      if (v == null || v.isZero() || v.isNegative()) {
        throw invalid("transferTimeout", "must be positive");
      }
      this.transferTimeout = v;
      return this;
    }

    /** Sets any named setting ({@code MC_*}, {@code te4j.*}); wins over properties and environment. */
    public Builder setting(String name, String value) {
      explicit.put(name, value);
      return this;
    }

    /**
     * The cluster secret (16 bytes or more, copied), instead of {@code te4j.auth.secretFile}:
     * every connection between te4j engines then authenticates both ends.
     */
    public Builder clusterSecret(byte[] secret) {
      this.clusterSecret = secret == null ? null : secret.clone();
      return this;
    }

    /** Ignore system properties and environment variables (tests). */
    public Builder isolated() {
      this.isolated = true;
      return this;
    }

    /** Concludes the configuration; throws INVALID_CONFIGURATION naming a bad value. */
    public EngineConfig build() {
      Settings s = isolated ? Settings.isolated(explicit) : Settings.withSystem(explicit);
      return new EngineConfig(this, s);
    }
  }
}
