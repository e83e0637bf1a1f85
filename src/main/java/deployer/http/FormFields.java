package deployer.http;

import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.UrlEncoded;

/** Reading {@code a=1&b=2} (a query string, a login form) with Jetty's decoder. */
final class FormFields {

    private FormFields() {
    }

    /**
     * The first value of {@code name} in {@code encoded} ({@code ""} for a bare {@code name}), or null.
     *
     * @throws IllegalArgumentException when {@code encoded} is not valid URL encoding of UTF-8
     */
    static String first(String encoded, String name) {
        Fields fields = new Fields();
        UrlEncoded.decodeUtf8To(encoded, fields);
        return fields.getValue(name);
    }
}
