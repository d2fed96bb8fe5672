//! Password hashing with argon2id, on a few dedicated threads.
//!
//! Each argon2 hash needs its working memory (19 MiB at the default parameters). Hashed on
//! tokio's blocking pool, every one of up to 512 threads allocated its own, and glibc kept those
//! in per-thread arenas: the process grew to gigabytes after a burst of registrations. Here at
//! most `MAX_THREADS` threads hash, each reusing one buffer, handed back when idle.

use std::{panic::AssertUnwindSafe, sync::OnceLock, thread, time::Duration};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{self, Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng},
};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use hearth_core::{Error, Result};
use tokio::sync::oneshot;

/// The most threads hashing at once (and working memories held), whatever the core count.
const MAX_THREADS: usize = 4;
/// A thread idle this long frees its working memory.
const IDLE_RELEASE: Duration = Duration::from_secs(10);

/// Hash `password` into an argon2id PHC string with a fresh salt.
pub async fn hash(password: String) -> Result<String> {
    run(move |memory| hash_with(memory, password.as_bytes()).map_err(Error::internal)).await?
}

/// Whether `password` matches the stored PHC string. A malformed hash never matches.
pub async fn verify(password: String, phc: String) -> Result<bool> {
    run(move |memory| verify_with(memory, password.as_bytes(), &phc)).await
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Run `f` on a hashing thread with that thread's working memory.
async fn run<T: Send + 'static>(
    f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Result<T> {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move |memory| {
        let _ = tx.send(f(memory));
    });
    pool().send(job).map_err(|_| Error::internal("password hashing threads stopped"))?;
    rx.await.map_err(|_| Error::internal("password hashing failed"))
}

/// The job queue of the hashing threads, started on first use.
fn pool() -> &'static Sender<Job> {
    static POOL: OnceLock<Sender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let threads = thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS);
        for i in 0..threads {
            let rx = rx.clone();
            if let Err(e) =
                thread::Builder::new().name(format!("password-{i}")).spawn(|| worker(rx))
            {
                tracing::error!("cannot start a password hashing thread: {e}");
            }
        }
        tx
    })
}

fn worker(jobs: Receiver<Job>) {
    let mut memory = Vec::new();
    loop {
        match jobs.recv_timeout(IDLE_RELEASE) {
            // A panicking job drops its reply sender: its caller gets an error, the thread lives.
            Ok(job) => drop(std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)))),
            Err(RecvTimeoutError::Timeout) => memory = Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The first `params.block_count()` blocks of `memory`, grown if it is smaller.
fn blocks<'a>(memory: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        *memory = vec![Block::default(); needed];
    }
    &mut memory[..needed]
}

/// The argon2 output of `len` bytes for `password` and `salt`, in `memory`.
fn derive(
    argon2: &Argon2<'_>,
    memory: &mut Vec<Block>,
    password: &[u8],
    salt: password_hash::Salt<'_>,
    len: usize,
) -> password_hash::Result<Output> {
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    Output::init_with(len, |out| {
        let blocks = blocks(memory, argon2.params());
        Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, blocks)?)
    })
}

/// What `PasswordHasher::hash_password` does, with `memory` as the working memory.
fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> password_hash::Result<String> {
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let salt = SaltString::generate(&mut OsRng);
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = derive(&argon2, memory, password, salt.as_salt(), len)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// What `PasswordVerifier::verify_password` does, with `memory` as the working memory: hash
/// `password` with the stored hash's algorithm, parameters and salt, compare in constant time.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    matches(memory, password, phc).unwrap_or(false)
}

fn matches(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> password_hash::Result<bool> {
    let parsed = PasswordHash::new(phc)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return Ok(false) };
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let argon2 = Argon2::new(algorithm, version, params);
    let output = derive(&argon2, memory, password, salt, expected.len())?;
    // `Output`'s equality is constant-time.
    Ok(output == expected)
}

#[cfg(test)]
mod tests {
    use argon2::PasswordHasher;

    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_match_the_crate() {
        let phc = hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse".into(), phc.clone()).await.unwrap());
        assert!(!verify("wrong horse".into(), phc).await.unwrap());
        // Hashes made by the crate's own hasher (as stored before) still verify.
        let salt = SaltString::generate(&mut OsRng);
        let params = Params::new(1024, 1, 1, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"old", &salt)
            .unwrap()
            .to_string();
        assert!(verify("old".into(), theirs.clone()).await.unwrap());
        assert!(!verify("new".into(), theirs).await.unwrap());
    }

    #[tokio::test]
    async fn malformed_hashes_never_match() {
        for phc in ["", "not a hash", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ", "$bcrypt$x"] {
            assert!(!verify("pw".into(), phc.into()).await.unwrap(), "{phc}");
        }
    }
}
