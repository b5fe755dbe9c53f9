//! Where reports go: the files (or stdout) a run writes, and the live side of a run
//! (the progress bar and the NDJSON stream, fed by the runner's `on_result` hook).
//! The writers themselves stay pure; this module is the IO around them.

use super::{CheckResult, Report, html, json, junit, markdown, ndjson, redact, sarif};
use crate::baseline::Baseline;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A pure report writer.
pub type Writer = fn(&Report) -> String;

/// The runner's `on_result` hook.
pub type ResultHook = Arc<dyn Fn(&CheckResult, usize) + Send + Sync>;

/// The report files a run writes; `-` is stdout (at most one may be).
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub json: Option<String>,
    pub junit: Option<String>,
    pub markdown: Option<String>,
    pub html: Option<String>,
    pub sarif: Option<String>,
    pub ndjson: Option<String>,
}

impl Outputs {
    fn all(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("--json", &self.json),
            ("--junit", &self.junit),
            ("--markdown", &self.markdown),
            ("--html", &self.html),
            ("--sarif", &self.sarif),
            ("--ndjson", &self.ndjson),
        ]
    }

    /// A usage error when more than one output claims stdout.
    pub fn check(&self) -> Result<(), String> {
        let to_stdout: Vec<&str> = self.all().iter().filter(|(_, p)| p.as_deref() == Some("-")).map(|(f, _)| *f).collect();
        if to_stdout.len() > 1 {
            return Err(format!("only one report can go to stdout (`-`): {}", to_stdout.join(", ")));
        }
        Ok(())
    }

    /// Whether some report is written to stdout (then the summary goes to stderr).
    pub fn stdout_taken(&self) -> bool {
        self.all().iter().any(|(_, p)| p.as_deref() == Some("-"))
    }

    /// Write every requested report but the NDJSON stream (written live).
    pub fn write(&self, report: &Report) -> Result<(), String> {
        // The JSON report (the largest: every transcript) is streamed, never held whole.
        if let Some(path) = &self.json {
            write_stream(path, |w| json::write_to(report, w))?;
        }
        let writers: [(&Option<String>, Writer); 4] = [
            (&self.junit, junit::to_string),
            (&self.markdown, markdown::to_string),
            (&self.html, html::to_string),
            (&self.sarif, sarif::to_string),
        ];
        for (path, write) in writers {
            if let Some(path) = path {
                write_out(path, &write(report))?;
            }
        }
        Ok(())
    }
}

/// Write `text` to `path` (creating its directory), or to stdout for `-`.
pub fn write_out(path: &str, text: &str) -> Result<(), String> {
    write_stream(path, |w| w.write_all(text.as_bytes()))
}

/// Write what `fill` produces to `path` (creating its directory), or to stdout for `-`,
/// through a buffer: a large report is never held in memory as one string.
pub fn write_stream(path: &str, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), String> {
    if path == "-" {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        fill(&mut out).and_then(|_| out.flush()).map_err(|e| format!("cannot write to stdout: {e}"))
    } else {
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file = std::fs::File::create(path).map_err(|e| format!("cannot write {path}: {e}"))?;
        let mut out = std::io::BufWriter::new(file);
        fill(&mut out).and_then(|_| out.flush()).map_err(|e| format!("cannot write {path}: {e}"))
    }
}

/// Colour for a stream: only on a terminal, and never with `NO_COLOR` set (non-empty).
pub fn color_wanted(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Runs shorter than this never show a progress bar.
pub const PROGRESS_AFTER: Duration = Duration::from_millis(1500);

/// The live side of a run: a progress bar on stderr (only when stderr is a terminal
/// and the run lasts longer than [`PROGRESS_AFTER`]) and the NDJSON stream.
pub struct Live {
    bar: Option<ProgressBar>,
    shown: std::sync::atomic::AtomicBool,
    done: AtomicUsize,
    failed: AtomicUsize,
    started: Instant,
    ndjson: Option<Mutex<Box<dyn Write + Send>>>,
    ndjson_error: Mutex<Option<String>>,
    baseline: Option<Arc<Baseline>>,
    secrets: Vec<String>,
}

impl Live {
    /// `progress`: whether a bar may be shown (stderr is a terminal).
    pub fn new(progress: bool, ndjson: Option<&str>, baseline: Option<Arc<Baseline>>, secrets: Vec<String>) -> Result<Live, String> {
        let ndjson: Option<Box<dyn Write + Send>> = match ndjson {
            None => None,
            Some("-") => Some(Box::new(std::io::stdout())),
            Some(path) => {
                if let Some(dir) = std::path::Path::new(path).parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                }
                let f = std::fs::File::create(path).map_err(|e| format!("cannot write {path}: {e}"))?;
                Some(Box::new(std::io::LineWriter::new(f)))
            }
        };
        let bar = progress.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template("{elapsed:>4} [{bar:32}] {pos}/{len} {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        Ok(Live {
            bar,
            shown: Default::default(),
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            started: Instant::now(),
            ndjson: ndjson.map(Mutex::new),
            ndjson_error: Mutex::new(None),
            baseline,
            secrets,
        })
    }

    /// The runner's `on_result` hook.
    pub fn hook(self: &Arc<Self>) -> ResultHook {
        let me = self.clone();
        Arc::new(move |r: &CheckResult, total: usize| me.on_result(r, total))
    }

    fn on_result(&self, r: &CheckResult, total: usize) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if r.status.fails_run() {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("{} failed · {}", self.failed.load(Ordering::SeqCst), r.trial_name()));
            if self.started.elapsed() >= PROGRESS_AFTER && done < total && !self.shown.swap(true, Ordering::SeqCst) {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
        if let Some(out) = &self.ndjson {
            let mut r = r.clone();
            redact::result(&mut r, &self.secrets);
            if let Some(b) = &self.baseline {
                b.classify(&mut r);
            }
            let mut w = out.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = w.write_all(ndjson::result_line(&r).as_bytes()).and_then(|_| w.flush()) {
                self.ndjson_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e.to_string());
            }
        }
    }

    /// The run is over: clear the bar, close the NDJSON stream with its summary line.
    pub fn finish(&self, report: Option<&Report>) -> Result<(), String> {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let (Some(out), Some(report)) = (&self.ndjson, report) {
            let mut w = out.lock().unwrap_or_else(|p| p.into_inner());
            w.write_all(ndjson::summary_line(report).as_bytes())
                .and_then(|_| w.flush())
                .map_err(|e| format!("cannot write the NDJSON stream: {e}"))?;
        }
        match self.ndjson_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(e) => Err(format!("cannot write the NDJSON stream: {e}")),
            None => Ok(()),
        }
    }
}

/// Whether stderr is a terminal (where the progress bar may show).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
