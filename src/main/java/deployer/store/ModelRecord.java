package deployer.store;

import java.time.Instant;

/** One model name: the port it keeps and its active deployment (null until a version has been READY). */
public record ModelRecord(String name, Integer port, Long activeDeployId, Instant created) {
}
