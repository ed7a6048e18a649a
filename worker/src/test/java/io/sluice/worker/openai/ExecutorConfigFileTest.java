package io.sluice.worker.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecutorConfigFileTest {

    @TempDir
    Path dir;

    @Test
    void shouldReadNamedEndpointsWithDefaultsForWhatTheyOmit() throws Exception {
        // given
        Path file = write("""
                {"endpoints": {
                  "local": {"base_url": "http://127.0.0.1:8000/v1", "max_concurrent_requests": 32,
                            "cap_parameter": "max_completion_tokens", "request_overhead_tokens": 128,
                            "request_timeout_ms": 5000, "api_key_file": "local.key",
                            "prices": {"qwen2.5-7b": {"input_per_million_microusd": 20000, "output_per_million_microusd": 60000}}}
                }}""");
        Files.writeString(dir.resolve("local.key"), "sk-local-1234567\\n");

        // when
        List<EndpointConfig> endpoints = ExecutorConfigFile.read(file);

        // then
        assertThat(endpoints).hasSize(1);
        EndpointConfig local = endpoints.get(0);
        assertThat(local.name()).isEqualTo("local");
        assertThat(local.chatCompletionsUrl()).hasToString("http://127.0.0.1:8000/v1/chat/completions");
        assertThat(local.maxConcurrentRequests()).isEqualTo(32);
        assertThat(local.capParameter()).isEqualTo(EndpointConfig.CapParameter.MAX_COMPLETION_TOKENS);
        assertThat(local.overheads().perRequest()).isEqualTo(128);
        assertThat(local.overheads().perMessage()).isEqualTo(PromptBound.Overheads.DEFAULT_PER_MESSAGE);
        assertThat(local.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(local.apiKeyFile()).isEqualTo(dir.resolve("local.key"));
        assertThat(local.prices()).containsEntry("qwen2.5-7b", new io.sluice.worker.execute.Price(20_000, 60_000));
        assertThat(Secrets.of(local, Map.of()).present()).isTrue();
    }

    @Test
    void shouldRefuseAnUnknownFieldByName() throws Exception {
        Path file = write("{\"endpoints\": {\"x\": {\"base_url\": \"http://h/v1\", \"max_token\": 5}}}");
        assertThatThrownBy(() -> ExecutorConfigFile.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("endpoints.x.max_token: unknown field");
    }

    @Test
    void shouldRefuseBadValuesNamingTheField() throws Exception {
        assertThatThrownBy(() -> ExecutorConfigFile.read(write("{\"endpoints\": {\"x\": {\"base_url\": \"ftp://h\"}}}")))
                .hasMessageContaining("base_url must be an http(s) URL");
        assertThatThrownBy(() -> ExecutorConfigFile.read(write("{\"endpoints\": {\"x\": {\"base_url\": \"http://h\", "
                + "\"max_concurrent_requests\": 0}}}"))).hasMessageContaining("max_concurrent_requests must be 1..100000");
        assertThatThrownBy(() -> ExecutorConfigFile.read(write("{\"endpoints\": {\"x\": {}}}")))
                .hasMessageContaining("endpoints.x.base_url: required");
        assertThatThrownBy(() -> ExecutorConfigFile.read(write("[1]"))).hasMessageContaining("\"endpoints\" object");
        assertThatThrownBy(() -> ExecutorConfigFile.read(write("{\"endpoints\": {\"x\": {\"base_url\": \"http://h\", "
                + "\"prices\": {\"m\": {\"input_per_million_microusd\": 1}}}}}")))
                .hasMessageContaining("endpoints.x.prices.m: needs input_per_million_microusd and output_per_million_microusd");
        assertThatThrownBy(() -> ExecutorConfigFile.read(dir.resolve("missing.json")))
                .hasMessageContaining("cannot read the executor configuration");
    }

    @Test
    void shouldNameTheKeyFileNotItsContentWhenItCannotBeRead() throws Exception {
        EndpointConfig c = ExecutorConfigFile.read(write("{\"endpoints\": {\"x\": {\"base_url\": \"http://h/v1\", "
                + "\"api_key_file\": \"nope.key\"}}}")).get(0);
        assertThatThrownBy(() -> Secrets.of(c, Map.of())).hasMessageContaining("nope.key");
    }

    private Path write(String json) throws Exception {
        Path file = Files.createTempFile(dir, "executors", ".json");
        Files.writeString(file, json);
        return file;
    }
}
