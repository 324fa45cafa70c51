package io.te4j.core.transfer;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferState;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A group of requests ("entries") to one target, tracked as a whole and entry by entry. Its
 * slices finish on transport threads; the first failure decides the batch's final state, and each
 * entry keeps its own ({@link #state(int)}, {@link #errorCode(int)}), as the reference reports a
 * status per task. Thread-safe; each state changes once.
 *
 * <p>Cost: one bit per entry to mark it ended, set by the last of its slices with one atomic OR
 * (the batch ends when its last word of bits fills up: no separate slice count to decrement), a
 * counter per entry only when some entry was cut into several slices, and failure records only
 * when something fails.
 */
public final class Batch {
  private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final VarHandle COUNTS = MethodHandles.arrayElementVarHandle(int[].class);
  private static final VarHandle FIRST_ENDED;
  private static final VarHandle PENDING_WORDS;
  private static final VarHandle QUIESCENCE;
  /** {@link #quiescence}'s value once every slice is back, shared by all batches. */
  private static final CompletableFuture<Void> QUIET = CompletableFuture.completedFuture(null);

  static {
    try {
      FIRST_ENDED = MethodHandles.lookup().findVarHandle(Batch.class, "firstEnded", long.class);
      PENDING_WORDS = MethodHandles.lookup().findVarHandle(Batch.class, "pendingWords",
          int.class);
      QUIESCENCE = MethodHandles.lookup().findVarHandle(Batch.class, "quiescence",
          CompletableFuture.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final long id;
  private final String target;
  private final long deadlineNanos;
  private final int size;
  /** Words of {@link #ended} bits not yet full (a field, not an AtomicInteger: one object less). */
  @SuppressWarnings("unused") // accessed through PENDING_WORDS
  private volatile int pendingWords;
  /** Completed with the final state: the one place the state is kept. */
  private final CompletableFuture<TransferState> done = new CompletableFuture<>();
  /**
   * {@link #QUIET} once every slice is back from its transport (see {@link #isQuiescent()});
   * before, null, or the future someone waits on: made only when someone waits before the end,
   * so a batch that ends on its own allocates none.
   */
  @SuppressWarnings("unused") // accessed through QUIESCENCE
  private volatile CompletableFuture<Void> quiescence;
  /**
   * Entries ended: all their slices completed or failed (zero-length and rejected entries from
   * the start); an ended entry without a failure record completed. Up to 64 entries in {@link
   * #firstEnded} (no array per batch), more in this array.
   */
  private final long[] ended;
  @SuppressWarnings("unused") // accessed through FIRST_ENDED
  private volatile long firstEnded;
  /** Slices left per entry, for batches with an entry of several slices; else null. */
  private int[] slicesLeft;
  /** What failed; null until something does (one field for all of it: a batch stays small). */
  private volatile Failures failures;
  private volatile long bytes;
  private volatile SegmentDescriptor descriptor;
  private volatile boolean rejected;
  /** The transport that carries it, once chosen. */
  private volatile String transportName;
  /**
   * Where the batch adds its completed slices and bytes when its last slice is back (once per
   * batch, not per slice: a shared counter per slice costs more than the copy of a small one).
   */
  private TransferMetrics metrics;
  /** Slices cut for the entries that go (setup only). */
  private int sliceCount;
  /** Slices that failed and their bytes (guarded by the batch). */
  private int failedSlices;
  private long failedBytes;

  /** How one entry, or the batch as a whole, failed. */
  private record Failure(TransferState state, ErrorCode code, String message) {
    Failure {
      state = state == TransferState.TIMEOUT ? TransferState.TIMEOUT : TransferState.FAILED;
      code = code == null ? ErrorCode.TRANSFER_FAILED : code;
    }
  }

  /**
   * The first failure, which decides the batch's final state, and each entry's own (guarded by
   * the batch).
   */
  private static final class Failures {
    final Failure first;
    final Failure[] entries;

    Failures(Failure first, int size) {
      this.first = first;
      this.entries = new Failure[size];
    }
  }

  Batch(long id, String target, int size, long deadlineNanos) {
    this.id = id;
    this.target = target;
    this.size = size;
    this.deadlineNanos = deadlineNanos;
    this.ended = size > 64 ? new long[(size + 63) >>> 6] : null;
  }

  /** The handle the application holds: positive, never reused within an engine. */
  public long id() {
    return id;
  }

  /** The target segment name. */
  public String target() {
    return target;
  }

  /** The number of entries (requests). */
  public int size() {
    return size;
  }

  /** {@link System#nanoTime()} after which the batch has timed out. */
  public long deadlineNanos() {
    return deadlineNanos;
  }

  /** PENDING until every slice finished, then COMPLETED, FAILED or TIMEOUT. */
  public TransferState state() {
    return done.getNow(TransferState.PENDING);
  }

  /** Why the batch failed (its first failure), or null. */
  public ErrorCode errorCode() {
    Failures f = failures;
    return f == null ? null : f.first.code;
  }

  /** What went wrong first, or null. */
  public String errorMessage() {
    Failures f = failures;
    return f == null ? null : f.first.message;
  }

  /**
   * True when the batch failed as a whole before anything was handed to a transport: an unknown
   * target, no transport that reaches it, a closed engine, no requests.
   */
  public boolean isRejected() {
    return rejected;
  }

  /**
   * The state of entry {@code entry} (its index in the request list): PENDING while it runs,
   * COMPLETED when its bytes are in place, FAILED or TIMEOUT with its own {@link #errorCode(int)};
   * an entry cut short when the batch as a whole ended (its deadline, engine close) takes the
   * batch's state.
   *
   * @throws IndexOutOfBoundsException for an index outside the batch
   */
  public TransferState state(int entry) {
    java.util.Objects.checkIndex(entry, size);
    // The bit first: a failure is recorded before its entry's bit is set.
    boolean entryEnded = hasEnded(entry);
    Failure f = failureOf(entry);
    if (f != null) {
      return f.state;
    }
    return entryEnded ? TransferState.COMPLETED : state();
  }

  /** Why entry {@code entry} failed, or null when it did not (yet). */
  public ErrorCode errorCode(int entry) {
    java.util.Objects.checkIndex(entry, size);
    TransferState s = state(entry);
    Failure f = failureOf(entry);
    if (f != null) {
      return f.code;
    }
    return s.isTerminal() && s != TransferState.COMPLETED ? errorCode() : null;
  }

  /** What went wrong with entry {@code entry}, or null. */
  public String errorMessage(int entry) {
    java.util.Objects.checkIndex(entry, size);
    TransferState s = state(entry);
    Failure f = failureOf(entry);
    if (f != null) {
      return f.message;
    }
    return s.isTerminal() && s != TransferState.COMPLETED ? errorMessage() : null;
  }

  /** The target's descriptor the batch was sent with, or null when it was rejected before. */
  public SegmentDescriptor descriptor() {
    return descriptor;
  }

  void transportName(String name) {
    transportName = name;
  }

  /** The name of the transport that carries this batch, or null before one was chosen. */
  public String transportName() {
    return transportName;
  }

  void descriptor(SegmentDescriptor d) {
    this.descriptor = d;
  }

  /** Total bytes the batch moves. */
  public long bytes() {
    return bytes;
  }

  /** Completes with the final state; never completes exceptionally. */
  public CompletableFuture<TransferState> future() {
    return done;
  }

  /**
   * True once no transport holds a slice of this batch any more, so nothing (a late answer from a
   * peer, a NIC, a kernel queue) can still write or read the batch's local memory: only then may
   * the caller free or reuse it. A batch that ended on its own (every slice came back, completed
   * or failed) is quiescent when it ends; one ended early ({@link #abort}: its deadline passed with
   * a slice still out, the engine closed) becomes quiescent when its last slice comes back.
   */
  public boolean isQuiescent() {
    return QUIESCENCE.getVolatile(this) == QUIET;
  }

  /** Completes when the batch {@linkplain #isQuiescent() is quiescent}; never exceptionally. */
  public CompletionStage<Void> quiescence() {
    return quiescenceFuture().minimalCompletionStage();
  }

  /** The future that completes when the batch is quiescent, made on the first call before. */
  @SuppressWarnings("unchecked")
  private CompletableFuture<Void> quiescenceFuture() {
    CompletableFuture<Void> f = (CompletableFuture<Void>) QUIESCENCE.getVolatile(this);
    if (f != null) {
      return f;
    }
    CompletableFuture<Void> made = new CompletableFuture<>();
    CompletableFuture<Void> witness =
        (CompletableFuture<Void>) QUIESCENCE.compareAndExchange(this, null, made);
    return witness == null ? made : witness;
  }

  /** Every slice is back: publishes {@link #QUIET} and wakes whoever waits. */
  @SuppressWarnings("unchecked")
  private void becomeQuiescent() {
    CompletableFuture<Void> waited = (CompletableFuture<Void>) QUIESCENCE.getAndSet(this, QUIET);
    if (waited != null) {
      waited.complete(null);
    }
  }

  /**
   * Waits until the batch {@linkplain #isQuiescent() is quiescent}, at most {@code timeoutNanos}.
   *
   * @return true when it is
   */
  public boolean awaitQuiescent(long timeoutNanos) throws InterruptedException {
    try {
      quiescenceFuture().get(Math.max(0, timeoutNanos), java.util.concurrent.TimeUnit.NANOSECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("quiescence never fails", e);
    }
  }

  /**
   * The failure as an exception naming the first failed entry, or null when the batch completed
   * or is still running.
   */
  public TransferException failure() {
    TransferState s = state();
    Failures f = failures;
    if (s == TransferState.COMPLETED || s == TransferState.PENDING || f == null) {
      return null;
    }
    int first = firstFailedEntry();
    return new TransferException(f.first.code,
        "batch " + id + " to " + target + " " + s
            + (first < 0 || size == 1 ? "" : " (entry " + first + " of " + size + ")") + ": "
            + f.first.message);
  }

  /** The index of the first entry that did not complete, or -1. */
  public int firstFailedEntry() {
    for (int i = 0; i < size; i++) {
      TransferState s = state(i);
      if (s != TransferState.COMPLETED && s != TransferState.PENDING) {
        return i;
      }
    }
    return -1;
  }

  // ---------------------------------------------------------------- set up by BatchTable

  /** Adds the batch's completed slices and bytes to {@code m} when its last slice is back. */
  void countInto(TransferMetrics m) {
    this.metrics = m;
  }

  /** Entry {@code entry} will be cut into {@code slices} slices (called before any is handed out). */
  void expectEntry(int entry, int slices) {
    sliceCount += slices;
    if (slices == 0) {
      setEndedBit(entry);
    } else if (slices > 1) {
      if (slicesLeft == null) {
        slicesLeft = new int[size];
        java.util.Arrays.fill(slicesLeft, 1);
      }
      slicesLeft[entry] = slices;
    }
  }

  /** Entry {@code entry} fails before any slice of it leaves. */
  void rejectEntry(int entry, ErrorCode code, String message) {
    recordFailure(entry, TransferState.FAILED, code, message);
    setEndedBit(entry);
  }

  /**
   * Setup is over: every entry was expected or rejected. Ends the batch when no slice will leave
   * (every entry was empty or rejected).
   */
  void expectSlices(long totalBytes) {
    this.bytes = totalBytes;
    int words = 0;
    for (int w = 0, n = (size + 63) >>> 6; w < n; w++) {
      if (word(w) != fullWord(w)) {
        words++;
      }
    }
    if (words == 0) {
      allSlicesBack();
    } else {
      PENDING_WORDS.setVolatile(this, words);
    }
  }

  /** Ends the whole batch before anything was sent: every entry fails with {@code code}. */
  void reject(ErrorCode code, String message) {
    rejected = true;
    for (int i = 0; i < size; i++) {
      recordFailure(i, TransferState.FAILED, code, message);
    }
    recordFirst(TransferState.FAILED, code, message);
    becomeQuiescent(); // nothing was handed out
    finish(TransferState.FAILED);
  }

  // ---------------------------------------------------------------- slices end

  void sliceCompleted(int entry) {
    int[] left = slicesLeft;
    if (left == null || (int) COUNTS.getAndAdd(left, entry, -1) == 1) {
      endEntry(entry);
    }
  }

  void sliceFailed(int entry, long length, TransferState sliceState, ErrorCode code,
      String message) {
    synchronized (this) {
      failedSlices++;
      failedBytes += length;
    }
    recordFailure(entry, sliceState, code, message); // before the bit: see state(int)
    int[] left = slicesLeft;
    if (left == null || (int) COUNTS.getAndAdd(left, entry, -1) == 1) {
      endEntry(entry);
    }
  }

  /**
   * Ends the batch now with {@code terminal} (timeout at the engine's deadline, engine closed),
   * whatever its slices still do; late slice results do not change its state, but the batch is
   * not {@linkplain #isQuiescent() quiescent} until the last of them came back.
   *
   * @return true when this call ended it
   */
  public boolean abort(TransferState terminal, ErrorCode code, String message) {
    recordFirst(terminal, code, message);
    return finish(terminal);
  }

  private synchronized void recordFailure(int entry, TransferState s, ErrorCode code,
      String message) {
    Failures f = recordFirst(s, code, message);
    if (f.entries[entry] == null) {
      f.entries[entry] = new Failure(s, code, message);
    }
  }

  /** The batch's failures, recording this one as the first when it is. */
  private synchronized Failures recordFirst(TransferState s, ErrorCode code, String message) {
    Failures f = failures;
    if (f == null) {
      f = new Failures(new Failure(s, code, message), size);
      failures = f;
    }
    return f;
  }

  private synchronized Failure failureOf(int entry) {
    Failures f = failures;
    return f == null ? null : f.entries[entry];
  }

  /** COMPLETED, or the state of the first failure. */
  private TransferState finalState() {
    Failures f = failures;
    return f == null ? TransferState.COMPLETED : f.first.state;
  }

  /** The last slice of {@code entry} ended: one atomic OR, and the batch ends with its last word. */
  private void endEntry(int entry) {
    long bit = 1L << (entry & 63);
    int w = entry >>> 6;
    long before = ended == null ? (long) FIRST_ENDED.getAndBitwiseOr(this, bit)
        : (long) BITS.getAndBitwiseOr(ended, w, bit);
    if ((before | bit) == fullWord(w) && (int) PENDING_WORDS.getAndAdd(this, -1) == 1) {
      allSlicesBack();
    }
  }

  /** Quiescent first: whoever sees the state a last slice decided also sees the memory free. */
  private void allSlicesBack() {
    TransferMetrics m = metrics;
    if (m != null) {
      synchronized (this) {
        m.slicesCompleted(sliceCount - failedSlices, bytes - failedBytes);
      }
    }
    becomeQuiescent();
    finish(finalState());
  }

  /** Marks an entry ended during setup, before {@link #expectSlices} counts the words. */
  private void setEndedBit(int entry) {
    long bit = 1L << (entry & 63);
    if (ended == null) {
      FIRST_ENDED.getAndBitwiseOr(this, bit);
    } else {
      BITS.getAndBitwiseOr(ended, entry >>> 6, bit);
    }
  }

  private long word(int w) {
    return ended == null ? (long) FIRST_ENDED.getVolatile(this) : (long) BITS.getVolatile(ended, w);
  }

  /** Word {@code w} with a bit for each of its entries. */
  private long fullWord(int w) {
    int entriesInWord = Math.min(64, size - (w << 6));
    return entriesInWord == 64 ? -1L : (1L << entriesInWord) - 1;
  }

  private boolean hasEnded(int entry) {
    return (word(entry >>> 6) & (1L << (entry & 63))) != 0;
  }

  private boolean finish(TransferState s) {
    return done.complete(s);
  }

  @Override
  public String toString() {
    return "Batch{" + id + " -> " + target + ", " + size + " entries, " + state() + "}";
  }
}
