package deployer.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * JSON as the server reads and writes it: objects become {@code Map}, arrays {@code List}, integers {@code Long}
 * and other numbers {@code Double} (DESIGN 1.4), and a duplicate key is an error. Immutable, so shared.
 */
public final class Json {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    private Json() {
    }

    /** Parses JSON text into JDK types; the message of the exception says where the text went wrong. */
    public static Object parse(byte[] json) throws IOException {
        return MAPPER.readValue(json, Object.class);
    }

    public static byte[] write(Object value) throws JsonProcessingException {
        return MAPPER.writeValueAsBytes(value);
    }

    public static String writeString(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads and writes a small document of every JDK type the API's answers are made of, so that Jackson's classes
     * and serializers are loaded before the first request rather than during it (~0.1 s at start-up).
     */
    public static void warm() {
        try {
            parse(write(List.of(Map.of("text", "a", "long", 1L, "double", 0.5, "flag", true, "list", List.of()))));
        } catch (IOException e) {
            throw new IllegalStateException("JSON does not round-trip: " + e.getMessage(), e);
        }
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
