package io.te4j.transport.tcp;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * One I/O thread of the data port: a selector over non-blocking connections, each served in turns
 * ({@link TargetConnection#serve}) with this thread's buffers. A connection belongs to one loop
 * for its life; other threads hand connections in and ask for them to be closed through queues,
 * so only this thread touches a connection's state, its memory and its buffers. Nothing is
 * allocated per request.
 */
final class DataPortLoop implements Runnable {
  private final TcpTarget target;
  private final Selector selector;
  private final ThreadBuffers buffers;
  private final Queue<TargetConnection> arriving = new ConcurrentLinkedQueue<>();
  private final Queue<TargetConnection> closing = new ConcurrentLinkedQueue<>();
  private final Consumer<SelectionKey> onReady = this::onReady;
  private volatile boolean stopped;
  Thread thread;

  DataPortLoop(TcpTarget target, MemoryViews memoryViews) throws IOException {
    this.target = target;
    this.selector = Selector.open();
    this.buffers = new ThreadBuffers(memoryViews);
  }

  /** Makes this loop the one that closes {@code c}, from whatever thread asks. */
  void own(TargetConnection c) {
    c.closer = () -> {
      closing.add(c);
      selector.wakeup();
    };
  }

  /** Serves {@code c} (a non-blocking socket it {@link #own}s) from now on; any thread. */
  void add(TargetConnection c) {
    arriving.add(c);
    selector.wakeup();
    if (stopped) { // the loop may have left already: nobody else will end it
      TcpTarget.closeQuietly(c.channel);
      target.forget(c);
    }
  }

  /** Stops the loop; it closes its connections on the way out. Does not wait. */
  void stop() {
    stopped = true;
    selector.wakeup();
  }

  @Override
  public void run() {
    try {
      while (!stopped) {
        selector.select(onReady);
        register();
        closeRequested();
      }
    } catch (IOException | RuntimeException | Error e) {
      if (!stopped) {
        TcpTarget.LOG.error("tcp target: I/O loop {} failed; its connections are closed",
            Thread.currentThread().getName(), e);
      }
    } finally {
      for (SelectionKey key : selector.keys()) {
        end((TargetConnection) key.attachment(), key);
      }
      for (TargetConnection c; (c = arriving.poll()) != null; ) {
        end(c, null);
      }
      for (TargetConnection c; (c = closing.poll()) != null; ) {
        end(c, null);
      }
      TcpTarget.closeQuietly(selector);
      buffers.clear();
    }
  }

  private void register() {
    for (TargetConnection c; (c = arriving.poll()) != null; ) {
      try {
        SelectionKey key = c.channel.register(selector, SelectionKey.OP_READ, c);
        onReady(key); // a first request may be there already
      } catch (ClosedChannelException e) {
        end(c, null);
      }
    }
  }

  private void closeRequested() {
    for (TargetConnection c; (c = closing.poll()) != null; ) {
      end(c, c.channel.keyFor(selector));
    }
  }

  private void onReady(SelectionKey key) {
    TargetConnection c = (TargetConnection) key.attachment();
    if (!key.isValid()) {
      end(c, key);
      return;
    }
    int want;
    try {
      want = c.serve(buffers);
    } catch (IOException | RuntimeException e) {
      target.ended(c, e);
      want = TargetConnection.DONE;
    }
    if (want == TargetConnection.DONE) {
      end(c, key);
    } else {
      key.interestOps(want == TargetConnection.WANT_READ ? SelectionKey.OP_READ
          : SelectionKey.OP_WRITE);
    }
  }

  /** Closes {@code c} and forgets it; safe to call twice. */
  private void end(TargetConnection c, SelectionKey key) {
    if (key != null) {
      key.cancel();
    }
    target.dispose(c, buffers);
  }
}
