package io.te4j.api.spi;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Orders host work on a device stream (a CUDA stream): how the {@code *_on_cuda} operations run a
 * transfer through a transport that cannot enqueue it on the stream itself (TCP, RDMA). Found by
 * {@link java.util.ServiceLoader} ({@code META-INF/services/io.te4j.api.spi.StreamGate}); the CUDA
 * module provides one.
 */
public interface StreamGate {
  /** The device family whose streams this gate orders on: {@code cuda}. */
  String family();

  /** Whether the gate works on this machine (its runtime binds and sees a device). */
  Availability availability();

  /**
   * Starts {@code work} once everything enqueued on {@code stream} before this call has run, and
   * holds what is enqueued on it after this call until the stage {@code work} returned completes,
   * or until {@code deadlineNanos} ({@link System#nanoTime()}) passes. {@code work} runs on a
   * thread of the device runtime and must not call it.
   *
   * @return completes as {@code work}'s stage does; exceptionally when {@code work} throws or the
   *     deadline passes first (the stream then goes on)
   * @throws io.te4j.api.TransferException when the gate cannot be placed on the stream
   */
  CompletableFuture<Void> runInStreamOrder(long stream, Supplier<CompletionStage<Void>> work,
      long deadlineNanos);
}
