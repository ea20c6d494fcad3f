package fiscaflow;

import static org.codelibs.opensearch.runner.OpenSearchRunner.newConfigs;

import java.nio.file.Files;
import java.nio.file.Path;
import org.codelibs.opensearch.runner.OpenSearchRunner;

/**
 * One search node for local runs and the test suite: HTTP on 127.0.0.1:PORT (default 9200),
 * data kept under BASE (default .local/search-node) so a restart finds its indices again.
 * Stops cleanly on SIGTERM; never deletes its data (a restart must behave like a real node's).
 */
public final class SearchNode {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(System.getProperty("fiscaflow.port", "9200"));
    Path base = Path.of(System.getProperty("fiscaflow.base", ".local/search-node")).toAbsolutePath();
    Files.createDirectories(base);
    OpenSearchRunner runner = new OpenSearchRunner();
    runner.setMaxHttpPort(port); // exactly this port, not the next free one
    runner.onBuild((number, settings) -> {
      settings.put("network.host", "127.0.0.1");
      settings.put("http.port", String.valueOf(port));
      settings.put("transport.port", String.valueOf(port + 100));
      settings.putList("discovery.seed_hosts", "127.0.0.1:" + (port + 100));
      settings.putList("cluster.initial_cluster_manager_nodes", "Node 1");
      // A laptop or CI disk above 90 % would otherwise turn every index read-only.
      settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
      // Writes go through aliases only: a missing alias must fail, not create an index.
      settings.put("action.auto_create_index", false);
    }).build(newConfigs().clusterName("fiscaflow-local").numOfNode(1).basePath(base.toString())
        .baseHttpPort(port - 1).disableESLogger());
    runner.ensureYellow();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (Exception e) {
        e.printStackTrace();
      }
    }));
    System.out.println("search node ready on http://127.0.0.1:" + port);
    Thread.currentThread().join();
  }
}
