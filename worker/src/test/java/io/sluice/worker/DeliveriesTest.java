package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import io.sluice.worker.LeafRuntime.Disposition;
import org.junit.jupiter.api.Test;

class DeliveriesTest {

    private final Deliveries deliveries = new Deliveries();
    private final Deliveries.Coord coord = new Deliveries.Coord("sluice.tasks", 2, 17);
    private final AtomicInteger launches = new AtomicInteger();

    private CompletableFuture<Disposition> launch(CompletableFuture<Disposition> f) {
        launches.incrementAndGet();
        return f;
    }

    @Test
    void shouldNotExecuteARecordDeliveredAgainWhileItRuns() {
        CompletableFuture<Disposition> first = new CompletableFuture<>();

        CompletableFuture<Disposition> a = deliveries.start(coord, () -> launch(first));
        CompletableFuture<Disposition> b = deliveries.start(coord, () -> launch(new CompletableFuture<>()));

        assertThat(b).isSameAs(a);
        assertThat(launches).hasValue(1);
        first.complete(Disposition.ACCEPT);
        assertThat(deliveries.running()).isZero();
    }

    @Test
    void shouldAcknowledgeARecordDeliveredAgainAfterItWasAcceptedWithoutExecutingIt() {
        deliveries.start(coord, () -> launch(CompletableFuture.completedFuture(Disposition.ACCEPT)));

        CompletableFuture<Disposition> again = deliveries.start(coord, () -> launch(new CompletableFuture<>()));

        assertThat(again).isCompletedWithValue(Disposition.ACCEPT);
        assertThat(launches).hasValue(1);
    }

    @Test
    void shouldExecuteAReleasedRecordAgain() {
        deliveries.start(coord, () -> launch(CompletableFuture.completedFuture(Disposition.RELEASE)));

        deliveries.start(coord, () -> launch(new CompletableFuture<>()));

        assertThat(launches).hasValue(2);
    }
}
