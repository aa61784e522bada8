/**
 * The demo that the README's first command ({@code bin/demo}) runs: {@link io.github.solvk.memory.demo.Demo} makes a
 * manager on the default device, moves data through the GPU from buffers of several usages and checks it, then
 * {@code EngineSimulation} runs an engine's frames (meshes streamed in and out, uniform
 * buffers per frame, staging) through the library's pools, optionally beside the same workload on plain VMA
 * ({@code --compare-vma}), and writes the memory map. Not an API: it shows the facade in use.
 */
package io.github.solvk.memory.demo;
