package io.te4j.cli;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The load of {@code te bench}'s initiator: threads that each repeat one batch until the run
 * ends, and a progress line per interval (GB/s and transfers/s of that interval). When the peer
 * fails, a person gets one line when it stops answering and one when it answers again; failed
 * batches are counted and the run goes on (or ends at the first one with {@code stop-on-error}).
 * A target restarted under the same name may publish its buffer at another address: the requests
 * follow its descriptor.
 */
final class BenchDriver {
  /** A failed thread waits this long before it tries again: no spinning on a dead peer. */
  private static final long RETRY_PAUSE_MILLIS = 50;

  /** What one run moves and how. */
  record Load(Engine engine, String segment, String protocol, TransferOpcode op, long local,
      long remote, long block, int batchSize, int threads, int seconds, int reportInterval,
      boolean stopOnError) {}

  /** What a run measured. */
  record Outcome(long bytes, long transfers, long errors, double seconds,
      LatencyHistogram latency, int outages, boolean stoppedOnError) {
    double gbps() {
      return bytes / seconds / 1e9;
    }
  }

  private final Load load;
  private final PrintStream err;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicBoolean stoppedOnError = new AtomicBoolean();
  private final LongAdder bytes = new LongAdder();
  private final LongAdder transfers = new LongAdder();
  private final LongAdder errors = new LongAdder();
  /** Where the target's buffer starts now (it moves when the target restarts). */
  private volatile long remoteBase;
  private volatile boolean peerDown;
  private long downSince;
  private long failedWhileDown;
  private int outages;
  private long start;

  BenchDriver(Load load, PrintStream err) {
    this.load = load;
    this.err = err;
    this.remoteBase = load.remote();
  }

  Outcome run() throws InterruptedException {
    LatencyHistogram[] hist = new LatencyHistogram[load.threads()];
    Thread[] workers = new Thread[load.threads()];
    CountDownLatch started = new CountDownLatch(load.threads());
    start = System.nanoTime();
    for (int t = 0; t < workers.length; t++) {
      LatencyHistogram h = hist[t] = new LatencyHistogram();
      int thread = t;
      workers[t] = new Thread(() -> {
        started.countDown();
        repeat(thread, h);
      }, "bench-" + t);
      workers[t].start();
    }
    started.await();
    start = System.nanoTime();
    long lastBytes = 0;
    long lastTransfers = 0;
    int interval = Math.max(1, load.reportInterval());
    for (int s = 1; s <= load.seconds() && !stop.get(); s++) {
      Thread.sleep(1000);
      if (s % interval == 0) {
        long nowBytes = bytes.sum();
        long nowTransfers = transfers.sum();
        synchronized (this) {
          err.printf(Locale.ROOT, "\r[%3d s] %7.3f GB/s  %9d transfers/s  %d errors   ", s,
              (nowBytes - lastBytes) / 1e9 / interval, (nowTransfers - lastTransfers) / interval,
              errors.sum());
        }
        lastBytes = nowBytes;
        lastTransfers = nowTransfers;
      }
    }
    stop.set(true);
    for (Thread w : workers) {
      w.join();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    err.println();
    LatencyHistogram all = new LatencyHistogram();
    for (LatencyHistogram h : hist) {
      all.add(h);
    }
    synchronized (this) {
      return new Outcome(bytes.sum(), transfers.sum(), errors.sum(), elapsed, all, outages,
          stoppedOnError.get());
    }
  }

  /** One thread's loop: its own slice of both buffers, one batch at a time. */
  private void repeat(int thread, LatencyHistogram h) {
    long offset = (long) thread * load.block() * load.batchSize();
    long base = -1;
    List<TransferRequest> requests = null;
    while (!stop.get()) {
      if (base != remoteBase) {
        base = remoteBase;
        requests = requests(load.local() + offset, base + offset);
      }
      long t0 = System.nanoTime();
      String failure = attempt(requests);
      if (failure == null) {
        h.record(System.nanoTime() - t0);
        bytes.add(load.block() * load.batchSize());
        transfers.add(load.batchSize());
        if (peerDown) {
          peerAnswers();
        }
        continue;
      }
      errors.increment();
      peerFails(failure);
      if (load.stopOnError()) {
        stoppedOnError.set(true);
        stop.set(true);
        return;
      }
      followTarget();
      try {
        Thread.sleep(RETRY_PAUSE_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Submits and waits for one batch: null when it completed, else why not. */
  private String attempt(List<TransferRequest> requests) {
    Batch b = null;
    try {
      // The chosen protocol is pinned: a same-host peer would otherwise go through shm.
      b = load.engine().submit(load.segment(), requests, load.protocol());
      TransferState s = load.engine().await(b);
      return s == TransferState.COMPLETED ? null
          : s + " (" + b.errorCode() + "): " + b.errorMessage();
    } catch (RuntimeException e) {
      return e.toString();
    } finally {
      if (b != null) {
        try {
          load.engine().freeBatch(b.id());
        } catch (RuntimeException e) {
          // an unsettled batch: the engine keeps it until its transport lets go
        }
      }
    }
  }

  private List<TransferRequest> requests(long local, long remote) {
    List<TransferRequest> r = new ArrayList<>(load.batchSize());
    for (int i = 0; i < load.batchSize(); i++) {
      r.add(new TransferRequest(load.op(), local + i * load.block(), remote + i * load.block(),
          load.block()));
    }
    return r;
  }

  /** Looks the target up again: a restarted one may serve its buffer at another address. */
  private void followTarget() {
    try {
      List<BufferDescriptor> buffers = load.engine().refreshSegment(load.segment()).buffers();
      if (!buffers.isEmpty()) {
        remoteBase = buffers.get(0).address();
      }
    } catch (TransferException e) {
      // not published (yet): the next failure looks again
    }
  }

  private synchronized void peerFails(String why) {
    if (peerDown) {
      failedWhileDown++;
      return;
    }
    peerDown = true;
    outages++;
    downSince = System.nanoTime();
    failedWhileDown = 1;
    err.printf(Locale.ROOT, "\r[%5.1f s] %s stopped answering: %s%n", seconds(downSince),
        load.segment(), why);
  }

  private synchronized void peerAnswers() {
    if (!peerDown) {
      return;
    }
    peerDown = false;
    long now = System.nanoTime();
    err.printf(Locale.ROOT, "\r[%5.1f s] %s answers again after %.1f s (%d failed batches)%n",
        seconds(now), load.segment(), (now - downSince) / 1e9, failedWhileDown);
  }

  private double seconds(long nanoTime) {
    return (nanoTime - start) / 1e9;
  }
}
