package io.sluice.worker;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker's concurrency as credit: a slot is taken when a task is admitted to run and given back when its
 * execution ends (or it is not run after all). The task feed fetches only for free slots, so a worker never
 * acquires a task it has no slot for.
 *
 * <p>Thread-safety: thread-safe.
 */
final class Slots {

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int used;

    Slots(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    int capacity() {
        return capacity;
    }

    /** Takes a slot if one is free. */
    boolean tryTake() {
        lock.lock();
        try {
            if (used >= capacity) {
                return false;
            }
            used++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Gives a taken slot back. */
    void release() {
        lock.lock();
        try {
            if (used <= 0) {
                throw new IllegalStateException("no slot is taken");
            }
            used--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    int free() {
        lock.lock();
        try {
            return capacity - used;
        } finally {
            lock.unlock();
        }
    }

    int used() {
        lock.lock();
        try {
            return used;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until at least {@code n} slots are free or the time is up. @return the free slots then */
    int awaitFree(int n, long timeoutNanos) throws InterruptedException {
        long left = timeoutNanos;
        lock.lock();
        try {
            while (capacity - used < n && left > 0) {
                left = changed.awaitNanos(left);
            }
            return capacity - used;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until no slot is taken or the time is up. @return true when none is */
    boolean awaitIdle(long timeoutNanos) throws InterruptedException {
        return awaitFree(capacity, timeoutNanos) == capacity;
    }

    /** Wakes whoever waits, e.g. so that the feed sees that it is to stop. */
    void wakeUp() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return used + "/" + capacity + " slots taken";
    }
}
