//! Where log lines go: gathered in memory and written out by one thread, a batch at a time.
//!
//! tracing-appender's non-blocking writer hands each line to its thread through a channel: a
//! wake-up (`futex`) per line, its thread spinning in `sched_yield` for the next one, and a
//! `write(2)` per line whenever the channel ran dry, which under load it did after nearly every
//! line (strace, GET by id at 64 connections: one `write` per request). Here the first line into
//! an empty buffer wakes the log thread, which then waits [`GATHER`] for more and writes them all
//! at once: under load a few wake-ups and writes a second instead of thousands.
//!
//! No line is ever dropped: when the log thread cannot keep up and the buffer reaches
//! [`HIGH_WATER`], the thread that logs writes the buffer itself (and waits for the output). A
//! line reaches the output within about [`GATHER`], and all of them when the guard is dropped.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the log thread gathers lines after the first one before writing them.
const GATHER: Duration = Duration::from_millis(50);

/// Beyond this many bytes waiting, the thread that logs writes them out itself.
const HIGH_WATER: usize = 1024 * 1024;

/// The writer the subscriber logs through (cheap to clone: a handle).
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

/// Writes out what is waiting, and stops the log thread, when dropped.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    waiting: Mutex<Waiting>,
    wake: Condvar,
    output: Mutex<Box<dyn Write + Send>>,
}

#[derive(Default)]
struct Waiting {
    lines: Vec<u8>,
    closed: bool,
}

/// A poisoned lock only means another thread panicked while logging; the bytes are still good.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl BatchedWriter {
    /// Starts the log thread, writing to `output`.
    pub fn start(output: impl Write + Send + 'static) -> (BatchedWriter, FlushGuard) {
        let shared = Arc::new(Shared {
            waiting: Mutex::new(Waiting::default()),
            wake: Condvar::new(),
            output: Mutex::new(Box::new(output)),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("log".into())
            .spawn(move || worker.run())
            .expect("the log thread starts");
        (
            BatchedWriter {
                shared: shared.clone(),
            },
            FlushGuard {
                shared,
                thread: Some(thread),
            },
        )
    }
}

impl Shared {
    /// The log thread: sleeps while nothing waits, gathers for [`GATHER`] after the first line.
    fn run(&self) {
        loop {
            let closed = {
                let mut waiting = lock(&self.waiting);
                while waiting.lines.is_empty() && !waiting.closed {
                    waiting = self
                        .wake
                        .wait(waiting)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                waiting.closed
            };
            if !closed {
                std::thread::sleep(GATHER);
            }
            self.write_out();
            if closed {
                return;
            }
        }
    }

    /// Writes everything waiting, in order: the output lock is taken before the lines, so two
    /// writers cannot swap their batches.
    fn write_out(&self) {
        let mut output = lock(&self.output);
        let lines = std::mem::take(&mut lock(&self.waiting).lines);
        if !lines.is_empty() {
            // Nowhere to report a failing stderr; the lines are lost, the service goes on.
            let _ = output.write_all(&lines);
            let _ = output.flush();
        }
    }

    fn append(&self, line: &[u8]) {
        let (first, full) = {
            let mut waiting = lock(&self.waiting);
            let first = waiting.lines.is_empty();
            waiting.lines.extend_from_slice(line);
            (first, waiting.lines.len() >= HIGH_WATER)
        };
        if first {
            self.wake.notify_one();
        }
        if full {
            self.write_out();
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        lock(&self.shared.waiting).closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // Lines logged after the log thread stopped.
        self.shared.write_out();
    }
}

impl Write for BatchedWriter {
    /// The subscriber writes each event whole, in one call.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.shared.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedWriter {
    type Writer = BatchedWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::telemetry::captured::Captured;

    #[test]
    fn every_line_of_every_thread_arrives_whole_and_in_its_thread_order() {
        let output = Captured::default();
        let (writer, guard) = BatchedWriter::start(output.clone());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        writer
                            .write_all(format!("thread {t} line {i}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = output.text();
        assert_eq!(text.lines().count(), 20_000);
        for t in 0..4 {
            let prefix = format!("thread {t} line ");
            let order: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(&prefix))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(order, (0..5_000).collect::<Vec<_>>(), "thread {t}");
        }
        // Gathered: far fewer writes than lines.
        assert!(*output.writes.lock().unwrap() < 2_000);
    }

    #[test]
    fn a_line_reaches_the_output_without_waiting_for_the_guard() {
        let output = Captured::default();
        let (mut writer, _guard) = BatchedWriter::start(output.clone());
        writer.write_all(b"one line\n").unwrap();
        let started = Instant::now();
        while output.text().is_empty() {
            assert!(started.elapsed() < Duration::from_secs(10), "never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(output.text(), "one line\n");
    }

    #[test]
    fn past_the_high_water_mark_the_thread_that_logs_writes_it_out() {
        let output = Captured::default();
        let (mut writer, guard) = BatchedWriter::start(output.clone());
        let line = vec![b'x'; HIGH_WATER];
        writer.write_all(&line).unwrap();
        // Written by this thread before `write_all` returned, not after the gathering pause.
        assert_eq!(output.bytes.lock().unwrap().len(), HIGH_WATER);
        writer.write_all(b"\n").unwrap();
        drop(guard);
        assert_eq!(output.bytes.lock().unwrap().len(), HIGH_WATER + 1);
    }
}
