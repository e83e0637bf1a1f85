package deployer.cell;

/**
 * Names one cell: a model's version, the upload it came from, and which start of it this is ({@code instance} is
 * unique in the server, so a restarted version's new cell and its old one are told apart).
 */
record CellId(String model, int version, long deployId, long instance) {

    @Override
    public String toString() {
        return model + " v" + version;
    }
}
