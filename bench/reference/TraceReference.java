// Reference hit ratios for the trace tests: exact LRU, Caffeine (the JVM's W-TinyLFU, best of
// several runs: it is randomized) and Belady's OPT, on the same traces and sizes as
// tests/trace_test.cpp. Run by bench/reference_table.sh; prints one Markdown row per cell.
//
// Usage: java -cp caffeine.jar:. TraceReference [--csv] RUNS TRACE.trace.gz SIZE [SIZE...]
// (--csv: "trace,size,lru,caffeine,opt" rows instead, for bench/plot_hit_ratio.sh)
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;

public final class TraceReference {
  static long[] load(String path) throws Exception {
    ArrayList<Long> keys = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(new FileInputStream(path))))) {
      for (String line; (line = in.readLine()) != null;) {
        line = line.trim();
        if (!line.isEmpty()) keys.add(Long.parseUnsignedLong(line));
      }
    }
    long[] out = new long[keys.size()];
    for (int i = 0; i < out.length; i++) out[i] = keys.get(i);
    return out;
  }

  /** Exact LRU: an access-ordered LinkedHashMap bounded at `size`. */
  static double lru(long[] keys, int size) {
    LinkedHashMap<Long, Long> m = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Long> e) {
        return size() > size;
      }
    };
    long hits = 0;
    for (long k : keys) {
      if (m.get(k) != null) {
        hits++;
      } else {
        m.put(k, k);
      }
    }
    return 100.0 * hits / keys.length;
  }

  /** Caffeine bounded at `size`, maintenance on the caller's thread; get, and put on a miss. */
  static double caffeine(long[] keys, int size) {
    Cache<Long, Long> c = Caffeine.newBuilder().maximumSize(size).executor(Runnable::run).build();
    long hits = 0;
    for (long k : keys) {
      if (c.getIfPresent(k) != null) {
        hits++;
      } else {
        c.put(k, k);
      }
    }
    return 100.0 * hits / keys.length;
  }

  /** Belady's OPT: on a miss into a full cache, evict the entry used again furthest ahead. */
  static double opt(long[] keys, int size) {
    int n = keys.length;
    int[] next = new int[n];
    HashMap<Long, Integer> last = new HashMap<>();
    for (int i = n - 1; i >= 0; i--) {
      Integer j = last.get(keys[i]);
      next[i] = j == null ? Integer.MAX_VALUE - (n - i) : j;  // never again: distinct, far
      last.put(keys[i], i);
    }
    HashMap<Long, Integer> due = new HashMap<>();  // key -> its next use
    TreeSet<long[]> order = new TreeSet<>((a, b) -> Long.compare(a[0], b[0]));
    long hits = 0;
    for (int i = 0; i < n; i++) {
      Integer d = due.get(keys[i]);
      if (d != null) {
        hits++;
        order.remove(new long[] {d});
      } else if (due.size() >= size) {
        long[] far = order.pollLast();
        due.remove(far[1]);
      }
      due.put(keys[i], next[i]);
      order.add(new long[] {next[i], keys[i]});
    }
    return 100.0 * hits / n;
  }

  public static void main(String[] argv) throws Exception {
    boolean csv = argv[0].equals("--csv");
    String[] args = csv ? java.util.Arrays.copyOfRange(argv, 1, argv.length) : argv;
    int runs = Integer.parseInt(args[0]);
    String path = args[1];
    String name = Paths.get(path).getFileName().toString().replace(".trace.gz", "");
    long[] keys = load(path);
    for (int a = 2; a < args.length; a++) {
      int size = Integer.parseInt(args[a]);
      double best = 0;
      for (int r = 0; r < runs; r++) best = Math.max(best, caffeine(keys, size));
      String format = csv ? "%s,%d,%.2f,%.2f,%.2f%n" : "| %s | %d | %.2f | %.2f | %.2f |%n";
      System.out.printf(format, name, size, lru(keys, size), best, opt(keys, size));
    }
  }
}
