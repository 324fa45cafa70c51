/**
 * Test support shared by the modules' tests: fakes of what the engine hands a transport
 * ({@link io.te4j.testkit.TestContext}, {@link io.te4j.testkit.TestMemory},
 * {@link io.te4j.testkit.TestRegion}, {@link io.te4j.testkit.TestSlice}) or a metadata store
 * ({@link io.te4j.testkit.TestStoreContext}), and {@link io.te4j.testkit.ChildJvm}, the one way
 * tests run an engine in another process: started, talked to over its standard streams, killed.
 * Depends on te-api and the JDK only; use it in test scope.
 */
package io.te4j.testkit;
