package io.te4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.te4j.api.TransferOpcode;
import java.util.Locale;
import java.util.Map;

/** What one {@code te bench} run measured: as JSON, and as the lines a person reads. */
final class BenchReport {
  private BenchReport() {}

  static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  static String human(ObjectNode j) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT,
        "%s%s %s: block %d B, batch %d, %d threads, %.1f s%n", j.get("protocol").asText(),
        j.has("cxl_device") ? " (" + j.get("cxl_device").asText() + ")" : "",
        j.get("operation").asText(), j.get("block_size").asLong(), j.get("batch_size").asInt(),
        j.get("threads").asInt(), j.get("duration_s").asDouble()));
    sb.append(String.format(Locale.ROOT, "throughput  %.3f GB/s, %.0f transfers/s, %d errors%n",
        j.get("gbytes_per_sec").asDouble(), j.get("transfers_per_sec").asDouble(),
        j.get("errors").asLong()));
    if (j.get("peer_outages").asInt() > 0 || j.get("stopped_on_error").asBoolean()) {
      sb.append(String.format(Locale.ROOT, "the peer stopped answering %d time(s)%s%n",
          j.get("peer_outages").asInt(), j.get("stopped_on_error").asBoolean()
              ? "; the run stopped at the first failure (--stop-on-error)" : ""));
    }
    ObjectNode lat = (ObjectNode) j.get("batch_latency_us");
    sb.append(String.format(Locale.ROOT,
        "batch latency (us)  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f%n",
        lat.get("p50").asDouble(), lat.get("p90").asDouble(), lat.get("p99").asDouble(),
        lat.get("p999").asDouble(), lat.get("max").asDouble()));
    if (j.has("verified")) {
      sb.append(j.get("verified").asBoolean()
          ? String.format(Locale.ROOT, "verified  %d bytes written and read back intact%n",
              j.get("verified_bytes").asLong())
          : String.format(Locale.ROOT, "verified  FAILED: the bytes read back differ%n"));
    }
    for (Map.Entry<String, String> b : Baselines.LABELS.entrySet()) {
      String name = b.getKey();
      if (j.has("baseline_" + name + "_gbps")) {
        sb.append(String.format(Locale.ROOT, "%s  %.3f GB/s  (engine = %.2fx)%n", b.getValue(),
            j.get("baseline_" + name + "_gbps").asDouble(),
            j.get("ratio_to_" + name).asDouble()));
      } else if (j.has("baseline_" + name + "_skipped")) {
        sb.append(String.format(Locale.ROOT, "%s  not measured: %s%n", b.getValue(),
            j.get("baseline_" + name + "_skipped").asText()));
      }
    }
    return sb.toString().stripTrailing();
  }

  /** What one initiator run measured. */
  static ObjectNode toJson(BenchDriver.Outcome r, String protocol, TransferOpcode op,
      long block, int batch, int threads) {
    ObjectNode j = new ObjectMapper().createObjectNode();
    j.put("protocol", protocol);
    j.put("operation", op.name().toLowerCase(Locale.ROOT));
    j.put("block_size", block);
    j.put("batch_size", batch);
    j.put("threads", threads);
    j.put("duration_s", round(r.seconds()));
    j.put("bytes", r.bytes());
    j.put("gbytes_per_sec", round(r.gbps()));
    j.put("gbps", round(r.gbps())); // the first name, gigabytes too: kept for scripts
    j.put("transfers_per_sec", Math.round(r.transfers() / r.seconds()));
    j.put("batches", r.latency().count());
    j.put("errors", r.errors());
    j.put("peer_outages", r.outages());
    j.put("stopped_on_error", r.stoppedOnError());
    ObjectNode lat = j.putObject("batch_latency_us");
    lat.put("p50", r.latency().percentile(0.50) / 1000.0);
    lat.put("p90", r.latency().percentile(0.90) / 1000.0);
    lat.put("p99", r.latency().percentile(0.99) / 1000.0);
    lat.put("p999", r.latency().percentile(0.999) / 1000.0);
    lat.put("max", r.latency().max() / 1000.0);
    return j;
  }
}
