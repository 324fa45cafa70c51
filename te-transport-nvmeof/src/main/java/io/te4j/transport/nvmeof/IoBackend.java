package io.te4j.transport.nvmeof;

import io.te4j.api.spi.Backpressure;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.inflight.InFlightTable;
import java.util.concurrent.locks.LockSupport;

/** How {@link NvmeofTransport} moves bytes: io_uring ({@link UringBackend}) or FileChannel. */
interface IoBackend {
  /** For logs: which backend, with its settings. */
  String describe();

  /**
   * Opens {@code file} for this backend.
   *
   * @throws SliceFailure when it cannot be opened
   */
  void open(LocalFile file);

  /** Closes what {@link #open} opened; quiet. */
  void close(LocalFile file);

  /**
   * Starts one slice whose range lies inside {@code files} (checked by the caller); takes over
   * the caller's reference on {@code files} and ends the slice exactly once. Never blocks on I/O.
   */
  void submit(TransferSlice slice, SegmentFiles files);

  /**
   * Returns once no I/O of this backend reads or writes {@code region} (the engine has already
   * dropped it from its registry), waiting at most about {@code timeoutNanos} plus a cancel grace.
   */
  void awaitIdle(MemoryRegion region, long timeoutNanos);

  /** I/Os issued with O_DIRECT so far. */
  long directIos();

  /** I/Os issued through the page cache so far. */
  long bufferedIos();

  /** Fails everything in flight promptly and stops the backend's threads. */
  void close();

  /** How long a submitter waiting for a free slot sleeps between tries. */
  long SLOT_WAIT_NANOS = 20_000;

  /**
   * A ticket of {@code table} for {@code slice}. A full table makes an application thread wait for
   * a slot until the slice's deadline ({@link Backpressure}); when none frees up in time, or on a
   * transport thread at once, NONE after failing the slice (TRANSFER_TIMEOUT, or
   * TOO_MANY_REQUESTS) and releasing the caller's reference on {@code files}.
   */
  static long claimOrRefuse(InFlightTable table, TransferSlice slice, SegmentFiles files) {
    long t = table.claim(slice);
    while (t == InFlightTable.NONE && Backpressure.mayWait()
        && System.nanoTime() - slice.deadlineNanos() < 0) {
      LockSupport.parkNanos(SLOT_WAIT_NANOS); // slots free as I/Os complete: no signal to wait on
      t = table.claim(slice);
    }
    if (t == InFlightTable.NONE) {
      files.release();
      Backpressure.failNoRoom(slice, "the " + table.capacity() + " nvmeof slots ("
          + NvmeofTransport.QUEUE_DEPTH_SETTING + ")");
    }
    return t;
  }
}
