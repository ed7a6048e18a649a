package io.sluice.coordinator.ledger;

import java.nio.charset.StandardCharsets;

/**
 * The wait before a leaf's next attempt: capped exponential backoff with jitter,
 * {@code min(maxBackoff, baseBackoff × 2^(attempt − 1)) × (0.5 + 0.5 × u)}. The jitter {@code u ∈ [0, 1)} is not
 * random but a hash of (run id, leaf path, attempt), so that the ledger stays a deterministic fold — replaying the
 * same events gives the same retry times — while retries of different leaves still spread out.
 */
final class RetryBackoff {

    private RetryBackoff() {
    }

    /** Milliseconds to wait after attempt {@code attempt} (≥ 1) of {@code path} ended, before the next one. */
    static long delayMs(LedgerConfig config, String runId, String path, int attempt) {
        long capped = cappedMs(config.baseBackoff().toMillis(), config.maxBackoff().toMillis(), attempt);
        long delay = (long) Math.floor(capped * (0.5 + 0.5 * jitter(runId, path, attempt)));
        return Math.max(0, Math.min(capped, delay));
    }

    /** {@code min(max, base × 2^(attempt − 1))} without overflow. */
    static long cappedMs(long base, long max, int attempt) {
        int shift = Math.max(0, attempt - 1);
        if (base == 0) {
            return 0;
        }
        if (shift >= Long.SIZE - 1 || base > (max >> shift)) {
            return max;
        }
        return Math.min(max, base << shift);
    }

    /** {@code u ∈ [0, 1)}: FNV-1a over the run id, path and attempt, then a SplitMix64 finaliser. */
    static double jitter(String runId, String path, int attempt) {
        long h = 0xcbf29ce484222325L;
        h = fnv(h, runId.getBytes(StandardCharsets.UTF_8));
        h = fnv(h, new byte[] {0});
        h = fnv(h, path.getBytes(StandardCharsets.UTF_8));
        h = fnv(h, new byte[] {0, (byte) (attempt >>> 24), (byte) (attempt >>> 16), (byte) (attempt >>> 8), (byte) attempt});
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        h = h ^ (h >>> 31);
        return (h >>> 11) * 0x1.0p-53;
    }

    private static long fnv(long h, byte[] bytes) {
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
