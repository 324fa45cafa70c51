package io.te4j.testkit.contract;

import io.te4j.core.Engine;
import io.te4j.nativelib.NativeMemory;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What {@link TransportContract} runs against: an initiator engine in this JVM and a target it
 * reaches through the transport under test. {@link TargetJvm} gives the target side of a pair whose
 * target is an engine in a child JVM; a transport whose target is something else (files, an engine
 * of this JVM) implements the target methods itself.
 */
public interface TransportPair extends AutoCloseable {
  /** The transport every transfer of the suite is pinned to. */
  String transport();

  /** The engine the suite transfers with; the pair closes it. */
  Engine initiator();

  /** The target's segment name. */
  String segment();

  /** The target memory transfers may use, as peers address it (at least 64 MiB). */
  long remote();

  long remoteLength();

  /** Initiator memory, registered, that transfers may use (at least 64 MiB). */
  long local();

  long localLength();

  /** CRC32 of the target's bytes at peer address {@code address}: what the target itself sees. */
  long targetCrc(long address, int length) throws Exception;

  /**
   * Ranges the target must refuse beyond the suite's own (past the end, straddling it, wrapping
   * around 2^64): memory it registered as not remote-accessible, a range across two of its
   * buffers. Each is checked unchanged afterwards.
   */
  default List<Rejection> rejections() {
    return List.of();
  }

  /** A second initiator engine like {@link #initiator()} with its own transfer timeout. */
  Engine startInitiator(Duration transferTimeout) throws Exception;

  /**
   * Registers {@code bytes} of memory this transport can move with {@code engine} and returns its
   * address; the suite unregisters it ({@link Engine#unregister}) while transfers use it. Anonymous
   * memory by default, mapped for the life of the JVM.
   */
  default long registerLocal(Engine engine, long bytes) throws Exception {
    long address = NativeMemory.mapAnonymous(bytes);
    engine.register(address, bytes);
    return address;
  }

  /** Stops the target from making progress (SIGSTOP of its process), when it has one. */
  default void pauseTarget() throws Exception {}

  /** Undoes {@link #pauseTarget()}. */
  default void resumeTarget() throws Exception {}

  /** The target goes away for good, as a crash would: its process is killed, its files gone. */
  void killTarget() throws Exception;

  /**
   * The next notification the target received, as {@code name msg}, when the target is an engine
   * that can say so; empty when the target receives none (a file segment).
   */
  default Optional<String> nextNotify(Duration timeout) throws Exception {
    return Optional.empty();
  }

  /** True when the target is an engine that answers probes and takes notifications. */
  default boolean targetIsEngine() {
    return true;
  }
}
