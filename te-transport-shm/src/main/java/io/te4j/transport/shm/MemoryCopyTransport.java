package io.te4j.transport.shm;

import io.te4j.api.ErrorCode;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.inflight.InFlightTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the shm and cxl transports share: slices are copied on the submitting thread, a batch's
 * copies together in one native call ({@link CopyBatch}), and unregistering memory waits for the
 * copies touching it (pinned slots of an {@link InFlightTable}). A subclass checks each slice and stages its copy ({@link
 * #stage}); the slices are finished before {@link #submit}/{@link #submitAll} return.
 */
public abstract class MemoryCopyTransport implements Transport {
  /** Threads that may copy at once (each pins one slot of the table). */
  static final int COPYING_THREADS = 1024;
  private static final Logger LOG = LoggerFactory.getLogger(MemoryCopyTransport.class);

  protected final TransportContext context;
  /** Threads copying publish their local range here (see {@link InFlightTable#enter}). */
  final InFlightTable inFlight = new InFlightTable(COPYING_THREADS);
  protected volatile boolean closed;
  private final java.util.function.BooleanSupplier isClosed = () -> this.closed;

  protected MemoryCopyTransport(TransportContext context) {
    this.context = context;
  }

  /**
   * Checks {@code slice}; stages its copy in {@code batch}, moves it some other way, or fails it.
   */
  protected abstract void stage(TransferSlice slice, CopyBatch batch);

  /** Counts the bytes a run of staged copies moved. */
  protected abstract void copied(long bytes);

  /** The error code of slices refused because the transport closed. */
  protected abstract ErrorCode closedCode();

  @Override
  public final void submit(TransferSlice slice) {
    CopyBatch batch = CopyBatch.acquire();
    try {
      stage(slice, batch);
      run(batch);
    } finally {
      batch.release();
    }
  }

  @Override
  public final void submitAll(TransferSlice[] slices, int count) {
    CopyBatch batch = CopyBatch.acquire();
    try {
      for (int i = 0; i < count; i++) {
        stage(slices[i], batch);
        if (batch.isFull()) {
          run(batch);
        }
      }
      run(batch);
    } finally {
      batch.release();
    }
  }

  private void run(CopyBatch batch) {
    if (!batch.isEmpty()) {
      copied(batch.run(inFlight, context.memory(), isClosed, closedCode(), name()));
    }
  }

  @Override
  public void unregistered(MemoryRegion region) {
    if (!inFlight.awaitRelease(region.address(), region.length(),
        System.nanoTime() + context.transferTimeoutNanos())) {
      LOG.warn("{}: a copy still touched 0x{} after the transfer timeout", name(),
          Long.toHexString(region.address()));
    }
  }

  /**
   * Refuses new copies and waits for running ones, at most a transfer timeout.
   *
   * @return false when copies still ran at the deadline
   */
  protected boolean closeAndQuiesce() {
    closed = true;
    return inFlight.awaitRelease(0, -1L, System.nanoTime() + context.transferTimeoutNanos());
  }
}
