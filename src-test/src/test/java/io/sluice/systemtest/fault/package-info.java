/**
 * Fault-injection system tests ("nothing lost, nothing counted twice"): a broker, coordinators and workers each in
 * a JVM of its own ({@code java -cp <test class path> io.sluice.cli.SluiceCommand broker|coordinator|worker}),
 * killed with SIGKILL and restarted in the middle of a run, and the run's books checked against the raw usage
 * events and tasks on Kafka ({@link io.sluice.systemtest.fault.RunAudit}) and against a crash-free run of the same
 * submission on the same processes.
 *
 * <pre>
 * ./mvnw -B -o verify -pl src-test -Dit.test='Fault*IT' -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
 *     -Dsluice.fault.long=true          more leaves, kill points and iterations
 *     -Dsluice.fault.seed=N             replay the kill points and workload printed as "fault seed = N"
 * </pre>
 *
 * Each test runs on a broker of its own; its processes' stdout/stderr are kept under
 * {@code target/fault-logs/<TestClass.method>/} and their tails printed when the test fails. Every process is
 * SIGKILLed when the test ends, pass or fail ({@link io.sluice.systemtest.fault.FaultExtension}).
 */
package io.sluice.systemtest.fault;
