package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.schemas.Grant;
import io.sluice.schemas.Usage;
import io.sluice.worker.execute.Allowance;
import io.sluice.worker.execute.Price;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Combinators;
import org.junit.jupiter.api.Test;

class AllowancesTest {

    @Test
    void shouldAdmitAnythingUnderAnUnlimitedGrant() {
        Allowances.Admission a = Allowances.admit(Grant.UNLIMITED, new Usage(1_000_000, 1_000_000, 1000), 5000, 700);

        assertThat(a.admitted()).isTrue();
        assertThat(a.maxOutputTokens()).isEqualTo(700);
        assertThat(a.outputLimit()).isNull();
        assertThat(Allowances.remaining(Grant.UNLIMITED, Usage.ZERO, null).tokens()).isEqualTo(Allowance.UNLIMITED);
    }

    @Test
    void shouldCapOutputByTheTighterOfOutputLeftAndTotalLeftAfterInput() {
        Grant g = new Grant(1000L, null, 500L, null);

        assertThat(Allowances.admit(g, new Usage(100, 0, 1), 100, 10_000))
                .isEqualTo(new Allowances.Admission(500, "max_output_tokens 500", null));
        assertThat(Allowances.admit(g, new Usage(400, 0, 1), 300, 10_000))
                .isEqualTo(new Allowances.Admission(300, "max_tokens 1000", null));
        assertThat(Allowances.admit(g, new Usage(400, 0, 1), 300, 20))
                .isEqualTo(new Allowances.Admission(20, null, null));
    }

    @Test
    void shouldRefuseAStepThatCouldProduceNothing() {
        Grant g = new Grant(600L, null, null, null);

        Allowances.Admission a = Allowances.admit(g, new Usage(300, 200, 1), 100, 50);

        assertThat(a.admitted()).isFalse();
        assertThat(a.refusal()).isEqualTo("max_tokens 600: no output tokens left for a step with input 100");
        // ...unless it asks for no output at all
        assertThat(Allowances.admit(g, new Usage(300, 200, 1), 100, 0).admitted()).isTrue();
    }

    @Test
    void shouldCapOutputAtWhatTheCostLeftBuysAndRefuseAnUnpricedStepUnderACostLimit() {
        // given: 1,000 µUSD, of which 400 are used; $1 / $4 per million input / output tokens
        Grant g = new Grant(null, null, null, null, 1_000L);
        Usage used = new Usage(0, 0, 1, 400L);
        Price price = new Price(1_000_000, 4_000_000);

        // then: 200 input tokens cost 200; the 400 left buy 100 output tokens
        assertThat(Allowances.admit(g, used, 200, 10_000, price))
                .isEqualTo(new Allowances.Admission(100, "max_cost_microusd 1000", null));
        assertThat(Allowances.admit(g, used, 700, 10_000, price).refusal())
                .isEqualTo("max_cost_microusd 1000: step input 700 costs 700 µUSD, more than the 600 left");
        assertThat(Allowances.admit(g, used, 200, 10_000, null).refusal())
                .isEqualTo("max_cost_microusd 1000 applies and the step has no price");
        assertThat(Allowances.remaining(g, used, null).costMicrousd()).isEqualTo(600);
        assertThat(Allowances.violation(g, new Usage(0, 0, 1, 1_001L))).contains("max_cost_microusd 1000 exceeded: 1001 used");
        // without a cost limit a price is only what the step is charged at
        assertThat(Allowances.admit(Grant.UNLIMITED, used, 200, 50, price).maxOutputTokens()).isEqualTo(50);
    }

    @Property(tries = 500)
    void shouldNeverAdmitAStepWhoseCostCouldExceedWhatIsLeft(@ForAll("costs") long[] c) {
        // given: a cost limit, what is used of it, a price and a step
        Grant g = new Grant(null, null, null, null, c[0]);
        Usage used = new Usage(0, 0, 0, Math.min(c[1], c[0]));
        Price price = new Price(c[2], c[3]);

        // when
        Allowances.Admission a = Allowances.admit(g, used, c[4], Long.MAX_VALUE / 4, price);

        // then: the step at its cap costs at most what is left, one more output token would not fit
        if (a.admitted()) {
            long costLeft = c[0] - used.costMicrousd();
            assertThat(price.cost(c[4], a.maxOutputTokens())).isLessThanOrEqualTo(costLeft);
            if (c[3] > 0 && a.maxOutputTokens() < Long.MAX_VALUE / 4) {
                assertThat(price.cost(c[4], a.maxOutputTokens() + 1) > costLeft
                        || (a.maxOutputTokens() + 1) * c[3] + c[4] * c[2] > costLeft * 1_000_000L).isTrue();
            }
        }
    }

    @Provide
    Arbitrary<long[]> costs() {
        return Combinators.combine(Arbitraries.longs().between(0, 10_000_000), Arbitraries.longs().between(0, 10_000_000),
                Arbitraries.longs().between(0, 100_000_000), Arbitraries.longs().between(0, 100_000_000),
                Arbitraries.longs().between(0, 1_000_000)).as((l, u, pi, po, in) -> new long[] {l, u, pi, po, in});
    }

    @Test
    void shouldRoundAStepsCostUpOnce() {
        Price p = new Price(150_000, 600_000); // gpt-4o-mini: $0.15 / $0.60 per million
        assertThat(p.cost(0, 0)).isZero();
        assertThat(p.cost(1, 0)).isEqualTo(1);             // 0.15 µUSD, rounded up
        assertThat(p.cost(1_000, 1_000)).isEqualTo(750);   // 150 + 600
        assertThat(new Price(2_000_000, 0).cost(Long.MAX_VALUE, 0)).isEqualTo(Long.MAX_VALUE); // saturates
        assertThat(p.maxOutputWithin(750, 1_000)).isEqualTo(1_000);
        assertThat(p.maxOutputWithin(100, 1_000)).isEqualTo(-1);
        assertThat(new Price(5, 0).maxOutputWithin(1, 0)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void shouldCheckStepsBeforeTokens() {
        Allowances.Admission a = Allowances.admit(new Grant(0L, null, null, 2L), new Usage(0, 0, 2), 10, 10);

        assertThat(a.refusal()).isEqualTo("max_steps 2 reached");
    }

    @Test
    void shouldNameTheFirstExceededDimension() {
        Grant g = new Grant(600L, 400L, 300L, 2L);

        assertThat(Allowances.violation(g, new Usage(400, 200, 2))).isEmpty();
        assertThat(Allowances.violation(g, new Usage(401, 100, 1))).contains("max_input_tokens 400 exceeded: 401 used");
        assertThat(Allowances.violation(g, new Usage(400, 201, 1))).contains("max_tokens 600 exceeded: 601 used");
        assertThat(Allowances.violation(g, new Usage(0, 301, 1))).contains("max_output_tokens 300 exceeded: 301 used");
        assertThat(Allowances.violation(g, new Usage(0, 0, 3))).contains("max_steps 2 exceeded: 3 used");
    }

    @Test
    void shouldRejectNegativeRequests() {
        assertThatThrownBy(() -> Allowances.admit(Grant.UNLIMITED, Usage.ZERO, -1, 0))
                .hasMessage("inputTokens: must be >= 0, got -1");
        assertThatThrownBy(() -> Allowances.admit(Grant.UNLIMITED, Usage.ZERO, 0, -1))
                .hasMessage("wantedOutputTokens: must be >= 0, got -1");
    }

    /** Whatever the grant and the spend so far: an admitted step that uses up to its cap never breaks the grant. */
    @Property(tries = 3000)
    void anAdmittedStepUsingItsWholeCapStaysWithinTheGrant(@ForAll("grants") Grant grant, @ForAll("usages") Usage used,
                                                            @ForAll("tokens") long input, @ForAll("tokens") long wanted) {
        if (Allowances.violation(grant, used).isPresent()) {
            return; // only reachable after an overspend, which ends the leaf
        }
        Allowances.Admission a = Allowances.admit(grant, used, input, wanted);
        if (a.admitted()) {
            assertThat(a.maxOutputTokens()).isBetween(0L, wanted);
            assertThat(Allowances.violation(grant, used.plus(new Usage(input, a.maxOutputTokens(), 1)))).isEmpty();
        } else {
            assertThat(a.refusal()).matches("max_(steps|tokens|input_tokens|output_tokens) .*");
        }
    }

    /** The cap is the largest output that fits: one token more would break the grant (unless the wish was smaller). */
    @Property(tries = 3000)
    void theCapIsTight(@ForAll("grants") Grant grant, @ForAll("usages") Usage used, @ForAll("tokens") long input,
                       @ForAll("tokens") long wanted) {
        Allowances.Admission a = Allowances.admit(grant, used, input, wanted);
        if (a.admitted() && a.maxOutputTokens() < wanted && Allowances.violation(grant, used).isEmpty()) {
            assertThat(Allowances.violation(grant, used.plus(new Usage(input, a.maxOutputTokens() + 1, 1)))).isPresent();
        }
    }

    @Provide
    Arbitrary<Grant> grants() {
        Arbitrary<Long> limit = Arbitraries.longs().between(0, 2000).injectNull(0.3);
        Arbitrary<Long> steps = Arbitraries.longs().between(0, 6).injectNull(0.3);
        return Combinators.combine(limit, limit, limit, steps).as(Grant::new);
    }

    @Provide
    Arbitrary<Usage> usages() {
        Arbitrary<Long> t = Arbitraries.longs().between(0, 1500);
        return Combinators.combine(t, t, Arbitraries.longs().between(0, 5)).as(Usage::new);
    }

    @Provide
    Arbitrary<Long> tokens() {
        return Arbitraries.longs().between(0, 1500);
    }
}
