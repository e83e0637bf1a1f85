package deployer.pack;

/**
 * Limits of one upload, enforced while it is read rather than after.
 *
 * @param maxUploadBytes the most request body bytes accepted; more answers 413
 * @param maxParts the most multipart parts accepted; more answers 400
 * @param maxEntries the most files and folders a package may hold; more answers 400
 * @param maxUnpackedBytes the most bytes the unpacked files may hold, counted as they are written; more answers 413
 */
public record PackLimits(long maxUploadBytes, int maxParts, int maxEntries, long maxUnpackedBytes) {

    public static final int DEFAULT_MAX_PARTS = 1000;
    public static final int DEFAULT_MAX_ENTRIES = 10_000;
    /** An archive may unpack to this many times its upload limit: models compress, bombs compress far better. */
    public static final int DEFAULT_UNPACK_RATIO = 4;

    /**
     * @throws IllegalArgumentException when a limit is zero or negative; the message names it
     */
    public PackLimits {
        positive("maxUploadBytes", maxUploadBytes);
        positive("maxParts", maxParts);
        positive("maxEntries", maxEntries);
        positive("maxUnpackedBytes", maxUnpackedBytes);
    }

    /**
     * The limits for {@code --max-upload-mb}: that many MiB per request, {@value #DEFAULT_MAX_PARTS} parts,
     * {@value #DEFAULT_MAX_ENTRIES} entries and {@value #DEFAULT_UNPACK_RATIO} times the upload once unpacked.
     *
     * @param maxUploadMb the upload limit in MiB, positive
     * @return the limits
     * @throws IllegalArgumentException when {@code maxUploadMb} is not positive or too large to count in bytes
     */
    public static PackLimits forUploadMb(long maxUploadMb) {
        positive("--max-upload-mb", maxUploadMb);
        try {
            long bytes = Math.multiplyExact(maxUploadMb, 1024L * 1024L);
            return new PackLimits(bytes, DEFAULT_MAX_PARTS, DEFAULT_MAX_ENTRIES,
                    Math.multiplyExact(bytes, (long) DEFAULT_UNPACK_RATIO));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("--max-upload-mb: " + maxUploadMb + " MiB is too large", e);
        }
    }

    private static void positive(String setting, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(setting + " must be positive, not " + value);
        }
    }
}
