package io.te4j.metadata.zk;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.Setting;
import java.util.function.Function;

/**
 * The settings of a {@code zk://} store, concluded once when it is created. Each is read through
 * {@link MetadataStoreContext#setting} (an engine builder's setting, else the system property, else
 * the environment variable of the same name).
 *
 * @param sessionTimeoutMs {@value #SESSION_TIMEOUT_MS}: the ZooKeeper session timeout asked for
 *     (the server clamps it to its own bounds); a crashed engine's nodes vanish about this long
 *     after it died
 * @param connectionTimeoutMs {@value #CONNECTION_TIMEOUT_MS}: how long start-up waits for the first
 *     connection (never longer than the operation timeout) and how long Curator lets one operation
 *     wait for a connection
 * @param operationTimeoutNanos the engine's bound for one get, put or remove
 */
public record ZkConfig(int sessionTimeoutMs, int connectionTimeoutMs, long operationTimeoutNanos) {
  /** Setting: ZooKeeper session timeout in milliseconds. */
  public static final String SESSION_TIMEOUT_MS = "te4j.zk.sessionTimeoutMs";
  /** Default of {@link #SESSION_TIMEOUT_MS}. */
  public static final int DEFAULT_SESSION_TIMEOUT_MS = 10_000;
  /** Setting: connection timeout in milliseconds. */
  public static final String CONNECTION_TIMEOUT_MS = "te4j.zk.connectionTimeoutMs";
  /** Default of {@link #CONNECTION_TIMEOUT_MS}, or the session timeout when that is shorter. */
  public static final int DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;

  static final Setting<Integer> SESSION_TIMEOUT = Setting.integer(SESSION_TIMEOUT_MS,
      DEFAULT_SESSION_TIMEOUT_MS, 1, Integer.MAX_VALUE,
      "ZooKeeper session timeout, ms: an engine's nodes vanish this long after it dies");
  static final Setting<Integer> CONNECTION_TIMEOUT = Setting.integer(CONNECTION_TIMEOUT_MS,
      DEFAULT_CONNECTION_TIMEOUT_MS, 1, Integer.MAX_VALUE, "ZooKeeper connection timeout, ms")
      .defaultShownAs("5000, at most the session timeout");
  /** What {@link ZkMetadataStoreProvider#settings()} declares. */
  static final java.util.List<Setting<?>> SETTINGS =
      java.util.List.of(SESSION_TIMEOUT, CONNECTION_TIMEOUT);

  /**
   * Reads the settings.
   *
   * @throws TransferException INVALID_CONFIGURATION naming a setting that is not a positive integer
   */
  public static ZkConfig from(MetadataStoreContext context) {
    return from(context::setting, context.operationTimeoutNanos());
  }

  static ZkConfig from(Function<String, String> settings, long operationTimeoutNanos) {
    if (operationTimeoutNanos <= 0) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "operation timeout must be positive: " + operationTimeoutNanos + " ns");
    }
    int session = SESSION_TIMEOUT.valueIn(settings::apply);
    // Unset, the connection timeout follows a shorter session timeout (Curator warns otherwise).
    int connection = CONNECTION_TIMEOUT.rawIn(settings::apply) == null
        ? Math.min(DEFAULT_CONNECTION_TIMEOUT_MS, session)
        : CONNECTION_TIMEOUT.valueIn(settings::apply);
    return new ZkConfig(session, connection, operationTimeoutNanos);
  }

  /** How long start-up waits for the ensemble: the connection timeout, capped by the operation's. */
  public long startupWaitMillis() {
    return Math.max(1, Math.min(connectionTimeoutMs, operationTimeoutNanos / 1_000_000));
  }
}
