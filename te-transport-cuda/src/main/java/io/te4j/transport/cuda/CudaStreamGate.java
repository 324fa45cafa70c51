package io.te4j.transport.cuda;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.StreamGate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Orders a transfer through a host transport on a CUDA stream (CUDA.md 3.5, v1): a host function
 * on the stream starts the transfer and waits for it, so the stream's later work sees its bytes;
 * it waits no longer than the deadline, and a failure completes the future exceptionally while
 * the stream goes on. Never a CUDA call inside the host function, never a process exit. A context
 * lost before the host function runs never runs it (CUDA.md 1.6): the deadline still ends the
 * future, and the transfer is then never started.
 */
public final class CudaStreamGate extends CudaService implements StreamGate {

  /** For {@link java.util.ServiceLoader}: the machine's runtime. */
  public CudaStreamGate() {
    this(new JnaCudaRuntime());
  }

  CudaStreamGate(CudaRuntime cuda) {
    super(cuda);
  }

  @Override
  public CompletableFuture<Void> runInStreamOrder(long stream,
      Supplier<CompletionStage<Void>> work, long deadlineNanos) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    long token = HostFunctions.add(() -> hold(work, deadlineNanos, done));
    int rc = cuda.launchHostFunc(stream, token);
    if (rc != 0) {
      HostFunctions.remove(token);
      throw new TransferException(ErrorCode.TRANSFER_FAILED,
          "cudaLaunchHostFunc on stream 0x" + Long.toHexString(stream) + ": "
              + CudaErrors.describe(cuda, rc));
    }
    long left = Math.max(0, deadlineNanos - System.nanoTime());
    done.orTimeout(left + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS)
        .whenComplete((v, failure) -> {
          if (failure instanceof TimeoutException) {
            HostFunctions.remove(token); // never ran (a lost context): it must not start late
          }
        });
    return done;
  }

  /** On the runtime's thread: starts the work and holds the stream until it ends. */
  private static void hold(Supplier<CompletionStage<Void>> work, long deadlineNanos,
      CompletableFuture<Void> done) {
    if (done.isDone()) {
      return;
    }
    try {
      work.get().toCompletableFuture()
          .get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      done.complete(null);
    } catch (TimeoutException e) {
      done.completeExceptionally(new TransferException(ErrorCode.TRANSFER_TIMEOUT,
          "the transfer did not end before its deadline; the stream goes on without it"));
    } catch (ExecutionException e) {
      done.completeExceptionally(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done.completeExceptionally(e);
    } catch (RuntimeException | Error e) {
      done.completeExceptionally(e);
    }
  }
}
