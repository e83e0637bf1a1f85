package deployer.cli;

import java.io.FileNotFoundException;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;

/**
 * The body of one upload: a {@code multipart/form-data} request whose one part, {@code package}, is an archive
 * streamed from its file, so no archive is ever held in memory. The length is known up front, and every chunk
 * handed to the connection is counted for the progress bar.
 */
final class Upload {

    private final String boundary;
    private final byte[] head;
    private final Path archive;
    private final byte[] tail;
    private final LongConsumer sent;

    /**
     * @param archive the .zip or .tar.gz to send
     * @param filename the part's file name, as the server logs it
     * @param sent told the number of bytes of every chunk sent
     */
    Upload(Path archive, String filename, LongConsumer sent) {
        this(archive, filename, java.util.Map.of(), sent);
    }

    /**
     * @param stored jars left out of the archive because the server keeps them: path inside the package → SHA-256,
     *     each sent as a part {@code stored} (its filename the path, its content the hash) before the archive
     */
    Upload(Path archive, String filename, java.util.Map<String, String> stored, LongConsumer sent) {
        byte[] random = new byte[12];
        new SecureRandom().nextBytes(random);
        this.boundary = "deployer-" + HexFormat.of().formatHex(random);
        StringBuilder parts = new StringBuilder();
        stored.forEach((path, sha) -> parts.append("--").append(boundary).append("\r\n")
                .append("Content-Disposition: form-data; name=\"stored\"; filename=\"")
                .append(path.replace("\"", "")).append("\"\r\n\r\n").append(sha).append("\r\n"));
        this.head = (parts + "--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"package\"; filename=\"" + filename.replace("\"", "")
                + "\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        this.archive = archive;
        this.tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        this.sent = sent;
    }

    String contentType() {
        return "multipart/form-data; boundary=" + boundary;
    }

    HttpRequest.BodyPublisher publisher() {
        HttpRequest.BodyPublisher file;
        try {
            file = HttpRequest.BodyPublishers.ofFile(archive);
        } catch (FileNotFoundException e) {
            throw CliFailure.usage("cannot read " + archive + ": " + e.getMessage());
        }
        return new Counting(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofByteArray(head), file,
                HttpRequest.BodyPublishers.ofByteArray(tail)), sent);
    }

    /** Hands every chunk on unchanged, and counts it first. */
    private record Counting(HttpRequest.BodyPublisher delegate, LongConsumer sent)
            implements HttpRequest.BodyPublisher {

        @Override
        public long contentLength() {
            return delegate.contentLength();
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
            delegate.subscribe(new Flow.Subscriber<ByteBuffer>() {
                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                    subscriber.onSubscribe(subscription);
                }

                @Override
                public void onNext(ByteBuffer item) {
                    sent.accept(item.remaining());
                    subscriber.onNext(item);
                }

                @Override
                public void onError(Throwable throwable) {
                    subscriber.onError(throwable);
                }

                @Override
                public void onComplete() {
                    subscriber.onComplete();
                }
            });
        }
    }
}
