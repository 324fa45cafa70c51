package io.te4j.transport.rdma;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.rdma.verbs.Verbs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every NIC's asynchronous events and acts on them (RDMA.md 2.6), one round per period: a
 * port or device error takes the NIC out of service (its endpoints retired, so posted work
 * flushes and goes to another NIC); a port back puts it in service after a delay; a fatal QP
 * retires its endpoint, which the next transfer rebuilds; a GID change re-reads the GID. It also retires passive endpoints whose
 * peer never sent the ready-ACK.
 */
final class AsyncEvents implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(AsyncEvents.class);

  private final List<Nic> nics;
  private final Verbs verbs;
  private final long reactivateDelayNanos;
  private final long readyAckTimeoutNanos;
  private final ByteBuffer element = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
  private final long elementAddress = NativeMemory.addressOf(element);

  AsyncEvents(List<Nic> nics, Verbs verbs, long reactivateDelayNanos, long readyAckTimeoutNanos) {
    this.nics = nics;
    this.verbs = verbs;
    this.reactivateDelayNanos = reactivateDelayNanos;
    this.readyAckTimeoutNanos = readyAckTimeoutNanos;
  }

  @Override
  public void run() {
    for (Nic nic : nics) {
      for (int type; (type = verbs.nextAsyncEvent(nic.context, elementAddress)) >= 0; ) {
        handle(nic, type, element.getLong(0));
      }
      long now = System.nanoTime();
      for (Endpoint e : nic.endpoints.values()) {
        if (e.state() == Endpoint.State.WAIT_READY_ACK
            && now - e.waitingSinceNanos > readyAckTimeoutNanos) {
          LOG.warn("{}: no ready-ACK within {} ms; retiring it", e, readyAckTimeoutNanos / 1_000_000);
          e.retire();
        }
      }
      long at = nic.reactivateAtNanos;
      if (!nic.active && at != 0 && System.nanoTime() - at >= 0) {
        nic.reactivateAtNanos = 0;
        nic.active = true;
        LOG.info("{} takes work again", nic);
      }
    }
  }

  private void handle(Nic nic, int type, long element) {
    switch (type) {
      case EVENT_PORT_ERR:
      case EVENT_DEVICE_FATAL:
      case EVENT_CQ_ERR:
        LOG.warn("{}: async event {} ({}); its work moves to the other NICs", nic, type,
            type == EVENT_PORT_ERR ? "port down" : type == EVENT_CQ_ERR ? "CQ error" : "device fatal");
        nic.deactivate();
        break;
      case EVENT_PORT_ACTIVE:
        LOG.info("{}: port active again; back in service in {} ms", nic, reactivateDelayNanos / 1_000_000);
        if (!nic.active) {
          nic.reactivateAtNanos = System.nanoTime() + reactivateDelayNanos;
        }
        break;
      case EVENT_QP_FATAL:
        Endpoint e = nic.endpointOfQp((int) element);
        LOG.warn("{}: QP {} fatal; retiring {}", nic, element, e);
        if (e != null) {
          e.retire();
        }
        break;
      case EVENT_GID_CHANGE:
        boolean changed = nic.reprobeGid();
        LOG.info("{}: GID table changed; GID in use {}", nic, changed ? "is now "
            + Gids.format(nic.gid) + " (endpoints retired)" : "unchanged");
        break;
      default:
        LOG.info("{}: async event {} (element {})", nic, type, element);
    }
  }
}
