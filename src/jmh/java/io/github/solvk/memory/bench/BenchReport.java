package io.github.solvk.memory.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns JMH JSON results ({@code -rf json}) into Markdown tables with the contenders side by side: one row per
 * benchmark configuration, one column per contender, then the ratios ours / VMA and the worst
 * {@code gc.alloc.rate.norm} of the row. For SampleTime results it prints p99.9 (and the mean in brackets).
 *
 * <p>Given files of the same name from several runs, it prints one table per name with the best and the worst run of
 * every cell ({@code best … worst}) and computes the ratios from the best: on a shared machine interference only ever
 * adds time, so the lowest of several runs is the least disturbed estimate.
 *
 * <pre>
 * java -cp ... io.github.solvk.memory.bench.BenchReport target/bench/*.json
 * java -cp ... io.github.solvk.memory.bench.BenchReport run1/*.json run2/*.json run3/*.json
 * </pre>
 */
public final class BenchReport {

    private BenchReport() {
    }

    /**
     * @param args JMH JSON result files
     * @throws IOException when one cannot be read
     */
    public static void main(String[] args) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        // Files of the same name from several runs (run1/floor.json run2/floor.json ...) are one table.
        Map<String, List<JsonNode>> runsByName = new LinkedHashMap<>();
        for (String file : args) {
            JsonNode results = mapper.readTree(new File(file));
            String name = new File(file).getName();
            if (results == null || !results.isArray() || results.size() == 0) {
                System.out.println("(" + file + ": no results)\n");
                continue;
            }
            runsByName.computeIfAbsent(name, k -> new ArrayList<>()).add(results);
        }
        for (Map.Entry<String, List<JsonNode>> entry : runsByName.entrySet()) {
            report(entry.getKey(), entry.getValue());
        }
    }

    private static final class Row {
        final Map<String, String> scores = new LinkedHashMap<>();
        /** The best (lowest) value of every run: interference on a shared box only ever adds time. */
        final Map<String, Double> values = new LinkedHashMap<>();
        final Map<String, Double> worst = new LinkedHashMap<>();
        double worstAllocNorm = Double.NaN;
    }

    private static void report(String name, List<JsonNode> runs) {
        Map<String, Row> rows = new LinkedHashMap<>();
        List<String> contenders = new ArrayList<>();
        String unit = "";
        boolean several = runs.size() > 1;
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode results : runs) {
            results.forEach(all::add);
        }
        for (JsonNode result : all) {
            String benchmark = result.get("benchmark").asText();
            benchmark = benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1);
            String mode = result.get("mode").asText();
            String contender = "?";
            StringBuilder config = new StringBuilder(benchmark).append(' ').append(mode);
            JsonNode params = result.get("params");
            if (params != null) {
                for (Iterator<Map.Entry<String, JsonNode>> it = params.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> param = it.next();
                    if (param.getKey().startsWith("contender")) {
                        contender = param.getValue().asText();
                    } else {
                        config.append(' ').append(param.getKey()).append('=').append(param.getValue().asText());
                    }
                }
            }
            if (!contenders.contains(contender)) {
                contenders.add(contender);
            }
            JsonNode primary = result.get("primaryMetric");
            unit = primary.get("scoreUnit").asText();
            double score = primary.get("score").asDouble();
            double value = score;
            String text = format(score);
            if ("sample".equals(mode)) {
                JsonNode percentiles = primary.get("scorePercentiles");
                value = percentiles.get("99.9").asDouble();
                text = format(value) + " (" + format(score) + ")";
            }
            Row row = rows.computeIfAbsent(config.toString(), k -> new Row());
            row.values.merge(contender, value, Math::min);
            row.worst.merge(contender, value, Math::max);
            row.scores.put(contender, several
                    ? format(row.values.get(contender)) + " … " + format(row.worst.get(contender)) : text);
            JsonNode norm = result.path("secondaryMetrics").path("gc.alloc.rate.norm").path("score");
            if (!norm.isMissingNode()) {
                double n = norm.asDouble();
                row.worstAllocNorm = Double.isNaN(row.worstAllocNorm) ? n : Math.max(row.worstAllocNorm, n);
            }
        }
        System.out.println("### " + name + " (" + unit + (name.contains("sampled") ? ", p99.9" : "")
                + (several ? ", best … worst of " + runs.size() + " runs; ratios of the best"
                        : name.contains("sampled") ? " (mean)" : "") + ")");
        System.out.println();
        StringBuilder header = new StringBuilder("| configuration |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String contender : contenders) {
            header.append(' ').append(contender).append(" |");
            rule.append("---:|");
        }
        header.append(" TLSF / VMA_TLSF | best ours / best VMA | gc.alloc.rate.norm B/op |");
        rule.append("---:|---:|---:|");
        System.out.println(header);
        System.out.println(rule);
        for (Map.Entry<String, Row> entry : rows.entrySet()) {
            Row row = entry.getValue();
            StringBuilder line = new StringBuilder("| ").append(entry.getKey()).append(" |");
            for (String contender : contenders) {
                line.append(' ').append(row.scores.getOrDefault(contender, "")).append(" |");
            }
            Double tlsf = row.values.get("TLSF");
            Double vmaTlsf = row.values.get("VMA_TLSF");
            line.append(' ').append(tlsf != null && vmaTlsf != null ? ratio(tlsf / vmaTlsf) : "").append(" |");
            double bestOurs = Double.MAX_VALUE;
            double bestVma = Double.MAX_VALUE;
            for (Map.Entry<String, Double> v : row.values.entrySet()) {
                if (v.getKey().startsWith("VMA_")) {
                    bestVma = Math.min(bestVma, v.getValue());
                } else if (!v.getKey().startsWith("JAVA_")) {
                    bestOurs = Math.min(bestOurs, v.getValue());
                }
            }
            line.append(' ').append(bestOurs != Double.MAX_VALUE && bestVma != Double.MAX_VALUE
                    ? ratio(bestOurs / bestVma) : "").append(" |");
            line.append(' ').append(Double.isNaN(row.worstAllocNorm) ? ""
                    : String.format(Locale.ROOT, "%.3f", row.worstAllocNorm)).append(" |");
            System.out.println(line);
        }
        System.out.println();
    }

    private static String format(double value) {
        if (value >= 1000) {
            return String.format(Locale.ROOT, "%.0f", value);
        }
        if (value >= 10) {
            return String.format(Locale.ROOT, "%.1f", value);
        }
        return String.format(Locale.ROOT, "%.2f", value);
    }

    private static String ratio(double value) {
        return String.format(Locale.ROOT, "%.2fx", value);
    }
}
