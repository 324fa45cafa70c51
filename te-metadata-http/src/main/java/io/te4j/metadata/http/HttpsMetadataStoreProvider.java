package io.te4j.metadata.http;

/**
 * The {@code https} metadata store: {@link HttpMetadataStore} over TLS, with the JDK's default
 * trust store. Switched off with {@code -Dte4j.metadata.https.disabled=true} (or with the {@code
 * http} switch, which covers both).
 */
public final class HttpsMetadataStoreProvider extends HttpMetadataStoreProvider {
  /** The scheme of TLS URLs. */
  public static final String SCHEME = "https";

  /** The {@code https} provider, as {@link java.util.ServiceLoader} creates it. */
  public HttpsMetadataStoreProvider() {
    super(SCHEME);
  }
}
