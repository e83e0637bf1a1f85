package deployer.spi;

import java.util.Objects;

/**
 * What a cell sends back for one request: a JSON value or raw bytes, with an HTTP status (200 unless set).
 * Instances are immutable; {@link #status(int)} returns a copy.
 */
public final class Reply {

    private final Object value;
    private final byte[] body;
    private final String contentType;
    private final int status;

    private Reply(Object value, byte[] body, String contentType, int status) {
        this.value = value;
        this.body = body;
        this.contentType = contentType;
        this.status = status;
    }

    /**
     * A reply whose body is {@code value} written as JSON ({@code application/json}).
     *
     * @param value a JDK JSON value (map, list, string, number, boolean) or null
     * @return the reply, status 200
     */
    public static Reply json(Object value) {
        return new Reply(value, null, "application/json", 200);
    }

    /**
     * A reply whose body is sent as it is.
     *
     * @param contentType the {@code Content-Type} to send, e.g. {@code image/png}; not null
     * @param body the bytes to send; not null
     * @return the reply, status 200
     */
    public static Reply bytes(String contentType, byte[] body) {
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(body, "body");
        return new Reply(null, body.clone(), contentType, 200);
    }

    /**
     * A copy of this reply with another HTTP status.
     *
     * @param code the status, 100 to 599
     * @return the copy
     * @throws IllegalArgumentException when the code is not an HTTP status
     */
    public Reply status(int code) {
        if (code < 100 || code > 599) {
            throw new IllegalArgumentException("HTTP status must be 100-599, not " + code);
        }
        return new Reply(value, body, contentType, code);
    }

    /**
     * @return the HTTP status, 200 unless {@link #status(int)} set another
     */
    public int status() {
        return status;
    }

    /**
     * @return the {@code Content-Type} sent with the reply
     */
    public String contentType() {
        return contentType;
    }

    /**
     * @return true when the body is a JSON value ({@link #json}), false when it is bytes ({@link #bytes})
     */
    public boolean isJson() {
        return body == null;
    }

    /**
     * @return the JSON value of a {@link #json} reply; null for a bytes reply
     */
    public Object value() {
        return value;
    }

    /**
     * @return a copy of the bytes of a {@link #bytes} reply; null for a JSON reply
     */
    public byte[] body() {
        return body == null ? null : body.clone();
    }
}
