package io.sluice.coordinator;

/**
 * Every meter the coordinator registers: name, type and description in one place. Tags are low-cardinality
 * only ({@code instance}, {@code status}, {@code direction}, {@code cause}, {@code kind}); never a run or node id.
 */
enum CoordinatorMeters {
    RUNS("sluice.coordinator.runs", "Runs that reached a terminal status, by status"),
    RUNS_ACTIVE("sluice.coordinator.runs.active", "Runs this coordinator is folding now"),
    SUBMISSIONS_REJECTED("sluice.coordinator.submissions.rejected", "Submissions refused with a rejection record"),
    LEAVES_DISPATCHED("sluice.coordinator.leaves.dispatched", "Leaf attempts published to the tasks topic"),
    TOKENS_SPENT("sluice.coordinator.tokens.spent", "Tokens charged to runs, by direction (input|output)"),
    COST_SPENT("sluice.coordinator.cost.spent", "Cost charged to runs, in micro-USD, as the executors priced it (max_cost_microusd budgets)"),
    TOKENS_RESERVED("sluice.coordinator.tokens.reserved", "Tokens currently reserved by outstanding grants"),
    HALTS("sluice.coordinator.halts", "Subtrees halted, by cause (budget_exceeded|timed_out|cancelled)"),
    USAGE_DUPLICATES("sluice.coordinator.usage.duplicates", "Usage events ignored as duplicates or late"),
    USAGE_REJECTED("sluice.coordinator.usage.rejected", "Usage events refused unfolded (forged, out of range, out of order)"),
    DEAD_LETTERS("sluice.coordinator.dead.letters", "Records sent to the DLQ, by the kind of record (submission|usage|heartbeat|cancel|run|ledger)"),
    PARTITIONS_RESTORING("sluice.coordinator.partitions.restoring", "Assigned partitions paused while their runs are restored"),
    LOOP("sluice.coordinator.loop", "One poll→fold→commit iteration that handled records"),
    BUDGET_UTILISATION("sluice.coordinator.budget.utilisation", "Spent ÷ max_tokens of finished runs that had a token limit"),
    ATTEMPTS_ABANDONED("sluice.coordinator.attempts.abandoned", "Attempts given up for lost and charged: their worker's lease lapsed, or their final event never came"),
    OVERSHOOT("sluice.coordinator.overshoot.tokens", "Tokens finished runs spent beyond a node's max_tokens (the worst node of each run), by mode: never above 0 for strict"),
    RUNS_OVERDUE("sluice.coordinator.runs.overdue.seconds", "How long the most overdue active run is past its workflow's timeout_ms (0 when none is): a run stuck past its deadline");

    private final String meterName;
    private final String description;

    CoordinatorMeters(String meterName, String description) {
        this.meterName = meterName;
        this.description = description;
    }

    String meterName() {
        return meterName;
    }

    String description() {
        return description;
    }
}
