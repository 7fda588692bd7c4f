//! Progress of an import or export, reported entity by entity. The HTTP endpoints stay silent;
//! the command line draws a bar on standard error when it is a terminal (serialization.md §6:
//! standard output carries the log only).
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub trait Progress: Send + Sync {
    /// A phase of `total` steps begins.
    fn start(&self, _phase: &'static str, _total: u64) {}
    /// One step of the phase is done; `label` names it (`Card <entity id>`, a file path).
    fn advance(&self, _label: &str) {}
    /// The phase is over (or was stopped).
    fn finish(&self) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}

/// A progress bar on standard error, drawn only when standard error is a terminal.
pub struct TerminalBar {
    bar: ProgressBar,
}

impl TerminalBar {
    pub fn new() -> TerminalBar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        TerminalBar { bar }
    }
}

impl Default for TerminalBar {
    fn default() -> Self {
        TerminalBar::new()
    }
}

impl Progress for TerminalBar {
    fn start(&self, phase: &'static str, total: u64) {
        self.bar.reset();
        self.bar.set_length(total);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {wide_msg}")
        {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_prefix(phase);
    }

    fn advance(&self, label: &str) {
        self.bar.set_message(label.to_string());
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
