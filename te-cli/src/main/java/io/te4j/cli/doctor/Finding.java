package io.te4j.cli.doctor;

/**
 * One result of {@code te doctor}: what was checked, what was found, and the fix when something
 * is wrong.
 *
 * @param level OK, WARN (works, but slower or limited) or FAIL (a transport cannot work)
 * @param check what was checked, e.g. "memlock"
 * @param found what this machine has
 * @param fix what to do about it; empty when OK
 */
public record Finding(Level level, String check, String found, String fix) {
  /** How bad a finding is. */
  public enum Level { OK, WARN, FAIL }

  /** Nothing to fix. */
  public static Finding ok(String check, String found) {
    return new Finding(Level.OK, check, found, "");
  }

  /** Works, but slower or limited. */
  public static Finding warn(String check, String found, String fix) {
    return new Finding(Level.WARN, check, found, fix);
  }

  /** Something a transport needs is missing. */
  public static Finding fail(String check, String found, String fix) {
    return new Finding(Level.FAIL, check, found, fix);
  }
}
