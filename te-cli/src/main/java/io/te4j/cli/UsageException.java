package io.te4j.cli;

/**
 * A bad command line found by a command itself (an option that does not fit another, a file that
 * is not there): one line on stderr and exit code 2, like picocli's own parse errors.
 */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
