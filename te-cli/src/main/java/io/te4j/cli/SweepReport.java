package io.te4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code te bench --sweep}: one result per block size, as a table, as JSON, and as an SVG chart of
 * throughput by block size with the engine beside each baseline measured in the same run.
 */
final class SweepReport {
  private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
  private static final int WIDTH = 760;
  private static final int HEIGHT = 440;
  private static final int LEFT = 70;
  private static final int RIGHT = 190;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;

  private final List<ObjectNode> results;
  private final List<String> baselines;

  /**
   * @param results one {@code te bench --json} object per block size, in sweep order
   * @param baselines the baseline names measured (those with a figure are drawn)
   */
  SweepReport(List<ObjectNode> results, List<String> baselines) {
    this.results = results;
    this.baselines = baselines;
  }

  /** 4096 as "4 KiB", 1048576 as "1 MiB"; sizes that are not whole units in bytes. */
  static String sizeName(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB"};
    int u = 0;
    long v = bytes;
    while (u < units.length - 1 && v >= 1024 && v % 1024 == 0) {
      v /= 1024;
      u++;
    }
    return v + " " + units[u];
  }

  /** The table a person reads: one row per block size. */
  String table() {
    List<String> shown = measuredBaselines();
    StringBuilder sb = new StringBuilder();
    ObjectNode first = results.get(0);
    sb.append(String.format(Locale.ROOT, "%s %s, batch %d, %d threads, %.0f s per size%n",
        first.get("protocol").asText(), first.get("operation").asText(),
        first.get("batch_size").asInt(), first.get("threads").asInt(),
        first.get("duration_s").asDouble()));
    sb.append(String.format(Locale.ROOT, "%-9s %9s %13s %10s %10s %7s", "block", "GB/s",
        "transfers/s", "p50 us", "p99 us", "errors"));
    for (String b : shown) {
      sb.append(String.format(Locale.ROOT, " %14s %7s", b + " GB/s", "ratio"));
    }
    sb.append('\n');
    for (ObjectNode r : results) {
      sb.append(String.format(Locale.ROOT, "%-9s %9.3f %13d %10.1f %10.1f %7d",
          sizeName(r.get("block_size").asLong()), r.get("gbytes_per_sec").asDouble(),
          r.get("transfers_per_sec").asLong(), r.get("batch_latency_us").get("p50").asDouble(),
          r.get("batch_latency_us").get("p99").asDouble(), r.get("errors").asLong()));
      for (String b : shown) {
        if (r.has("baseline_" + b + "_gbps")) {
          sb.append(String.format(Locale.ROOT, " %14.3f %6.2fx",
              r.get("baseline_" + b + "_gbps").asDouble(), r.get("ratio_to_" + b).asDouble()));
        } else {
          sb.append(String.format(Locale.ROOT, " %14s %7s", "-", "-"));
        }
      }
      sb.append('\n');
    }
    return sb.toString().stripTrailing();
  }

  /** {@code {"sweep": [...], "chart": path}}. */
  ObjectNode json(Path chart) {
    ObjectNode j = new ObjectMapper().createObjectNode();
    ArrayNode rows = j.putArray("sweep");
    results.forEach(rows::add);
    j.put("chart", chart.toAbsolutePath().toString());
    return j;
  }

  /** The chart: GB/s over block size (evenly spaced, labelled), one line per series. */
  String svg() {
    List<String> series = new ArrayList<>();
    series.add("engine");
    series.addAll(measuredBaselines());
    double max = 0;
    for (ObjectNode r : results) {
      for (String s : series) {
        max = Math.max(max, gbps(r, s));
      }
    }
    double top = niceCeiling(max);
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;
    StringBuilder svg = new StringBuilder();
    ObjectNode first = results.get(0);
    svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
        + "width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH,
        HEIGHT));
    svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n",
        WIDTH, HEIGHT));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"15\">te bench: "
        + "%s %s, batch %d, %d threads</text>%n", LEFT, escape(first.get("protocol").asText()),
        first.get("operation").asText(), first.get("batch_size").asInt(),
        first.get("threads").asInt()));
    for (int i = 0; i <= 5; i++) { // horizontal grid and GB/s ticks
      double v = top * i / 5;
      double y = TOP + plotH - plotH * i / 5.0;
      svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
          + "stroke=\"#ddd\"/>%n<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT,
          y, LEFT + plotW, y, LEFT - 6, y + 4, trim(v)));
    }
    svg.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)"
        + "\" text-anchor=\"middle\">GB/s</text>%n", TOP + plotH / 2, TOP + plotH / 2));
    for (int i = 0; i < results.size(); i++) { // block size ticks
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
          + "%s</text>%n", x(i, plotW), TOP + plotH + 20,
          sizeName(results.get(i).get("block_size").asLong())));
    }
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">block "
        + "size</text>%n", LEFT + plotW / 2, HEIGHT - 14));
    for (int s = 0; s < series.size(); s++) {
      String colour = COLOURS[s % COLOURS.length];
      StringBuilder points = new StringBuilder();
      for (int i = 0; i < results.size(); i++) {
        double g = gbps(results.get(i), series.get(s));
        if (g < 0) {
          continue;
        }
        double y = TOP + plotH - plotH * g / top;
        points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(i, plotW), y));
        svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
            + "fill=\"%s\"/>%n", x(i, plotW), y, colour));
      }
      svg.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" "
          + "stroke=\"%s\" stroke-width=\"2\"%s/>%n", points.toString().strip(), colour,
          s == 0 ? "" : " stroke-dasharray=\"6 4\""));
      int ly = TOP + 10 + s * 20;
      svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
          + "stroke=\"%s\" stroke-width=\"2\"/>%n<text x=\"%d\" y=\"%d\">%s</text>%n",
          WIDTH - RIGHT + 16, ly, WIDTH - RIGHT + 40, ly, colour, WIDTH - RIGHT + 46, ly + 4,
          escape(s == 0 ? "te4j " + first.get("protocol").asText()
              : Baselines.LABELS.get(series.get(s)))));
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  /** The baselines that have a figure for at least one block size, in report order. */
  private List<String> measuredBaselines() {
    List<String> shown = new ArrayList<>();
    for (String b : Baselines.LABELS.keySet()) {
      if (baselines.contains(b) && results.stream().anyMatch(r -> r.has("baseline_" + b
          + "_gbps"))) {
        shown.add(b);
      }
    }
    return shown;
  }

  /** A series' GB/s for one result, or -1 when it has none. */
  private static double gbps(ObjectNode r, String series) {
    String key = series.equals("engine") ? "gbytes_per_sec" : "baseline_" + series + "_gbps";
    return r.has(key) ? r.get(key).asDouble() : -1;
  }

  private double x(int i, int plotW) {
    return results.size() == 1 ? LEFT + plotW / 2.0
        : LEFT + 20 + (plotW - 40) * i / (double) (results.size() - 1);
  }

  /** The smallest of 1, 2, 2.5, 5 times a power of ten at or above {@code v}. */
  static double niceCeiling(double v) {
    if (v <= 0) {
      return 1;
    }
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * p >= v) {
        return m * p;
      }
    }
    return 10 * p;
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v)
        .replaceAll("0+$", "");
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
