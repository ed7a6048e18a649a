package io.sluice.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ExecutorRegistryTest {

    @Test
    void shouldDiscoverTheBuiltInSimulatedExecutorWithServiceLoader() {
        ExecutorRegistry registry = ExecutorRegistry.discover();

        assertThat(registry.names()).contains("simulated");
        assertThat(registry.find("simulated")).get().isInstanceOf(SimulatedExecutor.class);
        assertThat(registry.find("openai")).get().isInstanceOf(io.sluice.worker.openai.OpenAiExecutor.class);
        assertThat(registry.find("nope")).isEmpty();
        assertThat(registry.find(null)).isEmpty();
    }

    @Test
    void shouldRegisterExplicitlyWithoutChangingTheOriginal() {
        ExecutorRegistry base = ExecutorRegistry.of();
        LeafExecutor echo = named("echo");

        ExecutorRegistry more = base.with(echo);

        assertThat(base.names()).isEmpty();
        assertThat(more.find("echo")).containsSame(echo);
    }

    @Test
    void shouldRefuseTwoExecutorsWithOneName() {
        assertThatThrownBy(() -> ExecutorRegistry.discover().with(named("simulated")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("executor name 'simulated': registered twice, by io.sluice.worker.execute.SimulatedExecutor and ");
        assertThatThrownBy(() -> ExecutorRegistry.of(named(" ")))
                .hasMessageStartingWith("executor name: must not be blank");
    }

    @Test
    void shouldReplaceAnExecutorOfTheSameNameOnlyWhenAskedTo() {
        LeafExecutor mine = named("openai");

        ExecutorRegistry replaced = ExecutorRegistry.discover().replacing(mine);

        assertThat(replaced.find("openai")).containsSame(mine);
        assertThat(replaced.find("simulated")).isPresent();
        assertThat(replaced.replacing(named("fresh")).names()).contains("fresh", "openai", "simulated");
    }

    private static LeafExecutor named(String name) {
        return new LeafExecutor() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Outcome execute(LeafContext ctx) {
                return Outcome.succeeded(null);
            }
        };
    }
}
