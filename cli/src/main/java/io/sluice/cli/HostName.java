package io.sluice.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** This host's name, for defaults that name it: {@code $HOSTNAME} (a container's), else what the resolver says. */
final class HostName {

    private HostName() {
    }

    /** The host's name, or {@code fallback} when the host has none to tell. */
    static String orElse(String fallback) {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return fallback;
        }
    }
}
