package io.te4j.core.observe;

/** An observer's registration with an engine: closing it removes the observer. */
public interface Subscription extends AutoCloseable {
  /** Removes the observer; calling it again does nothing. */
  @Override
  void close();
}
