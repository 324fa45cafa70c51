package io.te4j.metadata.http;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.Availability;
import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.api.spi.ProbedAvailability;
import io.te4j.api.spi.SettingSource;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code http} metadata store ({@code http://host:port/metadata}, the reference's HTTP
 * metadata service). Needs nothing but the JDK, so it is available unless switched off with
 * {@code -Dte4j.metadata.http.disabled=true}. {@link HttpsMetadataStoreProvider} serves {@code
 * https} with the same store.
 */
public class HttpMetadataStoreProvider implements MetadataStoreProvider {
  /** The scheme of plain HTTP URLs. */
  public static final String SCHEME = "http";

  private static final ProbedAvailability HTTP = ProbedAvailability.always("metadata", SCHEME);
  private static final ProbedAvailability HTTPS = ProbedAvailability.always("metadata", "https");

  private final String scheme;

  /** The {@code http} provider, as {@link java.util.ServiceLoader} creates it. */
  public HttpMetadataStoreProvider() {
    this(SCHEME);
  }

  HttpMetadataStoreProvider(String scheme) {
    this.scheme = scheme;
  }

  @Override
  public final String scheme() {
    return scheme;
  }

  @Override
  public final java.util.List<io.te4j.api.spi.Setting<?>> settings() {
    return HttpMetadataStore.SETTINGS;
  }

  /**
   * Only a kill switch can make this provider unavailable: {@code te4j.metadata.http.disabled}
   * for both schemes, {@code te4j.metadata.https.disabled} for https alone.
   */
  @Override
  public final Availability availability() {
    return scheme.equals(SCHEME) ? HTTP : new Availability() {
      @Override
      public Throwable unavailabilityCause() {
        return unavailabilityCause(SettingSource.system());
      }

      @Override
      public Throwable unavailabilityCause(SettingSource settings) {
        Throwable cause = HTTP.unavailabilityCause(settings);
        return cause != null ? cause : HTTPS.unavailabilityCause(settings);
      }
    };
  }

  /**
   * Connects to the service and asks it once for this engine's key.
   *
   * @param location the whole URL, e.g. {@code http://10.0.0.1:8080/metadata}
   * @throws TransferException INVALID_CONFIGURATION for a malformed URL or one of another scheme,
   *     METADATA when the server cannot be reached
   */
  @Override
  public final MetadataStore create(String location, MetadataStoreContext context) {
    Objects.requireNonNull(context, "context");
    String url = HttpMetadataStore.checkUrl(location);
    if (!url.toLowerCase(Locale.ROOT).startsWith(scheme + "://")) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          "the " + scheme + " metadata store was given '" + url + "'");
    }
    return HttpMetadataStore.connect(url, context);
  }
}
