//! How the process asks the C allocator (glibc's malloc, which Rust's default allocator uses on
//! Linux) to behave, so that peak memory stays close to what the requests in flight need.
//!
//! Left at its defaults, glibc keeps one arena per thread that ever allocated (up to eight per
//! core) and raises its mmap threshold each time a large block is freed, after which large
//! buffers (a year of watch slots, a coverage response) come from the arenas and stay there once
//! freed. Measured under the load benchmark (SQLite, 64 connections): peak RSS 101 MiB after a
//! year's coverage and 143 MiB once logins ran, against a 100 MB target.

/// Caps the arenas at one per core and fixes the mmap threshold at 256 KiB (fixing it also turns
/// off the dynamic raise), so large buffers are mapped and unmapped on their own. Call first in
/// `main`, before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        // SAFETY: mallopt only sets allocator parameters; called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores.max(2) as libc::c_int);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        }
    }
}
