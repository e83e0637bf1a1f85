package deployer.pack;

import deployer.core.DeployerException;

/**
 * The allowed range of one numeric manifest setting, kept in one place so the parser's type check and the record's
 * range check say the same words.
 */
record Bound(String field, double min, double max, boolean whole) {

    Bound(String field, long min, long max) {
        this(field, min, max, true);
    }

    Bound(String field, double min, double max) {
        this(field, min, max, false);
    }

    void check(double value) {
        if (!(value >= min && value <= max)) {
            throw mismatch(whole && value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value));
        }
    }

    /** The error for a value that is out of range or of the wrong type, {@code shown} as it appeared in the file. */
    DeployerException mismatch(String shown) {
        String range = whole
                ? "a whole number from " + (long) min + " to " + (long) max
                : "a number from " + min + " to " + max;
        return DeployerException.badRequest("deploy.json: " + field + " must be " + range + ", not " + shown);
    }
}
