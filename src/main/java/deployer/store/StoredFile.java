package deployer.store;

/** One file of a version as the database keeps it: its path in the package and the blob of its bytes. */
public record StoredFile(String path, String sha256, long size) {
}
