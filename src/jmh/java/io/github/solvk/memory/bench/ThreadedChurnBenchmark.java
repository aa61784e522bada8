package io.github.solvk.memory.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import io.github.solvk.memory.BlockPoolBufferAllocator;
import io.github.solvk.memory.IBuffer;
import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.IMemoryPool;
import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.BlockRequest;
import io.github.solvk.memory.pool.PooledBuffer;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * PERFORMANCE.md workload W8: threads allocating and freeing buffers, a share of the frees made by another thread.
 *
 * <p>Each thread keeps a window of {@value #WINDOW} live buffers (256 B to 64 KiB, log-uniform). One operation
 * allocates a buffer, takes the oldest out of the window and either frees it or hands it, through a lock-free queue,
 * to the next thread (with {@code remoteFreePercent} probability), then frees what others handed it, at most
 * {@value #DRAIN_PER_OPERATION} inbox entries (see below). With one thread the "next thread" is itself, which
 * measures the hand-off alone. Contenders: the block pool in both buffer
 * modes (A), the block pools through the facade ({@code FACADE}, what an application calls), one of SOL's non-linear
 * pools ({@code MEMORY_POOL}: TLSF blocks of 64 MiB behind one lock, through its {@code IBuffer} facade),
 * {@code vmaCreateBuffer} (C) and {@code HARNESS}, where a Java object stands for the buffer: its score is what the
 * window and the hand-off queues alone allow. Score: operations per microsecond, all threads together (or, with
 * {@code -bm sample -tu ns}, the time of one operation, as for W8's p99.9 in docs/benchmarks.md).
 *
 * <p>Size of the run: 6 contenders x 3 shares x 3 thread counts (1, 2, 16) = 54 forks of about 5 s each (2 warm-up
 * and 3 measured iterations of 1 s, the defaults here; with one warm-up iteration the one-thread runs' first measured
 * iteration is still cold, which inflates the two-thread ratios), about 7 minutes in all with JVM and device start-up.
 * The thread counts are {@code @Threads} on the three benchmark methods, so a {@code -t} on the command line would
 * override them all: leave it out, and pick methods by name ({@code ThreadedChurnBenchmark.(oneThread|twoThreads)}).
 * The tear-down prints how many worker threads took part and how many operations each made, which shows
 * that {@code twoThreads} really ran two.
 *
 * <p>Back-pressure, batched hand-offs only: a thread whose next thread has {@value #MAX_PENDING_BATCHES} batches
 * waiting frees its batch itself instead, so that a contender whose frees on one thread fall behind its allocations on
 * the other (VMA with two threads and 100 % remote frees) does not pile up live buffers without bound. The tear-down
 * prints how many buffers each thread freed so; the share of remote frees is then that much lower than asked.
 *
 * <p>Each operation frees at most {@value #DRAIN_PER_OPERATION} entries of its inbox. Until the nineteenth run it
 * freed them all: with VMA at 100 % remote frees, a thread whose frees were slower than the other thread's allocations
 * found its inbox refilled as fast as it emptied it, and returned only when the other stopped at the iteration's end
 * (iterations of 10 s and more instead of 1 s on the 2-core box; none finished within 150 s on the H200 host). Every
 * contender that keeps up gets at most one entry per operation, so the bound leaves its figures as they were.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ThreadedChurnBenchmark {

    /** Live buffers each thread keeps. */
    static final int WINDOW = 256;
    private static final int MAX_THREADS = 64;
    private static final int SIZE_COUNT = 4096;

    /** The allocator under test. */
    public enum Contender {
        POOL_SUB_RANGE, POOL_OWN_BUFFER, VMA,
        /**
         * The block pools through the facade ({@link BlockPoolBufferAllocator#allocateBuffer}, an {@link IBuffer} made
         * and closed): sub-ranges, one {@link AllocationInfo} per size shared by the threads, as an engine's would be.
         */
        FACADE,
        /** One of SOL's non-linear pools through its {@link IBuffer} facade: TLSF blocks behind the pool's one lock. */
        MEMORY_POOL,
        /**
         * No allocator: a Java object stands for the buffer, so the score is what the harness's own work allows. Its
         * ratio of two threads to one is no ceiling for the allocators': it is about 4x faster per operation, so the
         * same cross-core cost weighs more in it.
         */
        HARNESS
    }

    @Param({"POOL_SUB_RANGE", "POOL_OWN_BUFFER", "VMA", "HARNESS", "FACADE", "MEMORY_POOL"})
    public Contender contender;

    @Param({"0", "50", "100"})
    public int remoteFreePercent;

    /**
     * Buffers handed to the next thread at once: 1 hands each over on its own (the default), more batch them as a
     * frame's deletion list would, so that the hand-off's own cross-core traffic shrinks and the allocator's remote
     * frees remain.
     */
    @Param({"1"})
    public int handoffBatch;

    /**
     * {@code BlockPoolAllocator.Config.threadCacheBytes} of the pool contenders: the default (4 MiB) unless set, to see
     * how the thread caches' size moves the figures.
     */
    @Param({"4194304"})
    public long threadCacheBytes;

    /**
     * Whether each thread of a pool contender gets a {@link BlockPoolAllocator} of its own (they share the device
     * only), rather than all sharing one: with no remote frees, a reference with nothing shared, so that what sharing
     * one allocator costs can be told apart from what the machine's cores allow. With remote frees the allocators are
     * shared again (a thread releases another's buffers into that thread's allocator), so use it at 0 % only.
     */
    @Param({"false"})
    public boolean allocatorPerThread;

    private VulkanContext context;
    private VulkanMemoryAllocator vma;
    private BlockPoolAllocator pool;
    private MemoryManager manager;
    private BlockPoolBufferAllocator facade;
    private IMemoryPool memoryPool;
    private final AllocationInfo[] infos = new AllocationInfo[SIZE_COUNT];
    private final BlockRequest[] requests = new BlockRequest[SIZE_COUNT];
    private final VulkanMemoryAllocator.BufferRequest[] vmaRequests =
            new VulkanMemoryAllocator.BufferRequest[SIZE_COUNT];
    private final long[] sizes = new long[SIZE_COUNT];
    private final List<Queue<Object>> inboxes = new ArrayList<>();
    /** Batches waiting in each inbox, one counter per 64 bytes. */
    private final AtomicIntegerArray inboxDepth = new AtomicIntegerArray(MAX_THREADS * DEPTH_STRIDE);
    /** Batches an inbox may hold before its sender frees its batches itself. */
    static final int MAX_PENDING_BATCHES = 256;
    /**
     * Inbox entries (buffers, or batches of them) a thread frees per operation at most: twice what the other thread
     * sends per operation, so a thread keeps up with a sender as fast as itself, and no thread frees on and on while a
     * faster sender refills its inbox.
     */
    static final int DRAIN_PER_OPERATION = 2;
    private static final int DEPTH_STRIDE = 16;
    private final AtomicInteger nextThread = new AtomicInteger();
    private final Queue<Worker> workers = new ConcurrentLinkedQueue<>();
    private final Queue<BlockPoolAllocator> ownPools = new ConcurrentLinkedQueue<>();
    private volatile int threads;

    /** One benchmark thread's window and random numbers. */
    @State(Scope.Thread)
    public static class Worker {
        int id;
        /**
         * The window, oldest first from {@link #head}: made by this thread and a field of this JMH-padded object, so
         * no other thread's writes share its lines (the windows were {@code ArrayDeque}s made side by side by the
         * set-up thread until the nineteenth run, whose head and tail every operation writes).
         */
        Object[] window;
        int head;
        /**
         * Whether a free is remote, and the first window's sizes. Not {@link Random}, whose every call is an atomic
         * compare-and-set: that fence per operation took 12-14 % of a pool contender's time on the H200 host.
         */
        SplittableRandom random;
        int next;
        long operations;
        /** Buffers this thread freed itself because the next thread's inbox was full. */
        long refused;
        Object[] outgoing;
        int outgoingCount;
        /** This thread's allocator when {@link #allocatorPerThread} is set, else the shared one. */
        BlockPoolAllocator pool;

        @Setup(Level.Trial)
        public void setUp(ThreadedChurnBenchmark b, org.openjdk.jmh.infra.BenchmarkParams params) {
            b.threads = params.getThreads();
            id = b.nextThread.getAndIncrement();
            b.workers.add(this);
            window = new Object[WINDOW];
            random = new SplittableRandom(id * 7919L + 1);
            outgoing = new Object[Math.max(1, b.handoffBatch)];
            boolean poolContender = b.contender == Contender.POOL_SUB_RANGE
                    || b.contender == Contender.POOL_OWN_BUFFER;
            pool = b.allocatorPerThread && poolContender ? b.newPool() : b.pool;
            if (pool != b.pool) {
                b.ownPools.add(pool);
            }
            for (int i = 0; i < WINDOW; i++) {
                window[i] = b.allocateAt(this, random.nextInt(SIZE_COUNT));
            }
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        context = VulkanContext.builder().validation(false).applicationName("ThreadedChurnBenchmark").build();
        vma = VulkanMemoryAllocator.create(VulkanMemoryAllocator.Settings.forContext(context));
        pool = newPool();
        Random random = new Random(42);
        for (int i = 0; i < SIZE_COUNT; i++) {
            sizes[i] = (long) Math.exp(Math.log(256) + random.nextDouble() * (Math.log(65536) - Math.log(256)));
            requests[i] = BenchVulkan.request(sizes[i], null);
            vmaRequests[i] = new VulkanMemoryAllocator.BufferRequest(sizes[i], BenchVulkan.USAGE, null,
                    VulkanMemoryAllocator.USAGE_AUTO, 0, MemoryProperties.DEVICE_LOCAL, 0, 0, null);
        }
        if (contender == Contender.MEMORY_POOL) {
            manager = MemoryManager.create(context);
            memoryPool = manager.createNonLinearMemoryPool("W8", IMemoryPool.CreateInfo.of(BenchVulkan.USAGE,
                    MemoryUsage.DEVICE_ONLY, 64L << 20).withBlocks(1, 16));
        }
        if (contender == Contender.FACADE) {
            manager = MemoryManager.create(context);
            facade = manager.createBlockPoolAllocator("W8", BlockPoolAllocator.Config.builder()
                    .threadCacheBytes(threadCacheBytes).build());
            for (int i = 0; i < SIZE_COUNT; i++) {
                infos[i] = AllocationInfo.builder().size(sizes[i]).bufferUsage(BenchVulkan.USAGE)
                        .memoryUsage(MemoryUsage.AUTO_PREFER_DEVICE).build();
            }
        }
        for (int i = 0; i < MAX_THREADS; i++) {
            inboxes.add(new ConcurrentLinkedQueue<>());
        }
    }

    private BlockPoolAllocator newPool() {
        BlockPoolAllocator.BufferMode mode = contender == Contender.POOL_OWN_BUFFER
                ? BlockPoolAllocator.BufferMode.OWN_BUFFER : BlockPoolAllocator.BufferMode.SUB_RANGE;
        return new BlockPoolAllocator(vma, BlockPoolAllocator.Config.builder().bufferMode(mode)
                .threadCacheBytes(threadCacheBytes).build());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        StringBuilder perThread = new StringBuilder();
        StringBuilder refused = new StringBuilder();
        for (Worker w : workers) {
            perThread.append(perThread.length() == 0 ? "" : ", ").append(w.operations);
            refused.append(refused.length() == 0 ? "" : ", ").append(w.refused);
        }
        System.out.printf("%n[W8] %s, remote free %d %%: %d worker thread(s), operations per thread: %s; freed"
                + " locally for a full inbox: %s; vkAllocateMemory calls through VMA: %d%n", contender,
                remoteFreePercent, workers.size(), perThread, refused, vma.deviceMemoryAllocationCount());
        if (contender == Contender.POOL_SUB_RANGE || contender == Contender.POOL_OWN_BUFFER) {
            long hits = 0;
            long misses = 0;
            long overflows = 0;
            for (BlockPoolAllocator.TypeStatistics t : pool.statistics()) {
                hits += t.cacheHits();
                misses += t.cacheMisses();
                overflows += t.cacheOverflows();
            }
            System.out.printf("[W8] thread caches: %d hits, %d misses (%.1f %%), %d releases not kept (%.1f %% of"
                    + " operations)%n", hits, misses, 100.0 * misses / Math.max(1, hits + misses), overflows,
                    100.0 * overflows / Math.max(1, hits + misses));
        }
        for (Worker w : workers) {
            for (Object buffer : w.window) {
                free(buffer);
            }
        }
        for (Queue<Object> inbox : inboxes) {
            inbox.forEach(this::free);
        }
        for (Worker w : workers) {
            for (int i = 0; i < w.outgoingCount; i++) {
                free(w.outgoing[i]);
            }
        }
        ownPools.forEach(BlockPoolAllocator::close);
        pool.close();
        if (manager != null) {
            manager.close();
        }
        vma.close();
        // On the NVIDIA H200 host (driver 580.159.04) a driver thread crashes (SIGSEGV in libEGL_nvidia.so) here after
        // two threads ran, whichever contender ran (the allocator-free HARNESS included), and at the fork's exit when
        // the device is left open: the fork's last iteration is lost, the earlier ones are in the log.
        context.close();
    }

    /**
     * An allocation of the size at {@code index} of the size table. The pools' and VMA's requests are made in the
     * set-up, one per size, as {@code FACADE}'s infos are: until the twenty-ninth run they built a
     * {@link BlockRequest} or a {@code BufferRequest} (and checked it) in every operation, work and garbage that
     * {@code FACADE} and {@code HARNESS} did not do. {@code MEMORY_POOL} calls {@code allocateBuffer(size)}, the
     * pool's own call by size, which makes its small request object inside, as an application's call would.
     */
    private Object allocateAt(Worker w, int index) {
        switch (contender) {
            case HARNESS:
                return new long[] {sizes[index]};
            case VMA:
                return vma.createBuffer(vmaRequests[index]);
            case MEMORY_POOL:
                return memoryPool.allocateBuffer(sizes[index]);
            case FACADE:
                return facade.allocateBuffer(infos[index]);
            default:
                return w.pool.allocate(requests[index]);
        }
    }

    void free(Object buffer) {
        if (buffer instanceof Object[] batch) {
            for (Object b : batch) {
                free(b);
            }
            return;
        }
        if (buffer instanceof PooledBuffer pooled) {
            pooled.release();
        } else if (buffer instanceof long[]) {
            return;
        } else if (buffer instanceof IBuffer b) {
            b.close();
        } else {
            ((VulkanBuffer) buffer).close();
        }
    }

    private Object churn(Worker w) {
        w.operations++;
        Object fresh = allocateAt(w, w.next++ & (SIZE_COUNT - 1));
        Object oldest = w.window[w.head];
        w.window[w.head] = fresh;
        w.head = (w.head + 1) & (WINDOW - 1);
        if (w.random.nextInt(100) < remoteFreePercent) {
            if (handoffBatch <= 1) {
                inboxes.get((w.id + 1) % threads).add(oldest);
            } else {
                w.outgoing[w.outgoingCount++] = oldest;
                if (w.outgoingCount == w.outgoing.length) {
                    int next = (w.id + 1) % threads;
                    if (inboxDepth.get(next * DEPTH_STRIDE) >= MAX_PENDING_BATCHES) {
                        free(w.outgoing);
                        w.refused += w.outgoing.length;
                    } else {
                        inboxDepth.incrementAndGet(next * DEPTH_STRIDE);
                        inboxes.get(next).add(w.outgoing);
                        w.outgoing = new Object[w.outgoing.length];
                    }
                    w.outgoingCount = 0;
                }
            }
        } else {
            free(oldest);
        }
        Queue<Object> inbox = inboxes.get(w.id);
        Object given;
        for (int i = 0; i < DRAIN_PER_OPERATION && (given = inbox.poll()) != null; i++) {
            if (given instanceof Object[]) {
                inboxDepth.decrementAndGet(w.id * DEPTH_STRIDE);
            }
            free(given);
        }
        return fresh;
    }

    @Benchmark
    @Threads(1)
    public Object oneThread(Worker w) {
        return churn(w);
    }

    @Benchmark
    @Threads(2)
    public Object twoThreads(Worker w) {
        return churn(w);
    }

    /** PERFORMANCE.md's "16 on a big host"; on a machine with fewer cores it measures oversubscription. */
    @Benchmark
    @Threads(16)
    public Object sixteenThreads(Worker w) {
        return churn(w);
    }
}
