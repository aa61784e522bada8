/**
 * Diagnostics: memory maps written as VMA-compatible JSON, HTML and PNG pictures, leak detection, JFR events and guard
 * margins. Pure Java: nothing here imports LWJGL or the packages above it; the root package builds a
 * {@link io.github.solvk.memory.diagnostics.MemoryMap} from its pools and VMA and calls in here.
 */
package io.github.solvk.memory.diagnostics;
