package deployer.core;

/** Host names as they go into a URI. */
public final class Hosts {

    private Hosts() {
    }

    /** {@code host} as a URI's authority needs it: an IPv6 literal in brackets ({@code [::1]}), anything else as is. */
    public static String forUri(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }
}
