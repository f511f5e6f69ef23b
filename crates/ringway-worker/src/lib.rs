//! Thread-per-core workers: pinning, monoio runtimes (io_uring or epoll), SO_REUSEPORT listeners and lock-free snapshot swaps
