package io.te4j.metadata.etcd;

import io.etcd.jetcd.Client;
import io.grpc.ManagedChannel;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts gRPC's reconnect back-off short while etcd is unreachable. gRPC waits up to two minutes
 * between reconnects to a member that refused (1 s growing by 1.6x), so an etcd restarted after a
 * long outage would stay unused for that long. jetcd does not expose its channel, so it is reached
 * by reflection; when that fails (another jetcd version) this does nothing and gRPC's own back-off
 * applies.
 *
 * <p>Thread-safe; {@link #kick()} is cheap and rate-limited.
 */
final class ReconnectKicker {
  private static final Logger LOG = LoggerFactory.getLogger(ReconnectKicker.class);
  private static final long MIN_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  private final ManagedChannel channel;
  private final AtomicLong lastKick = new AtomicLong(System.nanoTime() - MIN_INTERVAL_NANOS);

  private ReconnectKicker(ManagedChannel channel) {
    this.channel = channel;
  }

  static ReconnectKicker of(Client client) {
    try {
      Field f = client.getClass().getDeclaredField("connectionManager");
      f.setAccessible(true);
      Object manager = f.get(client);
      Method m = manager.getClass().getDeclaredMethod("getChannel");
      m.setAccessible(true);
      return new ReconnectKicker((ManagedChannel) m.invoke(manager));
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("jetcd's channel is out of reach ({}); gRPC's reconnect back-off applies",
          e.toString());
      return new ReconnectKicker(null);
    }
  }

  /** True when kicks reach the channel. */
  boolean works() {
    return channel != null;
  }

  /** Asks gRPC to reconnect to members in back-off now (at most every 250 ms). */
  void kick() {
    if (channel == null) {
      return;
    }
    long now = System.nanoTime();
    long last = lastKick.get();
    if (now - last >= MIN_INTERVAL_NANOS && lastKick.compareAndSet(last, now)) {
      channel.resetConnectBackoff();
    }
  }
}
