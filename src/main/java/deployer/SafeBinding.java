package deployer;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Safe by default: the main port and the cell ports listen on this machine only unless the user says otherwise, and
 * saying otherwise takes a token of the user's own. The token the server makes in {@code admin.token} is a
 * convenience for one user on one machine; a server reachable from other machines must not be guarded by a secret
 * nobody chose (TorchServe's CVE-2023-43654 was a management API open on every interface).
 */
final class SafeBinding {

    private SafeBinding() {
    }

    /**
     * Refuses settings that would listen beyond loopback without {@code --token}.
     *
     * @throws IllegalStateException naming the flag, the address and the two ways out
     */
    static void check(Settings settings) {
        if (settings.token().isPresent()) {
            return;
        }
        refuseIfExposed("--host", settings.host());
        refuseIfExposed("--cell-host", settings.cellHost());
    }

    /** Whether every address {@code host} stands for is a loopback one ({@code 127.0.0.1}, {@code ::1}, localhost). */
    static boolean isLoopback(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        try {
            InetAddress[] addresses = InetAddress.getAllByName(bare);
            return addresses.length > 0 && Arrays.stream(addresses).allMatch(InetAddress::isLoopbackAddress);
        } catch (UnknownHostException | SecurityException e) {
            // A name that does not resolve is not known to be local; Jetty would fail to bind it anyway.
            return false;
        }
    }

    private static void refuseIfExposed(String flag, String host) {
        if (!isLoopback(host)) {
            throw new IllegalStateException(flag + " " + host + " would serve other machines, but no --token (or"
                    + " DEPLOYER_TOKEN) is set: the generated admin.token is meant for use on this machine only."
                    + " Pass --token with a secret of your own (at least 16 characters), or leave " + flag
                    + " at 127.0.0.1");
        }
    }
}
