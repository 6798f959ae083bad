//! How long work tells a person how it is going. The library never prints: the demo and the
//! benches report through a [`Progress`] that the front end hands them (`src/cli/progress.rs` draws
//! a progress bar and prints the lines).

/// Lines to show and, optionally, a count of items done out of a total.
pub trait Progress: Send + Sync {
    /// One line for the person watching.
    fn say(&self, line: &str);
    /// Work of `total` items starts (a bar may appear).
    fn start(&self, _what: &str, _total: u64) {}
    /// `done` of the started work's items are done.
    fn set(&self, _done: u64) {}
    /// The started work ended (a bar disappears).
    fn finish(&self) {}
}
