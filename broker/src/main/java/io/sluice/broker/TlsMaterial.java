package io.sluice.broker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for {@code 127.0.0.1}/{@code localhost} and a truststore holding it, made with the JDK's
 * own {@code keytool}: what an embedded broker's TLS listener presents and its clients trust. For development and
 * tests; a real cluster's certificates come from its CA.
 *
 * @param keystore   PKCS12 with the broker's key and certificate
 * @param truststore PKCS12 with the certificate only
 * @param password   of both stores
 */
public record TlsMaterial(Path keystore, Path truststore, String password) {

    /**
     * The stores under {@code dir} ({@code broker.p12}, {@code truststore.p12}): those of an earlier call, else new
     * ones (valid for 30 days).
     */
    public static TlsMaterial inDirectory(Path dir, String password) {
        Path keystore = dir.resolve("broker.p12");
        Path truststore = dir.resolve("truststore.p12");
        Path cert = dir.resolve("broker.crt");
        if (Files.exists(keystore) && Files.exists(truststore)) {
            return new TlsMaterial(keystore, truststore, password);
        }
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(keystore);
            Files.deleteIfExists(truststore);
            keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "30",
                    "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-keystore", keystore.toString(),
                    "-storetype", "PKCS12", "-storepass", password);
            keytool("-exportcert", "-alias", "broker", "-keystore", keystore.toString(), "-storetype", "PKCS12",
                    "-storepass", password, "-rfc", "-file", cert.toString());
            keytool("-importcert", "-noprompt", "-alias", "broker", "-file", cert.toString(), "-keystore",
                    truststore.toString(), "-storetype", "PKCS12", "-storepass", password);
            EmbeddedKafkaBroker.ownerOnly(keystore);
            return new TlsMaterial(keystore, truststore, password);
        } catch (IOException e) {
            throw new IllegalStateException("cannot make the broker's TLS certificate: " + e.getMessage(), e);
        }
    }

    private static void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("keytool " + args[0] + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running keytool", e);
        }
    }

    @Override
    public String toString() {
        return "TlsMaterial[keystore=" + keystore + ", truststore=" + truststore + ", password hidden]";
    }
}
