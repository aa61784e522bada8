/**
 * Helpers the library's packages share; not exported by the module, and not API: they may change in any release.
 */
package io.github.solvk.memory.internal;
