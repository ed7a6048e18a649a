package io.sluice.systemtest.fault;

import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where a fault test's randomness comes from: one seed per test, printed at its start, so that a failure can be
 * replayed with the same kill points and workload ({@code -Dsluice.fault.seed=<seed>}); and whether the opt-in long
 * mode is on ({@code -Dsluice.fault.long=true}: more leaves, more kill points, more iterations).
 *
 * <p>Replaying gives the same decisions (when, what and whom to kill), not the same thread interleavings.
 *
 * @param seed     feeds every {@link #random()} of the test
 * @param longMode run the long variant
 */
record FaultSeed(long seed, boolean longMode) {

    static final String SEED_PROPERTY = "sluice.fault.seed";
    static final String LONG_PROPERTY = "sluice.fault.long";

    /** The seed given as {@value #SEED_PROPERTY}, else a fresh one; printed with how to replay it. */
    static FaultSeed forTest(String testName) {
        String given = System.getProperty(SEED_PROPERTY);
        long seed = given == null || given.isBlank() ? ThreadLocalRandom.current().nextLong() : Long.parseLong(given.trim());
        boolean longMode = Boolean.parseBoolean(System.getProperty(LONG_PROPERTY, "false"));
        FaultSeed s = new FaultSeed(seed, longMode);
        System.out.println(s.describe(testName));
        System.out.flush();
        return s;
    }

    /** A new generator from the seed: the same sequence every time it is called. */
    Random random() {
        return new Random(seed);
    }

    /** {@code normal} in the default mode, {@code long} in the long mode. */
    int pick(int normal, int longValue) {
        return longMode ? longValue : normal;
    }

    String describe(String testName) {
        return "fault seed = " + seed + ", replay with -D" + SEED_PROPERTY + "=" + seed
                + (longMode ? " -D" + LONG_PROPERTY + "=true" : "") + " (" + testName + (longMode ? ", long mode" : "") + ")";
    }
}
