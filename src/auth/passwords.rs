//! Password hashing with argon2id at OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
//!
//! Hashing takes tens of milliseconds of CPU and 19 MiB by design. Callers use [`hash_blocking`]
//! and [`verify_blocking`], which queue the work for a small pool of hashing threads, one per
//! core, never for an actix worker or the shared blocking pool. The bound matters: on a Sunday
//! after an altar call hundreds of people sign in at once, and hashing them all in parallel would
//! take 19 MiB each and every core, so that nobody could read the prayer list meanwhile. Queued
//! here, logins run as fast as the cores allow, memory stays at a few blocks, and the hashing
//! threads run at a lower scheduling priority so that ordinary requests go first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::AppError;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

thread_local! {
    /// This thread's argon2 memory (see [`verify`]).
    static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Bytes of argon2 memory the hashing threads hold, all of them together.
static POOL_HELD: AtomicUsize = AtomicUsize::new(0);

/// True when `password` matches `hash`. A malformed stored hash counts as no match.
///
/// The same check as argon2's `verify_password`, but computed in this thread's own memory block,
/// kept between calls while logins queue: allocating and freeing 19 MiB per login left the
/// allocator holding a block per thread that ever hashed (measured: 500 MiB resident after a
/// minute of logins, before `crate::memory` fixed the mmap threshold). A hashing thread gives the
/// block back a second after its last job ([`release_memory`]): kept for the life of the process,
/// one login made the service hold 20 MiB per hashing thread for good (heaptrack, the drain of
/// `scripts/bench_outbox.py`: 19.9 MiB of its 49 MiB heap peak).
pub fn verify(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; Salt::MAX_LENGTH];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let computed = BLOCKS.with_borrow_mut(|blocks| {
        blocks.resize(params.block_count(), Block::default());
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks[..])
            .is_ok()
    });
    // `Output` compares in constant time.
    computed && Output::new(&out).is_ok_and(|output| output == expected)
}

/// Hashes `password` on the hashing pool.
pub async fn hash_blocking(password: String) -> Result<String, AppError> {
    on_hashing_pool(move || hash(&password)).await?
}

/// Verifies `password` against `hash` on the hashing pool.
pub async fn verify_blocking(password: String, hash: String) -> Result<bool, AppError> {
    on_hashing_pool(move || verify(&password, &hash)).await
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads: as many as the machine has cores, started on first use, shared by every
/// server in the process. Each verifies in its own argon2 memory, kept between jobs while logins
/// keep coming (see [`verify`]), so the pool's memory is bounded by its size, not by the number of
/// callers, and is nothing when nobody signs in.
fn pool() -> &'static Sender<Job> {
    static POOL: OnceLock<Sender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || hashing_thread(&rx))
                .expect("a hashing thread can be started");
        }
        tx
    })
}

/// Bytes of argon2 memory this thread holds.
fn memory_held() -> usize {
    BLOCKS.with_borrow(|blocks| blocks.capacity() * std::mem::size_of::<Block>())
}

/// Gives back this thread's argon2 memory (a 19 MiB block is mapped on its own, so freeing it
/// returns it to the system).
fn release_memory() {
    BLOCKS.with_borrow_mut(|blocks| *blocks = Vec::new());
}

fn hashing_thread(jobs: &Receiver<Job>) {
    lower_priority();
    loop {
        // The memory of the last verification is kept while logins keep coming, and given back
        // once none came for a while (a sequential login took 22-24 ms with it kept, 34-38 ms
        // mapping the block anew every time).
        let job = match jobs.recv_timeout(KEEP_MEMORY) {
            Ok(job) => job,
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                POOL_HELD.fetch_sub(memory_held(), Ordering::Relaxed);
                release_memory();
                match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            }
        };
        let held = memory_held();
        // A job that panics drops its reply (its caller gets a 500); the thread stays, so the
        // pool never shrinks.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        // A block only grows while it is kept.
        POOL_HELD.fetch_add(memory_held() - held, Ordering::Relaxed);
    }
}

/// How long a hashing thread keeps its argon2 memory after its last job.
const KEEP_MEMORY: Duration = Duration::from_secs(1);

/// Lets the scheduler prefer the actix workers and database threads over hashing: a request that
/// needs a millisecond is not left waiting behind a login that needs thirty.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `setpriority` on the calling thread's own id (Linux gives each thread its own
        // nice value); it has no memory effects, and a failure only leaves the default priority.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, 10);
        }
    }
}

async fn on_hashing_pool<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    pool()
        .send(job)
        .map_err(|_| AppError::bug("the password hashing threads have stopped"))?;
    rx.await
        .map_err(|_| AppError::bug("a password hashing job was dropped"))
}

/// A hash of nothing anyone knows, verified against when an email is unknown so that a login for
/// an unknown email costs the same time as one with a wrong password.
pub fn decoy_hash() -> String {
    hash("decoy: there is no account with this email").expect("hashing a constant works")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn verifies_hashes_of_other_parameters_and_rejects_tampering() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut OsRng);
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 2, Some(24)).unwrap(),
        )
        .hash_password(b"older parameters", &salt)
        .unwrap()
        .to_string();
        assert!(verify("older parameters", &other));
        assert!(!verify("older parameter", &other));
        // Then the service's own parameters again, in the same thread's memory.
        let h = hash("after").unwrap();
        assert!(verify("after", &h));
        let mut tampered = h.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(!verify("after", &tampered));
        let no_hash = h.rsplit_once('$').unwrap().0;
        assert!(!verify("after", no_hash));
    }

    #[test]
    fn the_hashing_pool_answers_many_callers() {
        let rt = actix_web::rt::System::new();
        rt.block_on(async {
            let stored = hash_blocking("prayer changes things".into()).await.unwrap();
            let checks: Vec<_> = (0..8)
                .map(|i| {
                    let password = if i % 2 == 0 {
                        "prayer changes things"
                    } else {
                        "wrong"
                    };
                    actix_web::rt::spawn(verify_blocking(password.into(), stored.clone()))
                })
                .collect();
            let mut oks = Vec::new();
            for check in checks {
                oks.push(check.await.unwrap().unwrap());
            }
            assert_eq!(oks, [true, false, true, false, true, false, true, false]);
            // Once the queue is empty, the threads give their argon2 memory back.
            let start = std::time::Instant::now();
            while POOL_HELD.load(Ordering::Relaxed) > 0
                && start.elapsed() < std::time::Duration::from_secs(5)
            {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            assert_eq!(POOL_HELD.load(Ordering::Relaxed), 0);
        });
    }

    #[test]
    fn a_thread_keeps_its_argon2_memory_until_it_releases_it() {
        let h = hash("kept").unwrap();
        assert!(verify("kept", &h));
        assert!(memory_held() >= 19 * 1024 * 1024, "{}", memory_held());
        release_memory();
        assert_eq!(memory_held(), 0);
        assert!(verify("kept", &h), "verifies again after releasing");
    }
}
