package io.sluice.systemtest.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.sluice.systemtest.DebianTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * {@code docker/docker-compose.yml} as the two Compose implementations read it, without a Docker engine: validated
 * against the Compose Specification schema that Compose v2 validates every file with ({@code compose-go}'s
 * {@code schema/compose-spec.json}, vendored), and parsed by Debian's {@code docker-compose} 1.29
 * ({@code docker-compose config}; {@code .ci/run} installs it; skipped without it unless
 * {@code SLUICE_REQUIRE_TOOLS} is set). Then what an operator relies on: three KRaft brokers, topics created
 * before anything starts, scalable workers, ports on loopback only, the alert rules and the dashboard mounted,
 * the Kafka image of the release Sluice is built with, and a build context without {@code .git} or
 * {@code target/}.
 */
class ComposeFileTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path REPO = Path.of(System.getProperty("sluice.test.repoDir", "..")).toAbsolutePath().normalize();
    private static final Path COMPOSE = REPO.resolve("docker/docker-compose.yml");

    @Test
    void shouldValidateAgainstTheComposeV2Schema() throws IOException {
        assertThat(violations(Files.readString(COMPOSE))).isEmpty();
    }

    @Test
    void shouldFailTheSchemaOnAKeyComposeDoesNotKnow() throws IOException {
        // a typo Compose v2 refuses: `replicas` belongs under `deploy`
        String broken = Files.readString(COMPOSE).replace("    deploy:\n      replicas: 3\n", "    replicas: 3\n");
        assertThat(broken).isNotEqualTo(Files.readString(COMPOSE));
        assertThat(violations(broken)).anySatisfy(m -> assertThat(m).contains("replicas"));
    }

    @Test
    void shouldBeParsedByDockerCompose129(@TempDir Path tmp) throws Exception {
        Path binary = DebianTools.require("docker-compose", "docker-compose");
        Result config = run(COMPOSE.getParent(), binary.toString(), "-f", COMPOSE.toString(), "config", "--services");
        assertThat(config.exit()).as("docker-compose config:%n%s", config.output()).isZero();
        assertThat(config.output().lines().collect(Collectors.toSet()))
                .containsExactlyInAnyOrder("kafka-1", "kafka-2", "kafka-3", "topics", "coordinator", "worker",
                        "prometheus", "grafana");

        // and it would refuse what broke it before: a top-level `name:`
        Path copy = tmp.resolve("docker-compose.yml");
        Files.writeString(copy, "name: sluice\n" + Files.readString(COMPOSE));
        Result refused = run(COMPOSE.getParent(), binary.toString(), "-f", copy.toString(), "config", "-q");
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.output()).contains("'name' does not match any of the regexes");
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldDescribeTheClusterAnOperatorExpects() throws IOException {
        Map<String, Object> compose = yaml(Files.readString(COMPOSE));
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");

        // three brokers, each broker and controller, in one quorum, of the Kafka release Sluice is built with
        String kafkaVersion = pomProperty("kafka.version");
        for (String broker : List.of("kafka-1", "kafka-2", "kafka-3")) {
            Map<String, Object> s = services.get(broker);
            assertThat(s.get("image")).isEqualTo("apache/kafka:" + kafkaVersion);
            Map<String, Object> env = (Map<String, Object>) s.get("environment");
            assertThat(env.get("KAFKA_PROCESS_ROLES")).isEqualTo("broker,controller");
            assertThat(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS")).isEqualTo("1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093");
            assertThat(env.get("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR")).isEqualTo(3);
        }
        // topics first; the coordinator and workers wait for it; tini as PID 1 forwards SIGTERM
        assertThat((List<String>) services.get("topics").get("command")).startsWith("topics");
        for (String sluice : List.of("coordinator", "worker")) {
            Map<String, Object> s = services.get(sluice);
            assertThat(s.get("init")).isEqualTo(true);
            assertThat(((Map<String, Map<String, Object>>) s.get("depends_on")).get("topics"))
                    .containsEntry("condition", "service_completed_successfully");
            assertThat((List<String>) s.get("command")).startsWith(sluice).contains("--metrics-port", "9404");
        }
        // workers scale: no fixed name and no host port
        assertThat(services.get("worker")).doesNotContainKeys("container_name", "ports");
        // every published port on loopback only
        services.forEach((name, s) -> ((List<Object>) s.getOrDefault("ports", List.of())).forEach(port ->
                assertThat(String.valueOf(port)).as("%s publishes", name).startsWith("127.0.0.1:")));
        // Prometheus loads the alert rules; Grafana is provisioned with the dashboard
        assertThat((List<String>) services.get("prometheus").get("volumes"))
                .contains("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro",
                        "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro");
        assertThat(Files.readString(REPO.resolve("docker/prometheus/prometheus.yml"))).contains("rule_files:\n  - alerts.yml");
        assertThat((List<String>) services.get("grafana").get("volumes"))
                .contains("./grafana/provisioning:/etc/grafana/provisioning:ro",
                        "./grafana/dashboards:/var/lib/grafana/dashboards:ro");
        // no top-level name (v1 refuses it): the project name is in .env, which both read
        assertThat(compose).doesNotContainKey("name");
        assertThat(Files.readString(REPO.resolve("docker/.env"))).contains("COMPOSE_PROJECT_NAME=sluice");
    }

    @Test
    void shouldKeepGitAndBuildOutputOutOfTheBuildContext() throws IOException {
        // the context is the repository root; both builders read .dockerignore there
        Set<String> ignored = Files.readAllLines(REPO.resolve(".dockerignore")).stream().map(String::trim)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).collect(Collectors.toSet());
        assertThat(ignored).contains(".git/", "**/target/");
        Map<String, Object> compose = yaml(Files.readString(COMPOSE));
        assertThat(compose.toString()).contains("context=..", "dockerfile=docker/Dockerfile");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static List<String> violations(String composeYaml) throws IOException {
        JsonNode document = JSON.valueToTree(yaml(composeYaml));
        JsonSchema schema;
        try (InputStream in = ComposeFileTest.class.getResourceAsStream("/compose/compose-spec.json")) {
            assertThat(in).as("compose-spec.json on the test class path").isNotNull();
            // Its $id is relative ("compose_spec.json"): it resolves against the location the schema is loaded from.
            String location = "https://compose-spec.test/compose_spec.json";
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
                            b -> b.schemaLoaders(loaders -> loaders.schemas(Map.of(location, text))))
                    .getSchema(SchemaLocation.of(location), SchemaValidatorsConfig.builder().locale(Locale.ENGLISH).build());
        }
        return schema.validate(document).stream().map(ValidationMessage::getMessage).toList();
    }

    /** YAML as Compose reads it: anchors, aliases and {@code <<} merge keys resolved. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(String text) {
        return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    }

    private static String pomProperty(String name) throws IOException {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(Files.readString(REPO.resolve("pom.xml")));
        assertThat(m.find()).as(name + " in the parent pom").isTrue();
        return m.group(1).trim();
    }

    private record Result(int exit, String output) {
    }

    private static Result run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not end within 60 s");
        }
        return new Result(p.exitValue(), out);
    }
}
