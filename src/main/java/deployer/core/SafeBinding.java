package deployer.core;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Safe by default: the main port and the cell ports listen on this machine only unless the user says otherwise, and
 * saying otherwise takes a token of the user's own. The token the server makes in {@code admin.token} is a
 * convenience for one user on one machine; a server reachable from other machines must not be guarded by a secret
 * nobody chose (TorchServe's CVE-2023-43654 was a management API open on every interface). Nor may it send that
 * secret, and every model's answers, in clear text: beyond loopback the ports serve TLS, or the user says
 * {@code --insecure-http} and the log says so at every start.
 */
public final class SafeBinding {

    private static final Logger log = LoggerFactory.getLogger(SafeBinding.class);

    private SafeBinding() {
    }

    /**
     * Refuses settings that would listen beyond loopback without {@code --token}, or in clear text without
     * {@code --insecure-http}; warns when they do the latter.
     *
     * @throws IllegalStateException naming the flag, the address and the ways out
     */
    public static void check(Settings settings) {
        if (settings.token().isEmpty()) {
            refuseIfExposed("--host", settings.host());
            refuseIfExposed("--cell-host", settings.cellHost());
        }
        Settings.Security security = settings.security();
        if (security.tls()) {
            return;
        }
        for (String[] binding : new String[][] {{"--host", settings.host()}, {"--cell-host", settings.cellHost()}}) {
            if (isLoopback(binding[1])) {
                continue;
            }
            if (!security.insecureHttp()) {
                throw new IllegalStateException(binding[0] + " " + binding[1] + " would serve other machines in clear"
                        + " text: tokens and every model's answers could be read on the way. Pass --tls-cert FILE"
                        + " --tls-key FILE (PEM) or --tls-keystore FILE (PKCS#12), or --insecure-http if a proxy"
                        + " in front terminates TLS");
            }
            log.warn("{} {} serves other machines over plain HTTP (--insecure-http): tokens and model answers"
                    + " travel in clear text; use it only behind a proxy that terminates TLS", binding[0],
                    binding[1]);
        }
    }

    /** Whether every address {@code host} stands for is a loopback one ({@code 127.0.0.1}, {@code ::1}, localhost). */
    public static boolean isLoopback(String host) {
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
