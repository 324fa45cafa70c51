package io.te4j.transport.cuda;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.TransferSlice;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Copies on CUDA streams, each group of slices ended by its own event (CUDA.md 0 item 5): the
 * engine's pool of non-blocking streams per GPU, or a caller's stream for {@code *_on_cuda}. One
 * thread polls the events and ends the slices: completed when the event is, failed with the CUDA
 * error otherwise, TIMEOUT at the deadline (the group then still holds its memory until the copy
 * has really ended, so an unregistration never races a running copy). Streams and events are made
 * once and reused: nothing is created per transfer.
 */
final class CopyEngine implements AutoCloseable {
  private final CudaRuntime cuda;
  private final int streamsPerDevice;
  private final Device[] devices;
  private final ConcurrentLinkedQueue<Group> submitted = new ConcurrentLinkedQueue<>();
  private final ArrayDeque<Group> spareGroups = new ArrayDeque<>();
  private final Thread poller;
  private volatile boolean closed;

  /** What a slice holds while its copy may run: released once the copy has ended. */
  interface Hold {
    void release();
  }

  CopyEngine(CudaRuntime cuda, int deviceCount, int streamsPerDevice, ThreadFactory threads) {
    this.cuda = cuda;
    this.streamsPerDevice = streamsPerDevice;
    this.devices = new Device[Math.max(1, deviceCount)];
    for (int d = 0; d < devices.length; d++) {
      devices[d] = new Device(d);
    }
    this.poller = threads.newThread(this::poll);
    poller.start();
  }

  /** The GPUs this engine copies with. */
  int deviceCount() {
    return devices.length;
  }

  /** One of the engine's streams on {@code device}, in turn. */
  long stream(int device) {
    return devices[device].nextStream();
  }

  /** The device a caller's stream belongs to, or -1 with the CUDA error in {@code error[0]}. */
  int deviceOf(long stream, int[] error) {
    int[] d = {0};
    int rc = cuda.streamGetDevice(stream, d);
    error[0] = rc;
    return rc == 0 && d[0] >= 0 && d[0] < devices.length ? d[0] : -1;
  }

  /**
   * A group to fill with slices whose copies were enqueued on one stream: one of the engine's
   * ({@link #stream}) or, for {@code *_on_cuda}, the caller's.
   */
  Group open(int device, long stream, boolean callersStream) {
    Group g;
    synchronized (spareGroups) {
      g = spareGroups.poll();
    }
    if (g == null) {
      g = new Group();
    }
    g.device = device;
    g.stream = stream;
    g.callersStream = callersStream;
    return g;
  }

  /**
   * Records the group's event after its copies and hands it to the poller; when recording fails,
   * waits for the stream instead (the copies are queued and must end before their memory goes).
   */
  void close(Group g) {
    if (g.count == 0) {
      recycle(g);
      return;
    }
    long event = devices[g.device].takeEvent();
    int rc = event == 0 ? -1 : cuda.eventRecord(event, g.stream);
    if (rc != 0) {
      if (event != 0) {
        devices[g.device].giveEvent(event);
      }
      int sync = cuda.streamSynchronize(g.stream);
      g.end(sync == 0 ? null : "cudaStreamSynchronize: " + CudaErrors.describe(cuda, sync));
      recycle(g);
      return;
    }
    g.event = event;
    submitted.add(g);
    LockSupport.unpark(poller);
  }

  private void recycle(Group g) {
    g.clear();
    synchronized (spareGroups) {
      spareGroups.push(g);
    }
  }

  private void poll() {
    List<Group> running = new ArrayList<>();
    while (!closed || !running.isEmpty() || !submitted.isEmpty()) {
      for (Group g; (g = submitted.poll()) != null; ) {
        running.add(g);
      }
      if (running.isEmpty()) {
        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(50));
        continue;
      }
      boolean ended = false;
      long now = System.nanoTime();
      for (int i = running.size() - 1; i >= 0; i--) {
        Group g = running.get(i);
        int rc = cuda.eventQuery(g.event);
        if (rc == CudaLayout.ERROR_NOT_READY) {
          if (now - g.deadline > 0) {
            g.timeOut();
          }
          continue;
        }
        g.end(rc == 0 ? null : "cudaEventQuery: " + CudaErrors.describe(cuda, rc));
        devices[g.device].giveEvent(g.event);
        running.remove(i);
        recycle(g);
        ended = true;
      }
      if (!ended) {
        LockSupport.parkNanos(this, 20_000);
      }
    }
  }

  /**
   * Ends what is in flight: every group's slices fail at once, the streams are synchronised so no
   * copy still runs, then streams and events are destroyed. A lost device answers the
   * synchronisation with its error; nothing waits past {@code deadlineNanos}.
   */
  @Override
  public void close() {
    closed = true;
    for (Group g : submitted) {
      g.failAll(TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "the nvlink transport closed");
    }
    for (Device d : devices) {
      d.synchronize();
    }
    LockSupport.unpark(poller);
    try {
      poller.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Device d : devices) {
      d.destroy();
    }
  }

  /** One GPU's streams and spare events, made on first use with that device current. */
  private final class Device {
    final int index;
    final StreamPool streams;
    final ArrayDeque<Long> spareEvents = new ArrayDeque<>();
    final List<Long> allEvents = new ArrayList<>();

    Device(int index) {
      this.index = index;
      this.streams = new StreamPool(cuda, index, streamsPerDevice);
    }

    long nextStream() {
      return streams.next();
    }

    /** A spare event, or a new one; 0 when none can be made. */
    synchronized long takeEvent() {
      Long e = spareEvents.poll();
      if (e != null) {
        return e;
      }
      long[] out = {0};
      int[] rc = {0};
      StreamPool.onDevice(cuda, index,
          () -> rc[0] = cuda.eventCreateWithFlags(out, CudaLayout.EVENT_DISABLE_TIMING));
      if (rc[0] != 0) {
        return 0;
      }
      allEvents.add(out[0]);
      return out[0];
    }

    synchronized void giveEvent(long event) {
      spareEvents.push(event);
    }

    void synchronize() {
      streams.synchronize();
    }

    synchronized void destroy() {
      streams.destroy();
      for (long e : allEvents) {
        cuda.eventDestroy(e);
      }
      allEvents.clear();
      spareEvents.clear();
    }
  }

  /** Slices whose copies were enqueued on one stream, ended together by one event. */
  static final class Group {
    int device;
    long stream;
    /** The stream is a caller's, not one of the engine's. */
    boolean callersStream;
    long event;
    long deadline = Long.MAX_VALUE;
    private boolean timedOut;
    private TransferSlice[] slices = new TransferSlice[64];
    private long[] generations = new long[64];
    private Hold[] holds = new Hold[128];
    private int holdCount;
    int count;

    /** Adds a slice whose copy was enqueued, and what it holds until the copy ends. */
    void add(TransferSlice slice, long generation, Hold local, Hold remote) {
      if (count == slices.length) {
        slices = java.util.Arrays.copyOf(slices, count * 2);
        generations = java.util.Arrays.copyOf(generations, count * 2);
      }
      if (holdCount + 2 > holds.length) {
        holds = java.util.Arrays.copyOf(holds, holds.length * 2);
      }
      slices[count] = slice;
      generations[count] = generation;
      count++;
      long d = slice.deadlineNanos();
      if (count == 1 || d - deadline < 0) {
        deadline = d;
      }
      holds[holdCount++] = local;
      holds[holdCount++] = remote;
    }

    /**
     * The copies ended: let go of their memory and mappings, then complete every slice, or fail
     * them all with {@code error}. In that order: whoever sees a slice end may forget the peer or
     * unregister at once, and finds nothing still held (a mapping closes then, not later).
     */
    void end(String error) {
      for (int i = 0; i < holdCount; i++) {
        holds[i].release();
      }
      if (error == null) {
        for (int i = 0; i < count; i++) {
          slices[i].complete(generations[i]);
        }
      } else {
        failAll(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, error);
      }
    }

    void timeOut() {
      if (!timedOut) {
        timedOut = true;
        failAll(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT,
            "the CUDA copy did not end before the transfer's deadline");
      }
    }

    void failAll(TransferState state, ErrorCode code, String message) {
      for (int i = 0; i < count; i++) {
        slices[i].fail(generations[i], state, code, message);
      }
    }

    void clear() {
      java.util.Arrays.fill(slices, 0, count, null);
      java.util.Arrays.fill(holds, 0, holdCount, null);
      count = 0;
      holdCount = 0;
      event = 0;
      stream = 0;
      timedOut = false;
      deadline = Long.MAX_VALUE;
    }
  }
}
