package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** list, status, stop, start, restart, activate, undeploy and events: tables for people, --json for scripts. */
class LifecycleCliTest extends CliServerTest {

    @Test
    void undeployOneVersionKeepsTheModelAndRefusesTheServingOne() throws Exception {
        ok("deploy", "cells/echo");
        ok("deploy", "cells/echo");

        Cli.Run serving = cli.run(server.with("undeploy", "echo", "--version", "2"));
        Cli.Run retired = cli.run(server.with("undeploy", "echo", "--version", "1"));

        assertThat(serving.exit()).isEqualTo(1);
        assertThat(serving.err()).contains("version 2 is the active version of echo").contains("(HTTP 409)");
        assertThat(retired.exit()).as(retired.toString()).isZero();
        assertThat(retired.out()).isEqualTo("echo version 1 deleted, with its files\n");
        assertThat(server.predict("echo", "{\"still\": true}").statusCode()).isEqualTo(200);
    }

    @Test
    void aModelsWholeLife() throws Exception {
        assertThat(ok("deploy", "cells/echo").out()).startsWith("echo v1 READY");
        assertThat(ok("deploy", "cells/echo").out()).startsWith("echo v2 READY");

        String table = ok("list").out();
        assertThat(table.lines().findFirst().orElseThrow()).matches("NAME +VERSION +STATE +PORT +URL +DEPLOY_ID");
        assertThat(table).containsPattern("echo +2 +READY +\\d+ +http://127\\.0\\.0\\.1:\\d+ +\\d+");
        List<?> models = (List<?>) json(ok("list", "--json").out());
        assertThat(models).hasSize(1);
        Map<?, ?> line = (Map<?, ?>) models.get(0);
        assertThat(line.get("name")).isEqualTo("echo");
        assertThat(line.get("version")).isEqualTo(2L);

        Object deployId = line.get("deploy_id");
        assertThat(ok("status", String.valueOf(deployId)).out()).containsPattern("state: +READY")
                .containsPattern("model: +echo");
        assertThat(((Map<?, ?>) json(ok("status", String.valueOf(deployId), "--json").out())).get("deploy_id"))
                .isEqualTo(deployId);

        assertThat(ok("stop", "echo").out()).isEqualTo("echo v2 STOPPED\n");
        assertThat(server.predict("echo", "1").statusCode()).isEqualTo(503);
        assertThat(ok("start", "echo").out()).startsWith("echo v2 READY on port ");
        assertThat(ok("restart", "echo").out()).startsWith("echo v2 READY on port ");
        assertThat(ok("activate", "echo", "1").out()).startsWith("echo v1 READY on port ");
        assertThat(server.predict("echo", "{\"a\":1}").body()).contains("\"echo\":{\"a\":1}");

        Cli.Run events = ok("events", "echo", "--limit", "5");
        assertThat(events.out().lines().findFirst().orElseThrow()).matches("TIME +MODEL +VERSION +KIND +MESSAGE");
        assertThat(events.out().lines().count()).isEqualTo(6);
        assertThat((List<?>) json(ok("events", "--json", "--limit", "3").out())).hasSize(3);

        Path stored = data.resolve("models").resolve("echo");
        assertThat(stored).isDirectory();
        assertThat(ok("undeploy", "echo", "--purge").out()).isEqualTo("echo undeployed, its files deleted\n");
        assertThat(Files.exists(stored) && Files.list(stored).findAny().isPresent()).isFalse();
        assertThat(ok("list").out()).isEqualTo("no models yet; `deployer deploy DIR` deploys one\n");
    }

    @Test
    void predictReadsItsBodyFromAFile(@TempDir Path work) throws Exception {
        ok("deploy", "cells/echo");
        Path body = Files.writeString(work.resolve("body.json"), "{\"from\":\"file\"}");

        Cli.Run run = ok("predict", "echo", "@" + body);

        assertThat(json(run.out())).isEqualTo(Map.of("echo", Map.of("from", "file")));
    }

    private Cli.Run ok(String... args) {
        Cli.Run run = cli.run(server.with(args));
        assertThat(run.exit()).as(run.toString()).isZero();
        return run;
    }

    private static Object json(String text) throws Exception {
        return Json.parse(text.getBytes(StandardCharsets.UTF_8));
    }
}
