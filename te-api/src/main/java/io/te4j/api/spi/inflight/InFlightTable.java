package io.te4j.api.spi.inflight;

import io.te4j.api.AddressRanges;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * What a transport holds in flight, and which local memory it touches: the one place where a
 * transport keeps the slices it owes an end, enforces their deadlines and lets an unregistration
 * wait for the memory to be let go. TCP's lanes, NVMe-oF's backends and the memory copies of shm
 * and cxl all use it; a third-party transport can too.
 *
 * <p><b>Slots and tickets.</b> A fixed number of slots, each FREE, ACTIVE (its slice is owed an
 * end), ZOMBIE (its slice was ended by someone else, a deadline or a close, but the holder may
 * still touch the memory: the slot stays held until the holder {@linkplain #release releases} it)
 * or TOUCHING (a thread's pinned slot, see {@link #enter}). {@link #claim} copies what the holder
 * needs of the slice into the slot, since the engine reuses slice objects once they ended, and
 * returns a <em>ticket</em>: the slot's incarnation and index in one {@code long}. Every later call
 * names the ticket, so a late end (a watchdog, a peer's late answer) can never end the slot's next
 * use: exactly one party ends each slice, with the {@linkplain TransferSlice#generation()
 * generation} it was claimed with.
 *
 * <p><b>Unregistration without locks on the data path.</b> A claim (and {@link #enter}) publishes
 * the local range with one volatile write; the holder then looks its range up in the registry
 * again. The engine drops a region from the registry before it calls {@code unregistered}, which
 * {@linkplain #awaitRelease waits} until no slot holds memory in it. Both sides write, then read,
 * volatile state, so either the holder sees the region gone or the waiter sees the slot.
 *
 * <p><b>Hot path.</b> No lock and no allocation: a claim is one compare-and-set on a free-slot
 * stack and one volatile write; an end, two compare-and-sets (the slot's state, the stack). Ending a slice happens after its slot
 * is free, so a completion callback that unregisters the memory never waits for itself.
 */
public final class InFlightTable {
  /** No ticket: the table was full. */
  public static final long NONE = -1;

  private static final int FREE = 0;
  private static final int ACTIVE = 1;
  private static final int ZOMBIE = 2;
  /** Pinned to a thread, not touching memory now. */
  private static final int PINNED = 3;
  /** Pinned to a thread that touches its published range now. */
  private static final int TOUCHING = 4;
  private static final int PHASE_BITS = 3;
  private static final int PHASE_MASK = (1 << PHASE_BITS) - 1;
  private static final int INCARNATION_MASK = 0x7fffffff & ~PHASE_MASK;
  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Slot.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
  private static final long AWAIT_PAUSE_MIN_NANOS = 20_000L;
  private static final long AWAIT_PAUSE_MAX_NANOS = 5_000_000L;

  private final int capacity;
  /**
   * One object per slot, its fields together: a slot handed from one thread to another moves one
   * or two cache lines, not one per field.
   */
  private final Slot[] slots;
  private final SlotStack free;
  /** One past the highest slot ever used: scans stop there (slots are reused LIFO). */
  private final AtomicInteger highWater = new AtomicInteger();
  private final ThreadLocal<int[]> pinnedSlot = ThreadLocal.withInitial(() -> new int[] {-1});

  /** A table of {@code capacity} slots. */
  public InFlightTable(int capacity) {
    if (capacity < 1 || capacity > (1 << 24)) {
      throw new IllegalArgumentException("capacity must be 1..16777216: " + capacity);
    }
    this.capacity = capacity;
    this.slots = new Slot[capacity];
    for (int i = 0; i < capacity; i++) {
      slots[i] = new Slot();
    }
    this.free = new SlotStack(capacity);
  }

  /** Slots in all. */
  public int capacity() {
    return capacity;
  }

  /** Slots held now (claimed, zombie or pinned); a scan, for tests and idle checks. */
  public int occupied() {
    int n = 0;
    for (int s = 0, high = highWater.get(); s < high; s++) {
      if (phase(s) != FREE) {
        n++;
      }
    }
    return n;
  }

  // ------------------------------------------------------------------------------ claiming

  /**
   * Takes a slot for {@code slice}: copies its opcode, local region, address and length, target
   * offset, deadline and generation, and publishes its local range. The caller then checks the
   * range is still registered and ends the ticket exactly once ({@link #complete}, {@link #fail}
   * or, after an {@link #abort}, {@link #release}).
   *
   * @return the ticket, or {@link #NONE} when every slot is held
   */
  public long claim(TransferSlice slice) {
    int slot = take();
    if (slot < 0) {
      return NONE;
    }
    slots[slot].slice = slice;
    slots[slot].generation = slice.generation();
    slots[slot].region = slice.localRegion();
    slots[slot].address = slice.localAddress();
    slots[slot].length = slice.length();
    slots[slot].targetOffset = slice.targetOffset();
    slots[slot].deadline = slice.deadlineNanos();
    slots[slot].read = slice.opcode() == TransferOpcode.READ;
    slots[slot].tag = 0;
    return publish(slot, ACTIVE);
  }

  /**
   * Takes a slot that holds {@code [address, address + length)} with no slice (memory a transport
   * touches for some other reason); give it back with {@link #release}.
   *
   * @return the ticket, or {@link #NONE} when every slot is held
   */
  public long claimRange(long address, long length) {
    int slot = take();
    if (slot < 0) {
      return NONE;
    }
    slots[slot].address = address;
    slots[slot].length = length;
    slots[slot].deadline = Long.MAX_VALUE;
    slots[slot].tag = 0;
    return publish(slot, ACTIVE);
  }

  private int take() {
    int slot = free.pop();
    if (slot < 0) {
      return -1;
    }
    if (slot >= highWater.get()) {
      highWater.accumulateAndGet(slot + 1, Math::max);
    }
    return slot;
  }

  /** The volatile write that publishes the fields written before it; the fence the claim needs. */
  private long publish(int slot, int phase) {
    int next = (((int) STATE.getOpaque(slots[slot]) & INCARNATION_MASK) + (PHASE_MASK + 1))
        & INCARNATION_MASK;
    int st = next | phase;
    STATE.setVolatile(slots[slot], st);
    return ticket(st, slot);
  }

  private static long ticket(int state, int slot) {
    return ((long) (state & INCARNATION_MASK) << 32) | slot;
  }

  /** The slot index of {@code ticket}, for a holder's own per-slot arrays. */
  public static int slot(long ticket) {
    return (int) ticket;
  }

  /**
   * The ticket's incarnation in {@code bits} bits (at most 28), for holders that must squeeze it
   * into a tag of their own (an io_uring user_data, an RDMA work request id).
   */
  public static int incarnation(long ticket, int bits) {
    return (int) (ticket >>> (32 + PHASE_BITS)) & ((1 << bits) - 1);
  }

  // ------------------------------------------------------------------------------ pinned slots

  /**
   * Publishes {@code [address, address + length)} as touched by the calling thread, in a slot
   * pinned to it (taken on its first call, taken over from a dead thread when none is free): one
   * volatile write, no compare-and-set. The caller re-checks the registry, touches the memory and
   * then calls {@link #exit}.
   *
   * @return the slot to pass to {@link #exit}
   * @throws IllegalStateException when more live threads touch memory than there are slots
   */
  public int enter(long address, long length) {
    int slot = pin();
    touch(slot, address, length);
    return slot;
  }

  /**
   * The calling thread's pinned slot (taken on its first call, taken over from a dead thread when
   * none is free), for a thread that keeps it and calls {@link #touch} and {@link #exit} itself.
   *
   * @throws IllegalStateException when more live threads touch memory than there are slots
   */
  public int pin() {
    int[] mine = pinnedSlot.get();
    int slot = mine[0];
    if (slot < 0 || slots[slot].pin != Thread.currentThread()) {
      slot = pinNew();
      mine[0] = slot;
    }
    return slot;
  }

  /**
   * Publishes {@code [address, address + length)} as touched through the calling thread's
   * {@linkplain #pin() pinned} slot: one volatile write.
   */
  public void touch(int slot, long address, long length) {
    slots[slot].address = address;
    slots[slot].length = length;
    STATE.setVolatile(slots[slot], ((int) STATE.getOpaque(slots[slot]) & INCARNATION_MASK)
        | TOUCHING);
  }

  /** The calling thread no longer touches the range it {@linkplain #enter entered}. */
  public void exit(int slot) {
    STATE.setRelease(slots[slot], ((int) STATE.getOpaque(slots[slot]) & INCARNATION_MASK)
        | PINNED);
  }

  private int pinNew() {
    Thread me = Thread.currentThread();
    int slot = take();
    if (slot < 0) {
      slot = takeOverDeadPin(me);
      if (slot < 0) {
        throw new IllegalStateException("more than " + capacity + " live threads touch memory"
            + " through one in-flight table");
      }
    } else {
      slots[slot].deadline = Long.MAX_VALUE;
      slots[slot].pin = me;
      publish(slot, PINNED);
    }
    return slot;
  }

  /** A slot pinned to a thread that died (its range is clear: exit runs in a finally). */
  private synchronized int takeOverDeadPin(Thread me) {
    for (int s = 0, n = highWater.get(); s < n; s++) {
      Thread owner = slots[s].pin;
      if (owner != null && !owner.isAlive() && phase(s) == PINNED) {
        slots[s].pin = me;
        return s;
      }
    }
    return -1;
  }

  // ------------------------------------------------------------------------------ reading

  /** True while the ticket's slice is owed an end (neither ended nor aborted). */
  public boolean isActive(long ticket) {
    return (int) STATE.getVolatile(slots[slot(ticket)]) == activeState(ticket);
  }

  /** The claimed slice; for what the table does not copy (its target, its stream). */
  public TransferSlice slice(long ticket) {
    return slots[slot(ticket)].slice;
  }

  /** True for a READ (bytes flow into local memory). */
  public boolean isRead(long ticket) {
    return slots[slot(ticket)].read;
  }

  public MemoryRegion region(long ticket) {
    return slots[slot(ticket)].region;
  }

  public long localAddress(long ticket) {
    return slots[slot(ticket)].address;
  }

  public long length(long ticket) {
    return slots[slot(ticket)].length;
  }

  public long targetOffset(long ticket) {
    return slots[slot(ticket)].targetOffset;
  }

  public long deadlineNanos(long ticket) {
    return slots[slot(ticket)].deadline;
  }

  /** A small number the holder keeps with the slot (0 after a claim); holder-thread only. */
  public int tag(long ticket) {
    return slots[slot(ticket)].tag;
  }

  public void setTag(long ticket, int tag) {
    slots[slot(ticket)].tag = tag;
  }

  /** An object the holder keeps with the slot (cleared when the slot is freed). */
  public Object attachment(long ticket) {
    return slots[slot(ticket)].attachment;
  }

  public void attach(long ticket, Object attachment) {
    slots[slot(ticket)].attachment = attachment;
  }

  // ------------------------------------------------------------------------------ ending

  /**
   * The holder is done with the memory and the slice succeeded: frees the slot, then completes
   * the slice unless it was {@linkplain #abort aborted} meanwhile.
   *
   * @return true when this call completed it
   */
  public boolean complete(long ticket) {
    TransferSlice s = slots[slot(ticket)].slice;
    long generation = slots[slot(ticket)].generation;
    if (!free(ticket)) {
      return false;
    }
    return s.complete(generation);
  }

  /**
   * The holder is done with the memory and the slice failed: frees the slot, then fails the slice
   * unless it was {@linkplain #abort aborted} meanwhile.
   *
   * @return true when this call failed it
   */
  public boolean fail(long ticket, TransferState state, ErrorCode code, String message) {
    TransferSlice s = slots[slot(ticket)].slice;
    long generation = slots[slot(ticket)].generation;
    if (!free(ticket)) {
      return false;
    }
    return s.fail(generation, state, code, message);
  }

  /**
   * Ends the ticket's slice now, from any thread, while its holder may still touch the memory:
   * the slot stays held (ZOMBIE) until the holder calls {@link #release} (or {@code complete},
   * {@code fail}, which then only release). A deadline, a close, a peer's death.
   *
   * @return true when this call ended the slice; false when it had ended or the ticket is stale
   */
  public boolean abort(long ticket, TransferState state, ErrorCode code, String message) {
    int slot = slot(ticket);
    int active = activeState(ticket);
    TransferSlice s = slots[slot].slice;
    long generation = slots[slot].generation;
    if (s == null || !STATE.compareAndSet(slots[slot], active, (active & ~PHASE_MASK) | ZOMBIE)) {
      return false;
    }
    return s.fail(generation, state, code, message);
  }

  /**
   * The holder lets go of the slot without ending its slice: after an {@link #abort}, or for a
   * {@link #claimRange} ticket. Releasing an ACTIVE slice's ticket leaves the slice unended; the
   * holder must then end it itself.
   */
  public void release(long ticket) {
    free(ticket);
  }

  /**
   * Frees the ticket's slot. True when it was ACTIVE (the caller owes the slice its end), false
   * when it was aborted (ZOMBIE) or the ticket is stale.
   */
  private boolean free(long ticket) {
    int slot = slot(ticket);
    int active = activeState(ticket);
    int base = active & ~PHASE_MASK;
    boolean wasActive = STATE.compareAndSet(slots[slot], active, base | FREE);
    if (!wasActive && !STATE.compareAndSet(slots[slot], base | ZOMBIE, base | FREE)) {
      return false; // stale: freed before, by this holder
    }
    // Only the free stack hands the slot out again, and its push publishes these.
    slots[slot].slice = null;
    slots[slot].region = null;
    slots[slot].attachment = null;
    free.push(slot);
    return wasActive;
  }

  private static int activeState(long ticket) {
    return (int) (ticket >>> 32) | ACTIVE;
  }

  private int phase(int slot) {
    return (int) STATE.getVolatile(slots[slot]) & PHASE_MASK;
  }

  // ------------------------------------------------------------------------------ scans

  /** What a scan hands each matching slot. */
  @FunctionalInterface
  public interface TicketVisitor {
    void visit(long ticket);
  }

  /** Visits every ACTIVE slot whose deadline is {@code now} or earlier. */
  public void forEachExpired(long now, TicketVisitor visitor) {
    for (int s = 0, n = highWater.get(); s < n; s++) {
      int st = (int) STATE.getVolatile(slots[s]);
      if ((st & PHASE_MASK) == ACTIVE && now - slots[s].deadline >= 0) {
        visitor.visit(ticket(st, s));
      }
    }
  }

  /** Visits every ACTIVE slot (a close fails them all). */
  public void forEachActive(TicketVisitor visitor) {
    for (int s = 0, n = highWater.get(); s < n; s++) {
      int st = (int) STATE.getVolatile(slots[s]);
      if ((st & PHASE_MASK) == ACTIVE) {
        visitor.visit(ticket(st, s));
      }
    }
  }

  /**
   * Aborts every ACTIVE slot past its deadline with TIMEOUT / TRANSFER_TIMEOUT and {@code
   * message}; the watchdog of a transport whose holders notice aborted tickets themselves.
   *
   * @return slices ended
   */
  public int abortExpired(long now, String message) {
    int[] ended = {0};
    forEachExpired(now, t -> {
      if (abort(t, TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, message)) {
        ended[0]++;
      }
    });
    return ended[0];
  }

  /** Visits every slot (active, aborted or touching) whose range overlaps the given one. */
  public void forEachHolding(long address, long length, TicketVisitor visitor) {
    for (int s = 0, n = highWater.get(); s < n; s++) {
      int st = (int) STATE.getVolatile(slots[s]);
      if (holds(st) && AddressRanges.overlaps(slots[s].address, slots[s].length, address, length)) {
        visitor.visit(ticket(st, s));
      }
    }
  }

  /** True while some slot holds memory overlapping {@code [address, address + length)}. */
  public boolean holds(long address, long length) {
    for (int s = 0, n = highWater.get(); s < n; s++) {
      int st = (int) STATE.getVolatile(slots[s]);
      if (holds(st) && AddressRanges.overlaps(slots[s].address, slots[s].length, address, length)) {
        return true;
      }
    }
    return false;
  }

  /** True while some slot holds memory of {@code region}. */
  public boolean holds(MemoryRegion region) {
    return holds(region.address(), region.length());
  }

  private static boolean holds(int state) {
    int phase = state & PHASE_MASK;
    return phase == ACTIVE || phase == ZOMBIE || phase == TOUCHING;
  }

  /**
   * Waits until no slot holds memory overlapping {@code [address, address + length)}, at most
   * until {@code deadlineNanos}, polling with a pause growing from 20 µs to 5 ms. An interrupt
   * does not cut the wait short (the memory is about to go away); it is restored on return.
   *
   * @return false when still held at the deadline
   */
  public boolean awaitRelease(long address, long length, long deadlineNanos) {
    return awaitQuiet(() -> !holds(address, length), deadlineNanos);
  }

  /**
   * Polls {@code quiet} with the same growing pause until it holds or {@code deadlineNanos}
   * passes; for holders that wait on this table and on state of their own together.
   *
   * @return false when it did not hold at the deadline
   */
  public static boolean awaitQuiet(BooleanSupplier quiet, long deadlineNanos) {
    long pause = AWAIT_PAUSE_MIN_NANOS;
    boolean interrupted = false;
    try {
      while (!quiet.getAsBoolean()) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        LockSupport.parkNanos(Math.min(pause, left));
        if (Thread.interrupted()) {
          interrupted = true;
        }
        pause = Math.min(pause * 2, AWAIT_PAUSE_MAX_NANOS);
      }
      return true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One slot: its state word and what its holder keeps there. */
  private static final class Slot {
    /** Incarnation (bits 3-30) and phase (bits 0-2). */
    volatile int state;
    TransferSlice slice;
    long generation;
    MemoryRegion region;
    long address;
    long length;
    long targetOffset;
    long deadline;
    boolean read;
    int tag;
    Object attachment;
    Thread pin;
  }

  /**
   * Free slot indexes, lock-free: claimers pop from one stack, freers push onto another, and a
   * claimer that finds the first empty takes the second whole. Claimer and freer are usually
   * different threads (a sender and a receiver, an application thread and a ring thread): apart,
   * they do not pass one cache line back and forth on every slot. Each head carries a version
   * against ABA; the stacks are linked through {@link #next}.
   */
  private static final class SlotStack {
    private final int[] next;
    /** Version in the high half, top index + 1 in the low half (0: empty). */
    private final AtomicLong free;
    private final AtomicLong returned = new AtomicLong();
    /**
     * Claimers between taking the returned stack and linking its rest into the free one: while
     * one is, both stacks may look empty with slots on their way back.
     */
    private final AtomicInteger refilling = new AtomicInteger();

    SlotStack(int size) {
      next = new int[size];
      for (int i = 0; i < size; i++) {
        next[i] = i + 1 < size ? i + 1 : -1;
      }
      free = new AtomicLong(1);
    }

    /** A free slot, or -1 when every slot is held. */
    int pop() {
      for (int spins = 0; ; spins++) {
        long h = free.get();
        int top = (int) h - 1;
        if (top >= 0) {
          if (free.compareAndSet(h, link(h, next[top]))) {
            return top;
          }
          continue;
        }
        int slot = refill(h);
        if (slot >= 0) {
          return slot;
        }
        // Full only if no refill was under way and none finished since this pop saw the free
        // stack empty (a finished one changed its head's version).
        if (refilling.get() == 0 && free.get() == h) {
          return -1;
        }
        if (spins < 64) {
          Thread.onSpinWait();
        } else {
          Thread.yield(); // the refilling thread may be descheduled on a busy machine
        }
      }
    }

    /** The free stack was empty: takes the returned one whole, keeps its top, frees the rest. */
    private int refill(long emptyHead) {
      refilling.incrementAndGet();
      try {
        return refillCounted(emptyHead);
      } finally {
        refilling.decrementAndGet();
      }
    }

    private int refillCounted(long emptyHead) {
      long r;
      do {
        r = returned.get(); // emptied by a compare-and-set, so its version only grows
      } while ((int) r > 0 && !returned.compareAndSet(r, link(r, -1)));
      int top = (int) r - 1;
      if (top < 0) {
        return -1;
      }
      int rest = next[top];
      if (rest >= 0 && !free.compareAndSet(emptyHead, link(emptyHead, rest))) {
        // Another claimer refilled meanwhile: put the rest in front of what is there now.
        int tail = rest;
        while (next[tail] >= 0) {
          tail = next[tail];
        }
        for (;;) {
          long h = free.get();
          next[tail] = (int) h - 1;
          if (free.compareAndSet(h, link(h, rest))) {
            break;
          }
        }
      }
      return top;
    }

    void push(int index) {
      for (;;) {
        long h = returned.get();
        next[index] = (int) h - 1;
        if (returned.compareAndSet(h, link(h, index))) {
          return;
        }
      }
    }

    /** A head after {@code h} (one version later) whose top is {@code index} (-1: empty). */
    private static long link(long h, int index) {
      return (((h >>> 32) + 1) << 32) | ((index + 1) & 0xffffffffL);
    }
  }
}
