//! What the checks share: reading fuzz bytes as text or as fields, the assertion that a rejection
//! says what was wrong, and a runtime for the parsers that are async.

use std::cell::RefCell;
use std::future::Future;

/// The input as text. Invalid UTF-8 is replaced (U+FFFD) rather than skipped, so that every input
/// reaches the parser; the parsers that take bytes get the bytes themselves.
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The first line (without its `\n` or `\r\n`) and the rest, for inputs that carry a small header
/// (a key, a secret) before the document itself. Without a newline, all of it is the first line.
pub fn first_line(data: &[u8]) -> (String, &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => {
            let line = &data[..at];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (text(line), &data[at + 1..])
        }
        None => (text(data), &[]),
    }
}

/// Asserts that a rejection is a typed error that says something: its text is not empty, and it
/// contains each of `names` (what the error must name: a key, a setting, a path).
pub fn rejected<E: std::fmt::Display + ?Sized>(target: &str, error: &E, names: &[&str]) {
    let message = error.to_string();
    assert!(!message.trim().is_empty(), "{target}: a rejection with an empty message");
    for name in names {
        assert!(message.contains(name), "{target}: the rejection {message:?} does not name {name:?}");
    }
}

thread_local! {
    /// One runtime per thread, built once: a fuzzer runs millions of inputs.
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Runs an async parser to completion on this thread's runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let runtime = slot.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a current-thread runtime")
        });
        runtime.block_on(future)
    })
}

/// For the checks of readers that turn a panic deep in a third-party decoder into a typed error
/// (`catch_unwind`, as the predictions adapter does for the Parquet reader): libfuzzer-sys installs
/// a panic hook that aborts even on a panic that is caught, which would report the handled case as
/// a crash. This puts the default hook back, once. A panic that is not caught still ends the input
/// as a crash: libfuzzer-sys aborts on it after unwinding.
pub fn caught_panics_are_handled() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = std::panic::take_hook();
    });
}
