package io.github.solvk.memory.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.AbstractQueuedSynchronizer;
import java.util.concurrent.locks.ReentrantLock;

import io.github.solvk.memory.internal.Failures;
import io.github.solvk.memory.suballocator.AllocationType;
import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanException;
import io.github.solvk.memory.vulkan.VulkanMemory;

/**
 * The blocks of one memory type in a {@link BlockPoolAllocator}, split into {@link Arena arenas} with a lock each:
 * requests for different memory types never wait for each other, and threads whose home arenas differ rarely do.
 *
 * <p><b>Thread caches.</b> Before any arena, a request looks in the calling thread's {@link ThreadRangeCache}, and a
 * release of a small range goes there while it has room; ranges up to {@link #cacheMaxRange()} are placed at their
 * size class so that they can be cached. Everything below is what a request that misses, and a release that is not
 * cached, do.
 *
 * <p><b>Arenas.</b> Each thread has a home arena ({@link #homeArena()}: threads are numbered in the order they first
 * ask any pool, and thread {@code n} lives in arena {@code n mod arenas}). A request tries the blocks of its home arena
 * and grows that arena when none has room; only when growing fails for want of device memory, or the request may not
 * grow the pool at all, are the other arenas' blocks tried. A release goes to the arena that holds its block, from
 * whichever thread. So two threads allocating at once touch different locks and different suballocators, at the price
 * of one block (the first of an arena is 1/8 of the block size) per arena that a thread uses. Empty blocks are counted
 * across arenas ({@link #keptEmpty}): the pool keeps at most {@code maxEmptyBlocks} of them, and an arena that must
 * grow first takes over an empty block another arena keeps, so threads never make and free blocks against each other.
 *
 * <p>What runs under an arena's lock: suballocation, the empty-block bookkeeping, and making a new block (a Vulkan
 * call, but a rare one; holding the lock keeps two threads from both growing the arena). What runs outside it: making
 * and destroying a per-allocation {@code VkBuffer} ({@link BlockPoolAllocator.BufferMode#OWN_BUFFER}), dedicated
 * memory, and freeing a block that was taken out of its list. Lock order: an arena's lock may be held while another
 * arena's lock is <em>tried</em> ({@link Arena#tryLock()}), never while one is waited for, so no two threads
 * can wait for each other.
 */
final class TypeBlockPool {

    /** Remote releases an arena collects before the releasing thread frees them itself (see {@link #release}). */
    static final int REMOTE_BATCH = 64;

    /** Numbers the threads that use any pool, in the order they first do; a thread's home arena follows from it. */
    private static final AtomicInteger NEXT_THREAD = new AtomicInteger();
    private static final ThreadLocal<int[]> THREAD_NUMBER =
            ThreadLocal.withInitial(() -> new int[] {NEXT_THREAD.getAndIncrement() & Integer.MAX_VALUE});

    private final BlockPoolAllocator owner;
    private final int memoryTypeIndex;
    private final long blockSize;
    private final int maxEmptyBlocks;
    private final Arena[] arenas;
    /** The bytes a thread's cache keeps for this memory type ({@link ThreadRangeCache}); 0: no caching. */
    private final long cacheBytes;
    /** Released ranges up to this size go back to a thread's cache (see {@link ThreadRangeCache}); 0: none do. */
    private final long cacheMaxRange;
    /**
     * Whether ranges that may be cached keep their buffers' own {@code VkBuffer}s ({@link RangeSlot#keptBuffer()},
     * {@code Config.recycleBuffers}).
     */
    private final boolean recycleBuffers;
    /** The {@code VkBuffer}s that ranges keep now (striped: threads making buffers at once do not share a line). */
    private final LongAdder keptBuffers = new LongAdder();
    /** The {@code VkBuffer}s made to be kept so far. */
    private final LongAdder keptBuffersMade = new LongAdder();
    /** Guards {@link #dedicated} and {@link #dedicatedClosed}. */
    private final ReentrantLock dedicatedLock = new ReentrantLock();
    private final Set<PoolBlock> dedicated = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean dedicatedClosed;
    /** Empty blocks kept, over all arenas: at most {@link #maxEmptyBlocks}; each is counted in its arena too. */
    private final AtomicInteger keptEmpty = new AtomicInteger();
    private final AtomicLong blocksReturned = new AtomicLong();

    /**
     * One share of a memory type's blocks, with its own lock: the arena is the lock (a non-reentrant mutex on
     * {@link AbstractQueuedSynchronizer}), padded so that two arenas' hot fields never share a cache line (see
     * {@link ArenaLock}). Every field but {@link #pendingHead} is guarded by the lock. A block belongs to one arena at
     * a time ({@link PoolBlock#arena}); an empty one may move.
     *
     * <p><b>Releases that wait.</b> A release does not wait for the lock when another thread holds it, and a release
     * from a thread whose home is another arena (a <em>remote free</em>) does not take it at all: the buffer goes on
     * {@link #pendingHead}, a lock-free stack, and whoever next holds the lock frees it ({@link TypeBlockPool#drain}),
     * with the arena's data in its own cache. Every unlock looks at the stack again, and a remote release that finds
     * {@value TypeBlockPool#REMOTE_BATCH} or more waiting, or an eighth of the block size in their bytes, frees them
     * itself if the lock is free, so releases wait only while the arena is busy or until its threads come back; an
     * arena that must grow, or cannot, frees the other arenas' waiting releases first.
     */
    static final class Arena extends ArenaPending {
        private static final long serialVersionUID = 1L;
        @SuppressWarnings("unused")
        private long r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15;

        Arena(TypeBlockPool pool, int index) {
            super(pool, index);
        }

        /**
         * Pushes a range whose buffer was released and which waits for the lock.
         *
         * @return how many wait now, this one included
         */
        int pushPending(RangeSlot slot) {
            RangeSlot head;
            long bytes = slot.rangeSize;
            do {
                head = pendingHead;
                slot.pendingNext = head;
                slot.pendingDepth = head == null ? 1 : head.pendingDepth + 1;
                slot.pendingBytes = head == null ? bytes : head.pendingBytes + bytes;
            } while (!PENDING.compareAndSet(this, head, slot));
            return slot.pendingDepth;
        }

        /** @return the pending ranges, taking them all; the lock is held */
        RangeSlot takePending() {
            return pendingHead == null ? null : (RangeSlot) PENDING.getAndSet(this, (RangeSlot) null);
        }

        /**
         * Suballocates from an existing block (first fit, in list order); the lock is held.
         *
         * @return the block that took the range, its handle in {@link #placedHandle}; or {@code null} when none had
         *         room
         */
        PoolBlock tryExisting(long rangeSize, long alignment) {
            for (int i = 0, n = blocks.size(); i < n; i++) {
                PoolBlock b = blocks.get(i);
                boolean wasEmpty = b.isEmpty();
                long handle = b.suballocator.tryAllocate(rangeSize, alignment, AllocationType.LINEAR);
                if (handle != Suballocator.NULL_HANDLE) {
                    if (wasEmpty) {
                        emptyBlocks--;
                        pool.keptEmpty.decrementAndGet();
                    }
                    placedHandle = handle;
                    return b;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return "arena " + index + " of memory type " + pool.memoryTypeIndex;
        }
    }

    /**
     * The lock of an {@link Arena}: a non-reentrant mutex. The arena classes are a chain only to place fields: the
     * lock state, the fields it guards, and the stack of pending releases each sit between 128 bytes of padding (a
     * superclass's fields come before a subclass's), so two arenas never share a cache line that either writes.
     */
    abstract static class ArenaLock extends AbstractQueuedSynchronizer {
        private static final long serialVersionUID = 1L;

        @Override
        protected final boolean tryAcquire(int ignored) {
            if (compareAndSetState(0, 1)) {
                setExclusiveOwnerThread(Thread.currentThread());
                return true;
            }
            return false;
        }

        @Override
        protected final boolean tryRelease(int ignored) {
            setExclusiveOwnerThread(null);
            setState(0);
            return true;
        }

        /**
         * Takes the lock, waiting for it.
         *
         * @throws IllegalStateException when the calling thread holds it already (the pool was called back from
         *                               inside itself, say from a device-memory listener): the lock is not
         *                               reentrant, and waiting would never end
         */
        final void lock() {
            if (!tryAcquire(1)) {
                if (getExclusiveOwnerThread() == Thread.currentThread()) {
                    throw new IllegalStateException(this + " is locked by this thread already (expected: no call "
                            + "into the block pool from inside it, such as from a device-memory listener)");
                }
                acquire(1);
            }
        }

        /** @return whether the lock was free and is now taken */
        final boolean tryLock() {
            return tryAcquire(1);
        }

        /** Gives the lock back; {@link TypeBlockPool#unlock} also frees the releases that waited. */
        final void unlockOnly() {
            release(1);
        }
    }

    /** Padding after the lock state. */
    abstract static class ArenaLockPad extends ArenaLock {
        private static final long serialVersionUID = 1L;
        @SuppressWarnings("unused")
        private long p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15;
    }

    /** What an arena's lock guards. */
    abstract static class ArenaFields extends ArenaLockPad {
        private static final long serialVersionUID = 1L;
        final transient TypeBlockPool pool;
        final int index;
        /** Suballocated blocks, in the order they came to this arena; allocations try them in this order. */
        final transient List<PoolBlock> blocks = new ArrayList<>();
        /** Blocks of {@link #blocks} with no live range, each counted in {@link TypeBlockPool#keptEmpty} too. */
        int emptyBlocks;
        /** Blocks this arena made: the first three are 1/8, 1/4 and 1/2 of the block size. */
        long blocksMade;
        /** The handle that {@code tryExisting} or {@code adoptEmptyBlock} placed; read right after, under the lock. */
        long placedHandle;
        /** Set under the lock; volatile so that a buffer made outside the lock can see that it lost a race. */
        volatile boolean closed;

        ArenaFields(TypeBlockPool pool, int index) {
            this.pool = pool;
            this.index = index;
        }
    }

    /** Padding before the stack of pending releases, which other threads write. */
    abstract static class ArenaPendingPad extends ArenaFields {
        private static final long serialVersionUID = 1L;
        @SuppressWarnings("unused")
        private long q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13, q14, q15;

        ArenaPendingPad(TypeBlockPool pool, int index) {
            super(pool, index);
        }
    }

    /** The stack of pending releases. */
    abstract static class ArenaPending extends ArenaPendingPad {
        private static final long serialVersionUID = 1L;
        static final VarHandle PENDING;

        static {
            try {
                PENDING = MethodHandles.lookup().findVarHandle(ArenaPending.class, "pendingHead", RangeSlot.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** Ranges of released buffers that wait for the lock, linked through {@link RangeSlot#pendingNext}. */
        transient volatile RangeSlot pendingHead;

        ArenaPending(TypeBlockPool pool, int index) {
            super(pool, index);
        }
    }

    /**
     * @param threadCacheBytes the bytes a thread's cache may keep; 0 when the suballocator cannot take its ranges
     *                         back in any order at any size class (not TLSF or buddy)
     */
    TypeBlockPool(BlockPoolAllocator owner, int memoryTypeIndex, long blockSize, int maxEmptyBlocks, int arenaCount,
                  long threadCacheBytes) {
        this.owner = owner;
        // A thread keeps at most an eighth of a block per memory type, in ranges of at most 1/16 of that budget and
        // MAX_CACHED_RANGE (rounded down to a power of two, which is a size class, so no range up to it rounds up past
        // it).
        this.cacheBytes = Math.min(threadCacheBytes, blockSize >>> 3);
        long largest = Math.min(cacheBytes / 16, BlockPoolAllocator.Config.MAX_CACHED_RANGE);
        this.cacheMaxRange = largest < 16 ? 0 : Long.highestOneBit(largest);
        this.recycleBuffers = owner.config().recycleBuffers();
        this.memoryTypeIndex = memoryTypeIndex;
        this.blockSize = blockSize;
        this.maxEmptyBlocks = maxEmptyBlocks;
        this.arenas = new Arena[arenaCount];
        for (int i = 0; i < arenaCount; i++) {
            arenas[i] = new Arena(this, i);
        }
    }

    BlockPoolAllocator owner() {
        return owner;
    }

    int memoryTypeIndex() {
        return memoryTypeIndex;
    }

    long blockSize() {
        return blockSize;
    }

    /** @return the bytes a thread's cache keeps for this memory type at most */
    long cacheBytes() {
        return cacheBytes;
    }

    /** @return the largest range a thread's cache keeps, a power of two; 0 when caching is off */
    long cacheMaxRange() {
        return cacheMaxRange;
    }

    /** @return the calling thread's number, from which its home arena follows (for tests) */
    static int threadNumber() {
        return THREAD_NUMBER.get()[0];
    }

    /** @return how many releases wait on an arena's stack (for tests) */
    int pendingReleases(int arenaIndex) {
        RangeSlot head = arenas[arenaIndex].pendingHead;
        return head == null ? 0 : head.pendingDepth;
    }

    /** @return the calling thread's arena */
    Arena homeArena() {
        Arena[] all = arenas;
        return all.length == 1 ? all[0] : all[owner.threadCache().threadNumber % all.length];
    }

    /** Whether a request may make a new block. */
    enum Growth {
        /** Existing blocks only. */
        NONE,
        /** A new block when none has room. */
        ANY,
        /** A new block only while the heap stays within its budget ({@link BlockRequest#withinBudget()}). */
        WITHIN_BUDGET;

        /** @return {@link #WITHIN_BUDGET} for a request that asks to stay within the budget, else {@link #ANY} */
        static Growth of(BlockRequest request) {
            return request.withinBudget() ? WITHIN_BUDGET : ANY;
        }
    }

    /**
     * Places a buffer in a block: an existing one of the calling thread's arena with room (first fit, in list order),
     * else a new one there when {@code growth} allows; when that fails for want of device memory (or of budget), or
     * {@code growth} is {@link Growth#NONE}, the other arenas' blocks.
     *
     * @param size      the buffer's size
     * @param rangeSize the bytes to reserve: {@code size} for a sub-range, the driver's size for a buffer of its own
     * @param alignment a power of two
     * @param usage     the buffer's usage
     * @param mode      how the buffer is made
     * @param growth    whether a new block may be made, and whether only within the heap's budget
     * @param verified  whether a buffer of this size and usage was checked against such a range before (see
     *                  {@link VulkanMemory#createBuffer(long, long, int, long, boolean)})
     * @return the buffer, or {@code null} when no block had room and {@code growth} is {@link Growth#NONE}
     * @throws VulkanException when every size of new block failed with {@code VK_ERROR_OUT_OF_DEVICE_MEMORY} and no
     *                         other arena had room (the last failure), or another Vulkan call failed; nothing is left
     *                         allocated
     */
    PooledBuffer suballocate(long size, long rangeSize, long alignment, int usage, BlockPoolAllocator.BufferMode mode,
                             Growth growth, boolean verified) {
        if (cacheMaxRange > 0 && rangeSize <= cacheMaxRange) {
            PooledBuffer cached = fromThreadCache(owner.threadCache(), size, rangeSize, alignment, usage, mode,
                    verified);
            if (cached != null) {
                return cached;
            }
        }
        return suballocateMissed(size, rangeSize, alignment, usage, mode, growth, verified);
    }

    /**
     * The first step of {@link #suballocate}: a range of the request's size class and alignment that the calling
     * thread's cache keeps, as a buffer. Counts towards the cache's sweep.
     *
     * @param cache     the calling thread's cache
     * @param rangeSize the bytes the range needs, at most {@link #cacheMaxRange}
     * @return the buffer, or {@code null} when the cache keeps no such range
     */
    PooledBuffer fromThreadCache(ThreadRangeCache cache, long size, long rangeSize, long alignment, int usage,
                                 BlockPoolAllocator.BufferMode mode, boolean verified) {
        RangeSlot slot = cache.poll(this, ThreadRangeCache.sizeClass(rangeSize), alignment);
        return slot == null ? null : fromCache(cache, slot, size, rangeSize, usage, mode, verified);
    }

    /**
     * The rest of {@link #suballocate}, once the calling thread's cache had no range for the request (or the range is
     * never cached): the blocks, giving the thread's cached ranges back before the pool grows.
     */
    PooledBuffer suballocateMissed(long size, long rangeSize, long alignment, int usage,
                                   BlockPoolAllocator.BufferMode mode, Growth growth, boolean verified) {
        long needed = rangeSize;
        if (cacheMaxRange > 0) {
            ThreadRangeCache cache = owner.threadCache();
            if (rangeSize <= cacheMaxRange) {
                // Placed at its size class, so that the range can serve any request of that class once released.
                rangeSize = ThreadRangeCache.sizeClass(rangeSize);
            }
            boolean hadRanges = cache.cachedRanges(memoryTypeIndex) > 0;
            if (hadRanges || rangeSize <= cacheMaxRange) {
                // The thread keeps ranges of other sizes, or the home arena's waiting releases may go into its cache
                // now (suballocateIn takes them in): if the blocks have no room, they go back before the pool grows
                // or gives up.
                PooledBuffer placed = suballocateIn(homeArena(), size, rangeSize, needed, alignment, usage, mode,
                        Growth.NONE, verified);
                if (placed != null) {
                    return placed;
                }
                if (hadRanges || cache.cachedRanges(memoryTypeIndex) > 0) {
                    cache.flush(this);
                }
            }
        }
        try {
            return suballocateInArenas(size, rangeSize, needed, alignment, usage, mode, growth, verified);
        } catch (VulkanException e) {
            if (e.result() != BlockPoolAllocator.VK_ERROR_OUT_OF_DEVICE_MEMORY) {
                throw e;
            }
            boolean gaveBack;
            try {
                gaveBack = giveBackAfterOutOfMemory();
            } catch (RuntimeException | Error failure) {
                // An Error (a DeviceMemoryListener's, from destroying a block) ends the request as itself, the
                // out-of-memory failure suppressed on it.
                throw Failures.propagate(endAfterFailedGiveBack(e, failure, rangeSize));
            }
            if (!gaveBack) {
                throw e;
            }
            // What gave memory or room back did so just now: once more.
            return suballocateInArenas(size, rangeSize, needed, alignment, usage, mode, growth, verified);
        }
    }

    /**
     * The failure of a request that ran out of device memory and then failed to give back what no buffer uses (a
     * suballocator's free threw): the request ends there, with the reason it failed, {@code OUT_OF_DEVICE_MEMORY},
     * and no other memory type or retry; the failure in giving back rides on it, suppressed.
     *
     * @param outOfMemory the out-of-memory failure, the cause
     * @param failure     what giving back threw
     * @param bytes       the bytes the request needed
     */
    PoolException outOfMemoryAfterFailedGiveBack(VulkanException outOfMemory, RuntimeException failure, long bytes) {
        PoolException e = new PoolException(PoolException.Kind.OUT_OF_DEVICE_MEMORY, outOfMemory.resultName(),
                "no memory for " + bytes + " bytes in memory type " + memoryTypeIndex + ", and giving back what no "
                        + "buffer uses then failed (suppressed); out of memory: " + outOfMemory.getMessage(),
                outOfMemory, true);
        e.addSuppressed(failure);
        return e;
    }

    /**
     * Gives back what no buffer uses after a new block could not be made for want of device memory (every smaller
     * retry included): the ranges of threads that ended (and asks the other threads for theirs), then
     * {@link #releaseUnused}: the calling thread's cached ranges, the releases waiting in the arenas and the empty
     * blocks kept, one of which may be too small for the request and yet stand between it and the heap.
     *
     * <p>Goes on past a failure in taking back the ended threads' ranges (a suballocator whose free throws, or a
     * {@code DeviceMemoryListener}'s {@link Error} from destroying a block they emptied, which VMA lets through once
     * the memory is freed) to this memory type's own, and throws the first failure at the end, the others suppressed
     * on it.
     *
     * @return whether anything went back that may let the request succeed now (ranges of ended threads, a block)
     * @throws RuntimeException the first failure on the way, once everything else went back
     * @throws Error            the first failure, when it was an {@link Error}
     */
    private boolean giveBackAfterOutOfMemory() {
        Throwable failure = null;
        boolean reclaimed = false;
        try {
            reclaimed = owner.reclaimThreadCaches(true);
        } catch (RuntimeException | Error e) {
            // The calling thread's cached ranges, the waiting releases and the empty blocks still go.
            failure = e;
        }
        try {
            reclaimed |= releaseUnused(cacheMaxRange > 0 ? owner.threadCache() : null);
        } catch (RuntimeException | Error e) {
            failure = Failures.add(failure, e);
        }
        Failures.throwIfAny(failure);
        return reclaimed;
    }

    /**
     * {@link #suballocate} without the calling thread's cache: the home arena first, then the others.
     *
     * @param rangeSize the bytes to place (a size class when the range may be cached)
     * @param needed    the bytes the buffer needs, {@code <= rangeSize}: what a buffer of its own is checked against
     */
    private PooledBuffer suballocateInArenas(long size, long rangeSize, long needed, long alignment, int usage,
                                             BlockPoolAllocator.BufferMode mode, Growth growth, boolean verified) {
        Arena home = homeArena();
        VulkanException outOfMemory = null;
        try {
            PooledBuffer placed = suballocateIn(home, size, rangeSize, needed, alignment, usage, mode, growth,
                    verified);
            if (placed != null || arenas.length == 1) {
                return placed;
            }
        } catch (VulkanException e) {
            if (e.result() != BlockPoolAllocator.VK_ERROR_OUT_OF_DEVICE_MEMORY || arenas.length == 1) {
                throw e;
            }
            outOfMemory = e;
        }
        boolean drained;
        try {
            drained = outOfMemory != null && drainOthers(home);
        } catch (RuntimeException | Error failure) {
            // (drainOthers throws only after running out of memory, so outOfMemory is set.)
            throw Failures.propagate(endAfterFailedGiveBack(outOfMemory, failure, rangeSize));
        }
        if (drained) {
            // Releases waiting in other arenas gave memory back: growing may work now.
            try {
                return suballocateIn(home, size, rangeSize, needed, alignment, usage, mode, growth, verified);
            } catch (VulkanException e) {
                if (e.result() != BlockPoolAllocator.VK_ERROR_OUT_OF_DEVICE_MEMORY) {
                    throw e;
                }
                outOfMemory = e;
            }
        }
        for (int i = 1; i < arenas.length; i++) {
            PooledBuffer placed = suballocateIn(arenas[(home.index + i) % arenas.length], size, rangeSize, needed,
                    alignment, usage, mode, Growth.NONE, verified);
            if (placed != null) {
                return placed;
            }
        }
        if (outOfMemory != null) {
            throw outOfMemory;
        }
        return null;
    }

    /**
     * Frees the releases waiting in every arena but {@code home}, destroying the blocks that empties and the pool does
     * not keep; locks are taken one at a time. Goes on past a failure (a suballocator whose free throws, in an arena's
     * drain or in the one its unlock runs; a {@code DeviceMemoryListener}'s {@link Error}, which comes out of
     * destroying a block once VMA freed its memory), as {@link #releaseUnused} does: every other arena's waiting
     * releases are freed and the blocks that empties destroyed all the same, and the first failure is thrown at the
     * end, the others suppressed on it. The request ends with it either way ({@link #suballocateInArenas}: a
     * {@link RuntimeException} as {@code OUT_OF_DEVICE_MEMORY} with it suppressed, an {@link Error} as itself with the
     * out-of-memory failure suppressed on it: {@link #endAfterFailedGiveBack}), so going on only decides how much goes
     * back to VMA first.
     *
     * @return whether a block was destroyed (memory went back to VMA)
     * @throws RuntimeException the first failure on the way, once every other arena was drained
     * @throws Error            the first failure, when it was an {@link Error}
     */
    private boolean drainOthers(Arena home) {
        boolean destroyed = false;
        Throwable first = null;
        for (int i = 1; i < arenas.length; i++) {
            Arena other = arenas[(home.index + i) % arenas.length];
            if (other.pendingHead == null) {
                continue;
            }
            List<PoolBlock> drained = null;
            other.lock();
            try {
                if (!other.closed) {
                    // A drain that throws has freed the other waiting releases all the same, and destroyed the blocks
                    // that emptied.
                    drained = drain(other, null);
                }
            } catch (RuntimeException | Error e) {
                first = Failures.add(first, e);
            } finally {
                // Every failure of unlocking and of destroying the drained blocks is kept: on the first so far, or
                // thrown (the first of them, the others on it) when there was none, and the walk goes on.
                try {
                    unlockAfter(other, first, drained);
                } catch (RuntimeException | Error e) {
                    first = e;
                }
            }
            destroyed |= drained != null;
        }
        Failures.throwIfAny(first);
        return destroyed;
    }

    /** {@link #suballocate} in one arena. */
    private PooledBuffer suballocateIn(Arena arena, long size, long rangeSize, long needed, long alignment, int usage,
                                       BlockPoolAllocator.BufferMode mode, Growth growth, boolean verified) {
        PoolBlock block;
        long handle = Suballocator.NULL_HANDLE;
        RangeSlot slot = null;
        List<PoolBlock> drained = null;
        RangeSlot cached = null;
        Throwable failure = null;
        arena.lock();
        try {
            checkOpen(arena);
            ThreadRangeCache cache = refillCache(arena, rangeSize);
            drained = drain(arena, null, cache);
            if (cache != null) {
                // A range of this class that another thread gave back to this arena: no suballocator call.
                cached = cache.pollQuietly(this, rangeSize, alignment);
            }
            if (cached == null) {
                block = arena.tryExisting(rangeSize, alignment);
                if (block != null) {
                    handle = arena.placedHandle;
                } else {
                    if (growth == Growth.NONE) {
                        return null;
                    }
                    if (drained != null) {
                        // Blocks the drain emptied go back to VMA before a new one is asked for, or a full heap would
                        // refuse the new block while their memory is only waiting to be freed. Dropped from drained
                        // first: when destroying one fails, the finally below must not destroy them all again.
                        List<PoolBlock> emptied = drained;
                        drained = null;
                        destroyAll(emptied);
                    }
                    block = adoptEmptyBlock(arena, rangeSize, alignment);
                    if (block == null) {
                        block = newBlock(arena, rangeSize, alignment, growth == Growth.WITHIN_BUDGET);
                    }
                    handle = arena.placedHandle;
                }
                slot = new RangeSlot(block, handle, block.suballocator.offset(handle), rangeSize, alignment,
                        cacheBin(rangeSize));
                block.link(slot);
                if (mode == BlockPoolAllocator.BufferMode.SUB_RANGE) {
                    return subRange(arena, slot, size);
                }
            }
        } catch (RuntimeException | Error e) {
            // An Error too (destroying the blocks the drain emptied before the arena grows, a DeviceMemoryListener's,
            // which VMA lets through once the memory is freed): what unlocking throws then rides on it.
            failure = e;
            throw e;
        } finally {
            try {
                // A failure of the drain that unlocking runs must not ride on running out of device memory, which the
                // callers recover from: rideOn ends the request instead.
                unlockAfter(arena, outOfDeviceMemory(failure) ? null : failure, drained);
            } catch (RuntimeException | Error e) {
                // Thrown only when the body succeeded or ran out of device memory: any other failure of the body has
                // what unlocking threw suppressed on it (a waiting release's free, or a DeviceMemoryListener's Error
                // from destroying a block that the unlock's drain emptied), and goes on out.
                if (failure != null) {
                    throw Failures.propagate(rideOn(failure, e, rangeSize));
                }
                // The body succeeded: the request fails with what unlocking threw, so what it placed goes back (a
                // sub-range's buffer is never handed to the caller).
                RangeSlot placed = cached != null ? cached : slot;
                if (placed != null) {
                    throw Failures.propagate(giveBack(placed, e));
                }
                throw e;
            }
        }
        if (cached != null) {
            return fromCache(null, cached, size, needed, usage, mode, verified);
        }
        return ownBuffer(null, slot, size, needed, usage, verified);
    }

    /**
     * Takes over an empty block that another arena keeps and places the range in it, so that an arena that must grow
     * reuses memory the pool holds already; {@code arena}'s lock is held, the others' are only tried. A failure of the
     * other arena's drain (a suballocator whose free throws) is thrown as itself, what unlocking that arena then
     * throws suppressed on it, as a failure of the home arena's own drain is: no device memory was asked for yet, so
     * the request has not run out of it ({@link #drainOthers}, which runs once the heap was full, is what ends a
     * request as {@code OUT_OF_DEVICE_MEMORY}).
     *
     * @return the block, now listed in {@code arena} and no longer empty, its handle in {@link Arena#placedHandle};
     *         or {@code null} when no other arena keeps one that takes the range, or their locks are busy
     */
    private PoolBlock adoptEmptyBlock(Arena arena, long rangeSize, long alignment) {
        if (arenas.length == 1) {
            return null;
        }
        for (int i = 1; i < arenas.length; i++) {
            Arena other = arenas[(arena.index + i) % arenas.length];
            if ((other.emptyBlocks == 0 && other.pendingHead == null) || !other.tryLock()) {
                // (emptyBlocks read without the lock only to skip an arena cheaply; it is read again below)
                continue;
            }
            List<PoolBlock> drained = null;
            Throwable failure = null;
            PoolBlock adopted = null;
            try {
                if (other.closed) {
                    continue;
                }
                // Waiting releases first: they may leave a block empty that can move.
                drained = drain(other, null);
                if (other.emptyBlocks == 0) {
                    continue;
                }
                for (int j = 0; j < other.blocks.size(); j++) {
                    PoolBlock b = other.blocks.get(j);
                    if (!b.isEmpty()) {
                        continue;
                    }
                    long handle = b.suballocator.tryAllocate(rangeSize, alignment, AllocationType.LINEAR);
                    if (handle == Suballocator.NULL_HANDLE) {
                        continue;
                    }
                    other.blocks.remove(j);
                    other.emptyBlocks--;
                    keptEmpty.decrementAndGet();
                    b.arena = arena;
                    arena.blocks.add(b);
                    arena.placedHandle = handle;
                    adopted = b;
                    return b;
                }
            } catch (RuntimeException | Error e) {
                // A drain of the other arena that failed: what unlocking it then throws (a DeviceMemoryListener's
                // Error too) rides on that failure, the first, which goes on out.
                failure = e;
                throw e;
            } finally {
                try {
                    unlockAfter(other, failure, drained);
                } catch (RuntimeException | Error e) {
                    // Only when the body succeeded. An Error too: destroying a block that the other arena's drain
                    // emptied (a DeviceMemoryListener's, which VMA lets through once the memory is freed) fails the
                    // request all the same.
                    if (adopted != null) {
                        unplace(arena, adopted, e);
                    }
                    throw e;
                }
            }
        }
        return null;
    }

    /**
     * Undoes the placement of a range that {@link #adoptEmptyBlock} made in the block it took over, when unlocking the
     * other arena then threw (a {@link RuntimeException}, or a {@code DeviceMemoryListener}'s {@link Error} from
     * destroying a block the other arena's drain emptied): the request fails, and the range would keep the block from
     * ever being empty again. The block, empty again, is kept in {@code arena} or destroyed, as any block a free
     * empties; {@code arena}'s lock is held. What fails on the way is suppressed on {@code cause}.
     */
    private void unplace(Arena arena, PoolBlock block, Throwable cause) {
        try {
            owner.destroy(freeRange(arena, block, arena.placedHandle));
        } catch (RuntimeException | Error e) {
            Failures.add(cause, e);
        }
    }

    /** Hands out a sub-range of the block-wide buffer; the arena's lock is held. */
    private PooledBuffer subRange(Arena arena, RangeSlot slot, long size) {
        PoolBlock block = slot.block;
        VulkanBuffer whole;
        try {
            whole = blockBuffer(block);
        } catch (RuntimeException e) {
            Throwable failure = e;
            try {
                block.unlink(slot);
                owner.destroy(freeRange(arena, block, slot.handle));
            } catch (RuntimeException | Error later) {
                // The range's free failed too, or destroying the block it emptied (a DeviceMemoryListener's Error):
                // the caller still learns why the buffer could not be made.
                failure = rideOn(e, later, slot.rangeSize);
            }
            throw Failures.propagate(failure);
        }
        return handOut(null, VulkanBuffer.subRange(whole, block.memory, slot.offset, size), slot);
    }

    /** @return the block's block-wide buffer, made now if this is its first sub-range; the arena's lock is held */
    private VulkanBuffer blockBuffer(PoolBlock block) {
        VulkanBuffer whole = block.blockBuffer;
        if (whole == null) {
            whole = block.memory.createBlockBuffer(owner.config().subRangeUsage());
            block.blockBuffer = whole;
        }
        return whole;
    }

    /**
     * @return the thread caches' bin for a range of this many bytes, or -1 when it is never cached: larger than
     *         {@link #cacheMaxRange} or not placed at a size class
     */
    private int cacheBin(long rangeSize) {
        return rangeSize <= cacheMaxRange && ThreadRangeCache.sizeClass(rangeSize) == rangeSize
                ? ThreadRangeCache.classIndex(rangeSize) : -1;
    }

    /**
     * Makes the buffer that holds a range now. The buffer carries what its release needs to cache the range, so that
     * a thread that releases a buffer made on another core does not read the slot, and the inbox of the calling
     * thread's cache, to which such a thread sends the range back ({@link ThreadRangeCache.Inbox}).
     *
     * @param cache the calling thread's cache, or {@code null} to look it up when the range may be cached
     */
    private PooledBuffer handOut(ThreadRangeCache cache, VulkanBuffer view, RangeSlot slot) {
        PooledBuffer buffer = new PooledBuffer(view, slot.block);
        buffer.slot = slot;
        int bin = slot.cacheBin;
        buffer.cacheBin = bin;
        buffer.alignmentLog2 = (byte) Long.numberOfTrailingZeros(slot.alignment);
        if (bin >= 0) {
            buffer.home = (cache != null ? cache : owner.threadCache()).inbox(this);
        }
        slot.current = buffer;
        return buffer;
    }

    /**
     * Makes a {@code VkBuffer} bound at a placed range, outside the lock. The block cannot change arenas meanwhile:
     * the placed range keeps it from being empty. On failure the range goes back.
     */
    private PooledBuffer ownBuffer(ThreadRangeCache cache, RangeSlot slot, long size, long needed, int usage,
                                   boolean verified) {
        PoolBlock block = slot.block;
        VulkanBuffer view;
        boolean keep = recycleBuffers && slot.cacheBin >= 0;
        long kept = slot.keptBuffer();
        if (kept != 0 && slot.keptSize == size && slot.keptUsage == usage) {
            // The range comes from this thread's cache with the VkBuffer its last buffer had: no Vulkan call.
            view = block.memory.borrowBuffer(kept, slot.offset, size, usage);
        } else {
            try {
                dropKeptBuffer(slot);
                // Checked against the bytes the request needs, not its size class, so that "verified" holds for
                // any range of this size placed for a request of the same size.
                if (keep) {
                    long made = block.memory.createBoundBuffer(slot.offset, size, usage, needed, verified);
                    slot.keepBuffer(made, size, usage);
                    keptBuffers.increment();
                    keptBuffersMade.increment();
                    view = block.memory.borrowBuffer(made, slot.offset, size, usage);
                } else {
                    view = block.memory.createBuffer(slot.offset, size, usage, needed, verified);
                }
            } catch (RuntimeException e) {
                throw Failures.propagate(giveBack(slot, e));
            }
            if (!verified) {
                owner.markVerified(usage, size, needed);
            }
        }
        TypeBlockPool.Arena arena = block.arena;
        if (arena.closed) {
            // close() ran while the VkBuffer was being made: the block is freed; undo and report.
            view.close();
            dropKeptBuffer(slot);
            throw new IllegalStateException("block pool of memory type " + memoryTypeIndex + " was closed during"
                    + " the allocation (expected: no allocation racing close())");
        }
        return handOut(cache, view, slot);
    }

    /** Destroys the {@code VkBuffer} a range keeps, if any (once, whichever thread comes first). */
    void dropKeptBuffer(RangeSlot slot) {
        long kept = slot.takeKeptBuffer();
        if (kept != 0) {
            keptBuffers.decrement();
            slot.block.memory.destroyBuffer(kept);
        }
    }

    /** @return the {@code VkBuffer}s made to be kept by their ranges so far (for tests) */
    long keptBuffersMade() {
        return keptBuffersMade.sum();
    }

    /** Hands out a range that the calling thread's cache kept. */
    private PooledBuffer fromCache(ThreadRangeCache cache, RangeSlot slot, long size, long needed, int usage,
                                   BlockPoolAllocator.BufferMode mode, boolean verified) {
        if (mode == BlockPoolAllocator.BufferMode.OWN_BUFFER) {
            return ownBuffer(cache, slot, size, needed, usage, verified);
        }
        // A sub-range needs no VkBuffer of its own: one the range kept for a buffer of its own goes now.
        dropKeptBuffer(slot);
        PoolBlock block = slot.block;
        VulkanBuffer whole = block.blockBuffer;
        if (whole == null) {
            // The range was made for a buffer of its own: the block's first sub-range.
            Arena arena = block.arena;
            Throwable failure = null;
            arena.lock();
            try {
                whole = blockBuffer(block);
            } catch (RuntimeException | Error e) {
                failure = e;
            } finally {
                try {
                    // As in suballocateIn: no failure may ride on running out of device memory.
                    unlockAfter(arena, outOfDeviceMemory(failure) ? null : failure, null);
                } catch (RuntimeException | Error e) {
                    // When the block-wide buffer was made, the request fails with what unlocking threw (a
                    // DeviceMemoryListener's Error too, from destroying a block the unlock's drain emptied), so the
                    // range goes back all the same.
                    failure = failure == null ? e : rideOn(failure, e, slot.rangeSize);
                }
            }
            if (failure != null) {
                throw Failures.propagate(giveBack(slot, failure));
            }
        }
        return handOut(cache, VulkanBuffer.subRange(whole, block.memory, slot.offset, size), slot);
    }

    /**
     * Gives a placed range back after its buffer could not be made (or the request failed after placing it), waiting
     * for the lock. What fails on the way (the range's free, the drain that unlocking runs, a
     * {@code DeviceMemoryListener}'s {@link Error} from destroying a block that emptied) does not replace
     * {@code cause}: see {@link #rideOn}.
     *
     * @param cause why the request fails, a {@link RuntimeException} or an {@link Error}
     * @return what the caller throws ({@link Failures#propagate}): {@code cause}, or what {@link #rideOn} makes of it
     */
    private Throwable giveBack(RangeSlot slot, Throwable cause) {
        Throwable failure = giveBack(slot);
        return failure == null ? cause : rideOn(cause, failure, slot.rangeSize);
    }

    /** @return what failed while giving the range back (the first, the others suppressed on it), or {@code null} */
    private Throwable giveBack(RangeSlot slot) {
        dropKeptBuffer(slot);
        PoolBlock block = slot.block;
        Arena arena = block.arena;
        PoolBlock unused = null;
        Throwable failure = null;
        arena.lock();
        try {
            if (!arena.closed) {
                block.unlink(slot);
                unused = freeRange(arena, block, slot.handle);
            }
        } catch (RuntimeException | Error e) {
            failure = e;
        } finally {
            try {
                // The block the free emptied is destroyed after unlocking, whatever unlocking threw.
                unlockAfter(arena, failure, null, unused);
            } catch (RuntimeException | Error e) {
                // Only when the free succeeded (else what unlocking threw rides on the free's failure).
                failure = e;
            }
        }
        return failure;
    }

    /**
     * What a request throws when {@code later} failed on the way out of {@code cause}. The first failure wins:
     * {@code cause}, with {@code later} suppressed on it, also when {@code later} is an {@link Error} (a
     * {@code DeviceMemoryListener}'s, which VMA lets through once the memory is freed) and {@code cause} is not, as
     * {@link Failures} keeps failures. Unless {@code cause} is {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}, which the
     * callers recover from (another arena, giving back what no buffer uses, the next memory type), so that
     * {@code later} would be lost with it when that succeeds: then the request ends there, {@code later} being the
     * first failure of giving back, as after running out of memory anywhere (block-pool.md, "Out of memory"): a
     * {@link RuntimeException} as {@link #outOfMemoryAfterFailedGiveBack}, an {@link Error} as itself, {@code cause}
     * suppressed on it.
     *
     * @param cause what the request failed with
     * @param later a later failure, a {@link RuntimeException} or an {@link Error}
     * @param bytes the bytes the request needed
     * @return what to throw ({@link Failures#propagate}): a {@link RuntimeException} or an {@link Error}
     */
    private Throwable rideOn(Throwable cause, Throwable later, long bytes) {
        if (outOfDeviceMemory(cause)) {
            return endAfterFailedGiveBack((VulkanException) cause, later, bytes);
        }
        return Failures.add(cause, later);
    }

    /**
     * What a request that ran out of device memory ends with when giving back then failed: a
     * {@link RuntimeException} as {@link #outOfMemoryAfterFailedGiveBack}; an {@link Error} (a
     * {@code DeviceMemoryListener}'s, from destroying a block, which VMA lets through once the memory is freed) as
     * itself, the out-of-memory failure suppressed on it, so that neither is lost.
     *
     * @param outOfMemory the out-of-memory failure
     * @param failure     the first failure of giving back, a {@link RuntimeException} or an {@link Error}
     * @param bytes       the bytes the request needed
     * @return what to throw ({@link Failures#propagate})
     */
    Throwable endAfterFailedGiveBack(VulkanException outOfMemory, Throwable failure, long bytes) {
        if (failure instanceof RuntimeException e) {
            return outOfMemoryAfterFailedGiveBack(outOfMemory, e, bytes);
        }
        return Failures.add(failure, outOfMemory);
    }

    /** @return whether {@code e} is {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}, which the callers recover from */
    private static boolean outOfDeviceMemory(Throwable e) {
        return e instanceof VulkanException v && v.result() == BlockPoolAllocator.VK_ERROR_OUT_OF_DEVICE_MEMORY;
    }

    /**
     * Makes and lists a new block and places {@code needed} bytes in it (the handle in {@link Arena#placedHandle});
     * the arena's lock is held. The size is the next step of 1/8, 1/4, 1/2, 1 of the block size in this arena,
     * doubled, up to the block size, until an empty block of that size takes the range: until {@code needed} fits,
     * and then while the suballocator could not place it (a buddy's roots, an alignment beyond the block) or the
     * suballocator factory refuses the size ({@code IllegalArgumentException}, its contract for a bad value). That is
     * decided with a suballocator made for the block before its memory is, which then becomes the block's: a request
     * that no block could hold makes no device memory. When the memory fails for want of device memory, 1/2, 1/4 and
     * 1/8 of the size are tried, never below {@code needed}, each decided the same way first; a retry whose block
     * could not hold the range, or whose size the factory refuses, ends them: the heap is what was short, and the last
     * out-of-memory failure is thrown, the factory's refusal suppressed on it. Nothing is listed or counted as a step
     * unless the block is made.
     *
     * @throws VulkanException when every size failed with {@code VK_ERROR_OUT_OF_DEVICE_MEMORY} (the last failure),
     *                         or another Vulkan call failed
     * @throws PoolException   {@link PoolException.Kind#SUBALLOCATOR_BLOCK_SIZE_EXCEEDED} when not even an empty
     *                         block of the largest size would take the range, or the factory refuses that size (its
     *                         exception the cause); no memory is made
     * @param withinBudget whether VMA refuses a block that would take the heap past its budget (as for want of
     *                     memory: the next, smaller size is tried)
     */
    private PoolBlock newBlock(Arena arena, long needed, long alignment, boolean withinBudget) {
        long floor = BlockPoolAllocator.roundToGranule(needed);
        // blocksMade < 3 gives the shift 3, 2, 1; afterwards 0. The block size is at most 2^62, so no step overflows.
        long size = blockSize >>> Math.max(0, 3 - (int) Math.min(arena.blocksMade, 3));
        size = BlockPoolAllocator.roundToGranule(size);
        while (size < floor) {
            size <<= 1;
        }
        long largest = Math.max(blockSize, floor);
        size = Math.min(size, largest);
        // Pure Java, and only on the way to a vkAllocateMemory: suballocators place alike from the same state, so an
        // empty one of the block's size answers for the block. A size the factory refuses answers "no room" too.
        Suballocator suballocator;
        long handle;
        while (true) {
            IllegalArgumentException refused = null;
            suballocator = null;
            handle = Suballocator.NULL_HANDLE;
            try {
                suballocator = emptySuballocator(size);
            } catch (IllegalArgumentException e) {
                refused = e;
            }
            if (suballocator != null) {
                handle = suballocator.tryAllocate(needed, alignment, AllocationType.LINEAR);
                if (handle != Suballocator.NULL_HANDLE) {
                    break;
                }
            }
            if (size >= largest) {
                if (refused != null) {
                    throw refusedBlockSize(size, needed, refused);
                }
                throw new PoolException(PoolException.Kind.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED, null,
                        "an empty block of " + size + " bytes in memory type " + memoryTypeIndex + " has no room for "
                                + needed + " bytes at alignment " + alignment + " in its " + suballocator.kind()
                                + " suballocator (expected: a request that an empty block can hold)", null);
            }
            // Both are multiples of the granule, so the doubled size is one too.
            size = Math.min(size << 1, largest);
        }
        VulkanException last = null;
        long previous = -1;
        for (int retry = 0; retry <= 3; retry++) {
            long attempt = Math.max(floor, BlockPoolAllocator.roundToGranule(size >>> retry));
            if (attempt == previous) {
                break;
            }
            previous = attempt;
            if (retry > 0) {
                try {
                    suballocator = emptySuballocator(attempt);
                } catch (IllegalArgumentException e) {
                    // The factory takes no region this small, and the next retries are smaller still: the heap is
                    // what was short, and the refusal rides on its failure.
                    last.addSuppressed(e);
                    throw last;
                }
                handle = suballocator.tryAllocate(needed, alignment, AllocationType.LINEAR);
                if (handle == Suballocator.NULL_HANDLE) {
                    // A block of the size the request needs did not fit the heap, and no smaller one can hold it.
                    throw last;
                }
            }
            VulkanMemory memory;
            try {
                memory = owner.allocateMemory(attempt, 1, memoryTypeIndex, withinBudget, "solvk block pool: memory "
                        + "type " + memoryTypeIndex + ", block of " + attempt + " bytes");
            } catch (VulkanException e) {
                if (e.result() != BlockPoolAllocator.VK_ERROR_OUT_OF_DEVICE_MEMORY) {
                    throw e;
                }
                last = e;
                continue;
            }
            if (memory.size() != attempt) {
                // VMA gives dedicated memory the size asked for; should it not, the suballocator follows the memory.
                try {
                    suballocator = emptySuballocator(memory.size());
                    handle = suballocator.tryAllocate(needed, alignment, AllocationType.LINEAR);
                } catch (RuntimeException e) {
                    try {
                        owner.freeMemory(memory);
                    } catch (RuntimeException | Error later) {
                        // A DeviceMemoryListener's Error (once VMA freed the memory) rides on the first failure.
                        Failures.add(e, later);
                    }
                    throw e;
                }
                if (handle == Suballocator.NULL_HANDLE) {
                    owner.freeMemory(memory);
                    throw new PoolException(PoolException.Kind.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED, null, "a block of "
                            + memory.size() + " bytes made for " + attempt + " in memory type " + memoryTypeIndex
                            + " has no room for " + needed + " bytes at alignment " + alignment + " (expected: "
                            + "the size asked for)", null);
                }
            }
            PoolBlock block = new PoolBlock(this, arena, memory, suballocator);
            arena.blocks.add(block);
            arena.blocksMade++;
            arena.placedHandle = handle;
            return block;
        }
        throw last;
    }

    /**
     * @return an empty suballocator of the configured kind over a block of {@code size} bytes
     * @throws IllegalArgumentException when the factory refuses a region of that size
     */
    private Suballocator emptySuballocator(long size) {
        return owner.config().suballocatorFactory().create(0, size, owner.bufferImageGranularity());
    }

    /**
     * The failure of a request for which the suballocator factory refused the largest block the pool would make
     * ({@link #newBlock}): no block can be made for it, so it is {@code SUBALLOCATOR_BLOCK_SIZE_EXCEEDED}, the
     * factory's exception its cause.
     */
    private PoolException refusedBlockSize(long size, long needed, IllegalArgumentException refused) {
        return new PoolException(PoolException.Kind.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED, null, "the suballocator factory "
                + "refuses a block of " + size + " bytes, the largest memory type " + memoryTypeIndex + " makes for "
                + needed + " bytes (expected: a factory that takes regions up to the block size): "
                + refused.getMessage(), refused);
    }

    /**
     * Gives memory of its own to one buffer, outside the lock.
     *
     * @param memorySize the driver's size for the buffer
     * @param size       the buffer's size
     * @param alignment  a power of two
     * @param usage      the buffer's usage
     * @param withinBudget whether VMA refuses memory that would take the heap past its budget
     *                     ({@code VK_ERROR_OUT_OF_DEVICE_MEMORY})
     * @param name       recorded by VMA, or {@code null}
     * @return the buffer
     * @throws VulkanException when the memory or the buffer cannot be made; nothing is left allocated
     */
    PooledBuffer allocateDedicated(long memorySize, long size, long alignment, int usage, boolean withinBudget,
                                   String name) {
        dedicatedLock.lock();
        try {
            if (dedicatedClosed) {
                throw closedError();
            }
        } finally {
            dedicatedLock.unlock();
        }
        // Memory made for this buffer: the driver is told which buffer it is for (VkMemoryDedicatedAllocateInfo);
        // VMA takes the size and alignment from the buffer's own requirements, which memorySize and alignment are.
        VulkanMemory.DedicatedBuffer made = owner.allocateDedicatedBuffer(size, usage, memoryTypeIndex, withinBudget,
                name != null ? name : "solvk block pool: dedicated, memory type " + memoryTypeIndex);
        VulkanMemory memory = made.memory();
        PoolBlock block = new PoolBlock(this, null, memory, null);
        VulkanBuffer view = made.buffer();
        RangeSlot slot = new RangeSlot(block, Suballocator.NULL_HANDLE, 0, memory.size(), alignment, -1);
        PooledBuffer buffer = handOut(null, view, slot);
        boolean raced;
        dedicatedLock.lock();
        try {
            raced = dedicatedClosed;
            if (!raced) {
                dedicated.add(block);
                block.link(slot);
            }
        } finally {
            dedicatedLock.unlock();
        }
        if (raced) {
            // close() ran while the memory was being made: it never saw this block, so free it here.
            view.close();
            owner.freeMemory(memory);
            throw new IllegalStateException("block pool of memory type " + memoryTypeIndex + " was closed during"
                    + " the allocation (expected: no allocation racing close())");
        }
        return buffer;
    }

    /**
     * Gives back what this memory type holds that no buffer uses, after dedicated memory or a new block could not be
     * made for want of device memory: the calling thread's cached ranges of this type, the releases waiting in every
     * arena, and then every empty block, kept ones included (none of which took the request). Locks are taken one at
     * a time. A block request that misses gives the thread's ranges back before the pool grows
     * ({@link #suballocateMissed}); dedicated memory never looks at the blocks, and the one empty block kept stays
     * while the pool grows, so this is what goes back when the heap is what is short. Goes on past a failure (a
     * suballocator whose free throws, in the flush or in finishing an arena's waiting releases; a
     * {@code DeviceMemoryListener}'s {@link Error}, which comes out of destroying a block once VMA freed its memory, in
     * the flush, in the drain an arena's unlock runs, or in destroying the empty blocks at the end): every other
     * range, waiting release and empty block goes back all the same, and the first failure is thrown at the end, the
     * others suppressed on it.
     *
     * @param cache the calling thread's cache, or {@code null} when ranges are not cached
     * @return whether a block was freed (device memory went back to VMA), so that trying again may succeed
     * @throws RuntimeException the first failure on the way, once everything else went back
     * @throws Error            the first failure, when it was an {@link Error}
     */
    boolean releaseUnused(ThreadRangeCache cache) {
        // Blocks that the flush or the waiting releases leave empty beyond those kept are freed on the way (afterFree):
        // counted as returned, as the kept ones freed below are.
        long returned = blocksReturned.get();
        Throwable failure = null;
        if (cache != null && cache.cachedRanges(memoryTypeIndex) > 0) {
            try {
                cache.flush(this);
            } catch (RuntimeException | Error e) {
                // The flush gave every other range back, past an Error too; the waiting releases and the empty
                // blocks still go.
                failure = e;
            }
        }
        // A list of its own, so that a drain that throws leaves the blocks found so far in it (destroyed below).
        List<PoolBlock> unused = new ArrayList<>(2);
        try {
            failure = releaseUnusedIn(unused, failure);
        } finally {
            // The walk's failure is kept: one of destroying the blocks rides on it rather than replace it.
            try {
                destroyAll(unused);
            } catch (RuntimeException | Error e) {
                failure = Failures.add(failure, e);
            }
        }
        Failures.throwIfAny(failure);
        return blocksReturned.get() != returned;
    }

    /**
     * {@link #releaseUnused}'s walk over the arenas: adds what it takes out of them to {@code unused}. Goes on past a
     * failure in finishing an arena's waiting releases (or in the drain its unlock runs, and in destroying the blocks
     * that drain emptied) to that arena's empty blocks and the other arenas.
     *
     * @param failure the failure so far, or {@code null}
     * @return the first failure, {@code failure} if there was one, with the later ones suppressed on it; or
     *         {@code null}
     */
    private Throwable releaseUnusedIn(List<PoolBlock> unused, Throwable failure) {
        Throwable first = failure;
        for (Arena arena : arenas) {
            arena.lock();
            try {
                if (arena.closed) {
                    continue;
                }
                try {
                    // A drain that throws has freed the other waiting releases all the same, and left the blocks
                    // that emptied in unused.
                    drain(arena, unused);
                } catch (RuntimeException | Error e) {
                    first = Failures.add(first, e);
                }
                for (int i = arena.blocks.size() - 1; i >= 0 && arena.emptyBlocks > 0; i--) {
                    PoolBlock b = arena.blocks.get(i);
                    if (b.isEmpty()) {
                        arena.blocks.remove(i);
                        arena.emptyBlocks--;
                        keptEmpty.decrementAndGet();
                        blocksReturned.incrementAndGet();
                        unused.add(b);
                    }
                }
            } finally {
                try {
                    // Releases that came to wait meanwhile: an Error from destroying a block they emptied comes once
                    // VMA freed it, and the lock is released by then, so the walk goes on.
                    unlock(arena);
                } catch (RuntimeException | Error e) {
                    first = Failures.add(first, e);
                }
            }
        }
        return first;
    }

    /**
     * Gives a released buffer's range back; its view is closed already. A range small enough goes to the releasing
     * thread's cache while it has room ({@link ThreadRangeCache}); others go back to their block, and memory that is
     * no longer kept is freed.
     */
    void release(PoolBlock block, PooledBuffer buffer) {
        if (block.isDedicated()) {
            PoolBlock unused;
            dedicatedLock.lock();
            try {
                if (dedicatedClosed) {
                    return;
                }
                block.unlink(buffer.slot);
                dedicated.remove(block);
                unused = block;
            } finally {
                dedicatedLock.unlock();
            }
            owner.destroy(unused);
            owner.honourFlushRequest();
            return;
        }
        RangeSlot slot = buffer.slot;
        int bin = buffer.cacheBin;
        if (bin >= 0 && !owner.isClosed()) {
            boolean kept;
            try {
                kept = owner.threadCache().offer(this, slot, bin, 1L << buffer.alignmentLog2, buffer.home);
            } catch (RuntimeException | Error e) {
                // The cache's flush or sweep failed, before the range was kept (a free threw, or destroying a block
                // it emptied got a DeviceMemoryListener's Error, which VMA lets through once the memory is freed):
                // this range still goes back, and a failure of that rides on the first.
                try {
                    releaseToBlock(slot);
                } catch (RuntimeException | Error again) {
                    Failures.add(e, again);
                }
                throw e;
            }
            if (kept) {
                return;
            }
            releaseToBlock(slot);
            return;
        }
        releaseToBlock(slot);
        owner.honourFlushRequest();
    }

    /**
     * Gives a range whose buffer was released back to its block's suballocator, without waiting for the lock (see
     * {@link Arena}); frees the block when it is left empty and not kept.
     */
    void releaseToBlock(RangeSlot slot) {
        // A range leaving the caches takes no VkBuffer back to its block.
        dropKeptBuffer(slot);
        PoolBlock block = slot.block;
        // The block holds this buffer's range, so it is not empty and cannot move to another arena: the arena
        // read here is the one whose lock guards it.
        Arena arena = block.arena;
        if (arenas.length > 1 && arena != homeArena()) {
            // A remote free: the arena's own threads free it with their next request, while its data is in their
            // cache; taking the lock here would pull the lock and the suballocator over to this core. Past
            // REMOTE_BATCH waiting releases, or an eighth of a block in waiting bytes, they are freed here if the
            // lock is free, so a quiet arena (its threads gone) holds little memory for long.
            if (arena.pushPending(slot) >= REMOTE_BATCH || slot.pendingBytes >= blockSize >>> 3) {
                unlock(arena, false);
            }
            return;
        }
        if (!arena.tryLock()) {
            // Another thread is in the arena: leave the range to it rather than wait (see Arena).
            arena.pushPending(slot);
            unlock(arena, false);
            return;
        }
        List<PoolBlock> drained = null;
        PoolBlock unused = null;
        Throwable failure = null;
        try {
            if (arena.closed) {
                return;
            }
            block.unlink(slot);
            unused = freeRange(arena, block, slot.handle);
            drained = drain(arena, null);
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            // Also when a waiting release's free threw (in the drain or in unlock's): the block this free emptied is
            // out of the arena's list all the same, and goes last; every failure is kept, the first thrown.
            unlockAfter(arena, failure, drained, unused);
        }
    }

    /**
     * Gives the lock back, then frees the ranges released meanwhile for as long as the lock can be had, so that none
     * stays pending while the lock is free; destroys the blocks those frees emptied and the pool does not keep.
     */
    private void unlock(Arena arena) {
        unlock(arena, true);
    }

    /**
     * {@link #unlock(Arena)} in a {@code finally} block, then destroys {@code unused}, blocks the caller took out of
     * the arena's list, whatever unlocking threw. Every failure is kept, and the first one wins: a failure of the
     * drain that unlocking runs (a waiting release's free that throws, or a {@code DeviceMemoryListener}'s
     * {@link Error} from destroying a block it emptied, which VMA lets through once the memory is freed) or of
     * destroying {@code unused} does not replace one already on its way out. When the body threw ({@code thrown}),
     * they are added to that as suppressed, an {@link Error} after a {@link RuntimeException} too, and this returns
     * for the caller to go on throwing it; else the first of them is thrown, the others suppressed on it. (A body
     * that ran out of device memory, which the callers recover from, passes {@code null}: see {@link #rideOn}.)
     *
     * @param thrown what the body under the lock threw, or {@code null}
     * @param unused blocks to destroy after unlocking, or {@code null}
     */
    private void unlockAfter(Arena arena, Throwable thrown, List<PoolBlock> unused) {
        unlockAfter(arena, thrown, unused, null);
    }

    /**
     * {@link #unlockAfter(Arena, Throwable, List)}, then destroys {@code emptied} too, a block the body's own free
     * took out of the arena's list.
     *
     * @param emptied a block to destroy after {@code unused}, or {@code null}
     */
    private void unlockAfter(Arena arena, Throwable thrown, List<PoolBlock> unused, PoolBlock emptied) {
        Throwable failure = thrown;
        try {
            unlock(arena);
        } catch (RuntimeException | Error e) {
            failure = Failures.add(failure, e);
        }
        try {
            destroyAll(unused);
        } catch (RuntimeException | Error e) {
            failure = Failures.add(failure, e);
        }
        try {
            owner.destroy(emptied);
        } catch (RuntimeException | Error e) {
            failure = Failures.add(failure, e);
        }
        if (thrown == null) {
            Failures.throwIfAny(failure);
        }
    }

    /**
     * @param held whether the caller holds the lock (else it only pushed a pending release)
     */
    private void unlock(Arena arena, boolean held) {
        if (held) {
            arena.unlockOnly();
        }
        // A few passes at most: a thread that only released should not be kept draining while others push.
        for (int pass = 0; pass < 4 && arena.pendingHead != null && arena.tryLock(); pass++) {
            List<PoolBlock> drained = null;
            try {
                if (arena.closed) {
                    // close() freed the blocks: the ranges went with them.
                    arena.takePending();
                } else {
                    drained = drain(arena, null);
                }
            } finally {
                arena.unlockOnly();
            }
            destroyAll(drained);
        }
    }

    /**
     * Frees the ranges of the buffers released while the lock was taken; the lock is held.
     *
     * @param unused a list to add emptied blocks to, or {@code null}
     * @return the blocks those frees emptied and the pool does not keep (taken out of the list: the caller destroys
     *         them after unlocking), or {@code unused} when there were none
     */
    private List<PoolBlock> drain(Arena arena, List<PoolBlock> unused) {
        return drain(arena, unused, null);
    }

    /**
     * The calling thread's cache when a request in its home arena may take the ranges waiting there into it
     * ({@link #drain(Arena, List, ThreadRangeCache)}): a range of a cached size, with caching on.
     */
    private ThreadRangeCache refillCache(Arena arena, long rangeSize) {
        if (arena.pendingHead == null || cacheBin(rangeSize) < 0 || arena != homeArena()) {
            return null;
        }
        return owner.threadCache();
    }

    /**
     * {@link #drain(Arena, List)}, keeping what fits in {@code cache} there instead of freeing it. Ranges wait on an
     * arena's stack when threads of other arenas release them and their own caches are full; the arena's thread
     * takes them into its cache, as if it had released them itself, so that a range passed back and forth between
     * threads is not freed into the suballocator and placed again. A range whose free throws (a suballocator's
     * exception) is taken off its block's list all the same, and the drain goes on with the others, so that none is
     * lost from the stack it took them all from; the first failure is thrown at the end. The blocks emptied before it
     * are then in {@code unused} if the caller passed a list of its own, else destroyed here before the throw, every
     * one of them, a failure of that (a {@code DeviceMemoryListener}'s {@link Error} included) suppressed on the
     * free's.
     *
     * @param cache the calling thread's cache (its home is {@code arena}), or {@code null} to free every range
     */
    private List<PoolBlock> drain(Arena arena, List<PoolBlock> unused, ThreadRangeCache cache) {
        RangeSlot slot = arena.takePending();
        RuntimeException failure = null;
        boolean ownList = unused == null;
        while (slot != null) {
            RangeSlot next = slot.pendingNext;
            slot.pendingNext = null;
            if (cache != null && slot.cacheBin >= 0 && cache.offerQuietly(this, slot, slot.cacheBin, slot.alignment)) {
                slot = next;
                continue;
            }
            PoolBlock block = slot.block;
            block.unlink(slot);
            try {
                PoolBlock emptied = freeRange(arena, block, slot.handle);
                if (emptied != null) {
                    if (unused == null) {
                        unused = new ArrayList<>(2);
                    }
                    unused.add(emptied);
                }
            } catch (RuntimeException e) {
                failure = Failures.add(failure, e);
            }
            slot = next;
        }
        if (failure != null) {
            if (ownList && unused != null) {
                // The blocks emptied before are out of the arena's list, and the exception cannot carry them back to
                // the caller: they go back to VMA here, under the lock, so that none is lost (destroyAll tries every
                // one). A failure of that (an Error too: a DeviceMemoryListener's, which VMA lets through once the
                // memory is freed) rides on the free's, the first, rather than replace it.
                try {
                    destroyAll(unused);
                } catch (RuntimeException | Error e) {
                    Failures.add(failure, e);
                }
            }
            throw failure;
        }
        return unused;
    }

    /**
     * {@link #destroyAll} in a {@code finally} block: a failure of destroying (a {@code DeviceMemoryListener}'s
     * {@link Error} included, which VMA lets through once the memory is freed) does not replace one already on its way
     * out (a waiting release's free that threw, in {@link #statistics()} or {@link #checkInvariants()}), but is
     * suppressed on it; else it is thrown.
     *
     * @param thrown what the body threw, or {@code null}
     */
    private void destroyAllAfter(Throwable thrown, List<PoolBlock> blocks) {
        try {
            destroyAll(blocks);
        } catch (RuntimeException | Error e) {
            if (thrown == null) {
                throw e;
            }
            Failures.add(thrown, e);
        }
    }

    /**
     * Destroys blocks taken out of their arena; does nothing for {@code null}. Goes on past a block whose destroy
     * throws, so that no other one stays allocated out of every list, and throws the first failure at the end, the
     * others suppressed on it. An {@link Error} too: a {@code DeviceMemoryListener} that throws one is how a destroy
     * fails (VMA's free upcall lets it through once the memory is freed; a listener's {@code RuntimeException} is
     * logged and ignored). A caller destroys a list once, even when this throws: every block of it was tried.
     */
    private void destroyAll(List<PoolBlock> blocks) {
        if (blocks == null) {
            return;
        }
        Throwable first = null;
        for (PoolBlock b : blocks) {
            try {
                owner.destroy(b);
            } catch (RuntimeException | Error e) {
                first = Failures.add(first, e);
            }
        }
        Failures.throwIfAny(first);
    }

    /**
     * Frees a range; the arena's lock is held.
     *
     * @return the block when it became empty and is not kept (taken out of the list: the caller frees it), else null
     */
    private PoolBlock freeRange(Arena arena, PoolBlock block, long handle) {
        block.suballocator.free(handle);
        return block.isEmpty() ? afterFree(arena, block) : null;
    }

    /**
     * Keeps an empty block, or takes it out when {@code maxEmptyBlocks} are kept already over all arenas; the arena's
     * lock is held.
     */
    private PoolBlock afterFree(Arena arena, PoolBlock emptied) {
        while (true) {
            int kept = keptEmpty.get();
            if (kept >= maxEmptyBlocks) {
                break;
            }
            if (keptEmpty.compareAndSet(kept, kept + 1)) {
                arena.emptyBlocks++;
                return null;
            }
        }
        arena.blocks.remove(emptied);
        blocksReturned.incrementAndGet();
        return emptied;
    }

    /** @return this memory type's figures; each arena is read under its lock in turn */
    BlockPoolAllocator.TypeStatistics statistics() {
        long committed = 0;
        long free = 0;
        long largest = 0;
        long allocations = 0;
        int blockCount = 0;
        int empty = 0;
        // A list of its own, so that a drain that throws leaves in it the blocks emptied so far, in its own pass and
        // the earlier arenas' (destroyed below all the same: they are out of their arenas' lists).
        List<PoolBlock> drained = new ArrayList<>(2);
        Throwable thrown = null;
        try {
            for (Arena arena : arenas) {
                Throwable failure = null;
                arena.lock();
                try {
                    if (!arena.closed) {
                        drain(arena, drained);
                    }
                    for (PoolBlock b : arena.blocks) {
                        committed += b.memory.size();
                        free += b.suballocator.freeBytes();
                        largest = Math.max(largest, b.suballocator.largestFreeRange());
                        allocations += b.suballocator.liveCount();
                    }
                    blockCount += arena.blocks.size();
                    empty += arena.emptyBlocks;
                } catch (RuntimeException | Error e) {
                    failure = e;
                    throw e;
                } finally {
                    unlockAfter(arena, failure, null);
                }
            }
        } catch (RuntimeException | Error e) {
            thrown = e;
            throw e;
        } finally {
            destroyAllAfter(thrown, drained);
        }
        int dedicatedCount;
        dedicatedLock.lock();
        try {
            dedicatedCount = dedicated.size();
            for (PoolBlock b : dedicated) {
                committed += b.memory.size();
            }
        } finally {
            dedicatedLock.unlock();
        }
        allocations += dedicatedCount;
        // Ranges in threads' caches are placed but hold no buffer (read racily: figures of a moment).
        long cachedRanges = owner.cachedRanges(memoryTypeIndex);
        long cachedBytes = owner.cachedBytes(memoryTypeIndex);
        long[] counts = owner.cacheCounts(memoryTypeIndex);
        return new BlockPoolAllocator.TypeStatistics(memoryTypeIndex, blockSize, blockCount, dedicatedCount, empty,
                Math.max(0, allocations - cachedRanges), committed, committed - free, free, largest,
                blocksReturned.get(), cachedRanges, cachedBytes, keptBuffers.sum(), counts[0], counts[1], counts[2]);
    }

    /** @return the sizes of the suballocated blocks, arena by arena, each in the order they came to it */
    long[] blockSizes() {
        long[][] byArena = new long[arenas.length][];
        for (int i = 0; i < arenas.length; i++) {
            byArena[i] = blockSizes(i);
        }
        return Arrays.stream(byArena).flatMapToLong(Arrays::stream).toArray();
    }

    /** @return the sizes of one arena's blocks, in the order they came to it */
    long[] blockSizes(int arenaIndex) {
        Arena arena = arenas[arenaIndex];
        arena.lock();
        try {
            return arena.blocks.stream().mapToLong(b -> b.memory.size()).toArray();
        } finally {
            unlock(arena);
        }
    }

    /**
     * Checks the suballocators' invariants and this pool's own bookkeeping. Call it while no request is in flight.
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    void checkInvariants() {
        int emptyTotal = 0;
        // A list of its own, as in statistics(): a drain or check that throws loses none of the blocks emptied so far.
        List<PoolBlock> drained = new ArrayList<>(2);
        Throwable thrown = null;
        try {
            for (Arena arena : arenas) {
                emptyTotal += checkInvariants(arena, drained);
            }
        } catch (RuntimeException | Error e) {
            thrown = e;
            throw e;
        } finally {
            destroyAllAfter(thrown, drained);
        }
        if (emptyTotal != keptEmpty.get() || emptyTotal > maxEmptyBlocks) {
            throw new IllegalStateException("memory type " + memoryTypeIndex + ": " + emptyTotal + " empty blocks, "
                    + keptEmpty.get() + " counted (expected: equal and at most " + maxEmptyBlocks + ")");
        }
        dedicatedLock.lock();
        try {
            for (PoolBlock b : dedicated) {
                if (b.liveRangeCount() != 1) {
                    throw new IllegalStateException("memory type " + memoryTypeIndex + ", " + b
                            + " (expected: exactly one live buffer in dedicated memory)");
                }
            }
        } finally {
            dedicatedLock.unlock();
        }
    }

    /**
     * {@link #checkInvariants()} for one arena, under its lock: finishes its waiting releases first (they are not in
     * flight), adding the blocks that empties to {@code drained}.
     *
     * @return the arena's empty blocks
     */
    private int checkInvariants(Arena arena, List<PoolBlock> drained) {
        Throwable failure = null;
        arena.lock();
        try {
            if (!arena.closed) {
                drain(arena, drained);
            }
            int empty = 0;
            for (PoolBlock b : arena.blocks) {
                b.suballocator.checkInvariants();
                if (b.arena != arena) {
                    throw new IllegalStateException(arena + ", " + b + ": listed here but belongs to " + b.arena
                            + " (expected: one arena per block)");
                }
                if (b.isEmpty()) {
                    empty++;
                }
                if (b.liveRangeCount() != b.suballocator.liveCount()) {
                    throw new IllegalStateException(arena + ", " + b + ": " + b.liveRangeCount()
                            + " listed ranges (expected: the suballocator's " + b.suballocator.liveCount()
                            + ", with no allocation in flight)");
                }
            }
            if (empty != arena.emptyBlocks) {
                throw new IllegalStateException(arena + ": " + empty + " empty blocks, " + arena.emptyBlocks
                        + " counted (expected: equal)");
            }
            return empty;
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            unlockAfter(arena, failure, null);
        }
    }

    /**
     * Marks the pool closed, arena by arena, and hands everything over to the caller, which closes the buffers and
     * then frees the blocks. Goes on past a failure in finishing the waiting releases (a suballocator's exception):
     * every arena is closed and every block handed over all the same.
     *
     * @param liveBuffers receives the live buffers
     * @param toFree      receives every block and dedicated memory
     * @param failures    receives what failed on the way
     * @return the number of ranges still live (buffers whose making was in flight included)
     */
    int close(List<PooledBuffer> liveBuffers, List<PoolBlock> toFree, List<? super RuntimeException> failures) {
        int live = 0;
        for (Arena arena : arenas) {
            arena.lock();
            try {
                if (arena.closed) {
                    continue;
                }
                try {
                    // Releases that found the lock taken are finished first, so their buffers do not count as live;
                    // the blocks that empties go straight into toFree, so that a failure part way loses none.
                    drain(arena, toFree);
                } catch (RuntimeException e) {
                    failures.add(e);
                }
                arena.closed = true;
                for (PoolBlock b : arena.blocks) {
                    // Ranges kept in threads' caches are not live buffers: they go with their block.
                    live += b.addOpenBuffersTo(liveBuffers);
                    toFree.add(b);
                }
                arena.blocks.clear();
                keptEmpty.addAndGet(-arena.emptyBlocks);
                arena.emptyBlocks = 0;
            } finally {
                unlock(arena);
            }
        }
        dedicatedLock.lock();
        try {
            if (!dedicatedClosed) {
                dedicatedClosed = true;
                for (PoolBlock b : dedicated) {
                    live += b.addOpenBuffersTo(liveBuffers);
                    toFree.add(b);
                }
                dedicated.clear();
            }
        } finally {
            dedicatedLock.unlock();
        }
        return live;
    }

    private void checkOpen(Arena arena) {
        if (arena.closed) {
            throw closedError();
        }
    }

    private static IllegalStateException closedError() {
        return new IllegalStateException("BlockPoolAllocator is closed (expected: an open allocator)");
    }
}
