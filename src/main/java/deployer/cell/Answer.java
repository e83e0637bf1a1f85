package deployer.cell;

/** A reply ready for the wire: status, content type and body bytes. */
public record Answer(int status, String contentType, byte[] body) {

    static final String JSON = "application/json";
}
