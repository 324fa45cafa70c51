package io.te4j.testkit.contract;

import io.te4j.core.Engine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link TransportPair} of two engines: the initiator in this JVM, the target a {@link
 * ContractTarget} in a child JVM, both running the same protocol and metadata server. Built with
 * {@link #builder}; a transport whose memory is special overrides {@link #registerLocal} and
 * {@link #allocateInitiatorMemory}.
 */
public class ChildTargetPair implements TransportPair {
  private static final AtomicInteger NEXT_NAME = new AtomicInteger();
  private static final long BYTES = 64L << 20;

  private final String transport;
  private final String protocol;
  private final String metadata;
  private final Map<String, String> settings;
  private final TargetJvm target;
  private final Engine initiator;
  private final long local;
  private final List<AutoCloseable> closeAfter;

  protected ChildTargetPair(Builder b) throws Exception {
    this.transport = b.transport;
    this.protocol = b.protocol;
    this.metadata = b.metadata;
    this.settings = new LinkedHashMap<>(b.settings);
    this.closeAfter = List.copyOf(b.closeAfter);
    List<String> options = new ArrayList<>(b.targetOptions);
    options.add("metadata=" + metadata);
    options.add("hostname=" + hostname());
    this.target = TargetJvm.start(protocol, BYTES, options, b.targetJvmOptions);
    Engine e = null;
    try {
      e = startInitiator(Duration.ofSeconds(30));
      this.initiator = e;
      this.local = allocateInitiatorMemory(e, BYTES);
    } catch (Exception | Error failure) {
      if (e != null) {
        e.close();
      }
      target.close();
      throw failure;
    }
  }

  /** A pair for {@code transport}; the protocol defaults to the transport's name. */
  public static Builder builder(String transport) {
    return new Builder(transport);
  }

  /**
   * The local host name of a new engine: {@code 127.0.0.1} in P2P mode (the segment name gets the
   * RPC port), else {@code 127.0.0.1:<unique>}, since with a store the host name is the segment.
   */
  private String hostname() {
    if (metadata.equalsIgnoreCase("P2PHANDSHAKE")) {
      return "127.0.0.1";
    }
    long port = 20_000 + NEXT_NAME.incrementAndGet() * 100 + ProcessHandle.current().pid() % 100;
    return "127.0.0.1:" + port;
  }

  /** The initiator's main memory: managed memory by default. */
  protected long allocateInitiatorMemory(Engine engine, long bytes) throws Exception {
    return engine.allocate(bytes).address();
  }

  @Override
  public Engine startInitiator(Duration transferTimeout) {
    Engine.Builder b = Engine.builder().protocol(protocol).metadataServer(metadata)
        .localHostname(hostname()).transferTimeout(transferTimeout);
    settings.forEach(b::setting);
    return b.start();
  }

  @Override
  public String transport() {
    return transport;
  }

  @Override
  public Engine initiator() {
    return initiator;
  }

  /** The target process. */
  public TargetJvm target() {
    return target;
  }

  @Override
  public String segment() {
    return target.segment();
  }

  @Override
  public long remote() {
    return target.remote();
  }

  @Override
  public long remoteLength() {
    return target.remoteLength();
  }

  @Override
  public long local() {
    return local;
  }

  @Override
  public long localLength() {
    return BYTES;
  }

  @Override
  public long targetCrc(long address, int length) throws Exception {
    return target.crc(address, length);
  }

  @Override
  public List<Rejection> rejections() {
    return target.rejections();
  }

  @Override
  public void pauseTarget() throws Exception {
    target.pause();
  }

  @Override
  public void resumeTarget() throws Exception {
    target.resume();
  }

  @Override
  public void killTarget() throws Exception {
    target.kill();
  }

  @Override
  public Optional<String> nextNotify(Duration timeout) throws Exception {
    return target.nextNotify(timeout);
  }

  @Override
  public void close() throws Exception {
    try {
      initiator.close();
    } finally {
      target.close();
      for (AutoCloseable c : closeAfter) {
        c.close();
      }
    }
  }

  /** How the pair is made. */
  public static final class Builder {
    private final String transport;
    private String protocol;
    private String metadata = "P2PHANDSHAKE";
    private final Map<String, String> settings = new LinkedHashMap<>();
    private final List<String> targetOptions = new ArrayList<>();
    private final List<String> targetJvmOptions = new ArrayList<>();
    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    Builder(String transport) {
      this.transport = transport;
      this.protocol = transport;
    }

    /** The protocol both engines run ({@code shm,tcp}, say); the transport's name by default. */
    public Builder protocol(String v) {
      this.protocol = v;
      return this;
    }

    /** The metadata server both engines use; P2P handshakes by default. */
    public Builder metadata(String v) {
      this.metadata = v;
      return this;
    }

    /** A setting of both engines. */
    public Builder setting(String name, String value) {
      settings.put(name, value);
      targetOptions.add(name + "=" + value);
      return this;
    }

    /** How the target gets its memory: {@code memfd} (default), {@code anon} or a class name. */
    public Builder targetMemory(String v) {
      targetOptions.add("memory=" + v);
      return this;
    }

    /** A JVM option of the target process. */
    public Builder targetJvmOption(String v) {
      targetJvmOptions.add(v);
      return this;
    }

    /** Something the pair closes after both engines: the metadata server the suite started. */
    public Builder closeAfter(AutoCloseable v) {
      closeAfter.add(v);
      return this;
    }

    public ChildTargetPair open() throws Exception {
      return new ChildTargetPair(this);
    }

    /** For subclasses that override how memory is found. */
    public <P extends ChildTargetPair> P open(PairFactory<P> factory) throws Exception {
      return factory.create(this);
    }
  }

  /** A subclass's constructor, taking the builder. */
  @FunctionalInterface
  public interface PairFactory<P extends ChildTargetPair> {
    P create(Builder builder) throws Exception;
  }
}
