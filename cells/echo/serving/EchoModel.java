package example;

import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Reply;
import deployer.spi.Request;
import java.util.Collections;

/**
 * The smallest serving script: answers every request with what it was sent, as {"echo": <input>}.
 * Copy it to start your own model; the four methods below are the four stages every request goes through.
 */
public class EchoModel implements Model {

    // Stage 1, once when the cell starts: read your artefacts here, relative to context.directory().
    // Echo has none, so it only says hello in the server's log.
    @Override
    public void load(ModelContext context) {
        context.logger().log(System.Logger.Level.INFO, "echo v" + context.version() + " loaded");
    }

    // Stage 2, per request: turn the HTTP request into your model's input.
    // request.json() parses the body; a body that is not JSON already gets a 400.
    // Throw IllegalArgumentException for any other input you cannot use: the client gets a 400 with its message.
    @Override
    public Object prepare(Request request) {
        return request.json();
    }

    // Stage 3, per request, possibly on many threads at once: compute the prediction.
    // singletonMap, not Map.of, because the input may be JSON null.
    @Override
    public Object score(Object input) {
        return Collections.singletonMap("echo", input);
    }

    // Stage 4, per request: turn the prediction into the HTTP reply. JSON maps, lists, strings and numbers
    // go out as JSON; Reply.bytes(...) sends anything else, Reply.json(...).status(...) another status.
    @Override
    public Reply reply(Object prediction) {
        return Reply.json(prediction);
    }
}
