package deployer.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code deployer cancel DEPLOY_ID}: gives up a version that is STARTING; its load() is interrupted. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = {"Gives up a version that is still STARTING (its compile or load() is interrupted);",
                "it ends FAILED with the error \"cancelled\". Exit status 1 when it was not STARTING."})
public final class CancelCommand extends ApiCommand {

    @Parameters(paramLabel = "DEPLOY_ID", description = "The id the upload answered (`deployer list` shows it).")
    long deployId;

    @Override
    int run() {
        Api.Response reply = api().post("/api/deployments/" + deployId + "/cancel").orFail();
        Map<String, Object> d = reply.object();
        if (json) {
            printJson(reply);
        } else {
            out().println(d.get("model") + " version " + d.get("version") + " (deploy_id " + deployId
                    + ") cancelled");
        }
        return 0;
    }
}
