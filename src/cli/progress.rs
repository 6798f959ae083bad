//! The terminal's [`Progress`]: lines on stdout (or stderr for the benches), and a progress bar
//! for counted work when stdout is a terminal.

use std::sync::Mutex;

use etprox::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

pub struct Terminal {
    to_stderr: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Terminal {
    /// Lines to stdout (the demo: its output is the show).
    #[cfg(feature = "demo")]
    pub fn stdout() -> Terminal {
        Terminal {
            to_stderr: false,
            bar: Mutex::new(None),
        }
    }

    /// Lines to stderr (benches: stdout keeps only the results).
    pub fn stderr() -> Terminal {
        Terminal {
            to_stderr: true,
            bar: Mutex::new(None),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        if let Ok(mut bar) = self.bar.lock() {
            f(&mut bar);
        }
    }
}

impl Progress for Terminal {
    fn say(&self, line: &str) {
        let mut shown = false;
        self.with_bar(|bar| {
            if let Some(bar) = bar.as_ref().filter(|b| !b.is_hidden()) {
                bar.println(line);
                shown = true;
            }
        });
        match (shown, self.to_stderr) {
            (true, _) => {}
            (false, true) => eprintln!("{line}"),
            (false, false) => println!("{line}"),
        }
    }

    fn start(&self, what: &str, total: u64) {
        let new = ProgressBar::new(total);
        let template = format!("{what} {{bar:30}} {{pos}}/{{len}} {{msg}}");
        new.set_style(
            ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        self.with_bar(|bar| *bar = Some(new));
    }

    fn set(&self, done: u64) {
        self.with_bar(|bar| {
            if let Some(bar) = bar {
                bar.set_position(done);
            }
        });
    }

    fn finish(&self) {
        self.with_bar(|bar| {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
        });
    }
}
