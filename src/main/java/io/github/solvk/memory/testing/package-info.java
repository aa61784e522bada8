/**
 * Test support for users' own tests: a JUnit 5 extension that hands tests a headless
 * {@link io.github.solvk.memory.vulkan.VulkanContext} with validation on and fails any test during which the
 * validation layer reported an error. JUnit is an optional dependency of this library: only code that uses this
 * package needs it on its class path.
 */
package io.github.solvk.memory.testing;
