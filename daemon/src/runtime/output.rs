//! An agent's captured output, kept in a bounded file: the process runtime
//! sends the agent's stdout and stderr through a pipe to a small writer
//! process (`ao capture-output`, in the agent's process group, so it outlives
//! a daemon restart like the agent does and dies with it) that appends to
//! `<handle>.log`; when the file would pass its bound, it becomes
//! `<handle>.log.1` (replacing the one before) and a new file begins. At
//! most twice the bound is kept per agent, and nothing is lost while the
//! daemon is down. Reading takes the last lines of both files.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The default bound of one output file (8 MiB; two are kept).
pub const DEFAULT_LIMIT: u64 = 8 * 1024 * 1024;

/// The hidden `ao` subcommand that runs the writer.
pub const CAPTURE_COMMAND: &str = "capture-output";

/// How far past its bound a file may grow to end with a whole line.
const LINE_SLACK: u64 = 64 * 1024;

/// The most bytes read from the end of the files to find the last lines.
const TAIL_BYTES: u64 = 1024 * 1024;

/// How the process runtime bounds an agent's output: the program that runs
/// the writer (the `ao` binary) and the bound of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    /// The `ao` binary (it runs `ao capture-output`).
    pub program: PathBuf,
    /// The bound of one output file in bytes.
    pub limit: u64,
}

impl Capture {
    /// The running `ao` binary as the writer, with the default bound.
    /// On Linux `/proc/self/exe`, so a binary rebuilt while the daemon runs
    /// still starts writers (the path of a replaced binary no longer runs).
    pub fn this_binary() -> std::io::Result<Capture> {
        let program = if cfg!(target_os = "linux") {
            PathBuf::from("/proc/self/exe")
        } else {
            std::env::current_exe()?
        };
        Ok(Capture {
            program,
            limit: DEFAULT_LIMIT,
        })
    }

    /// The writer's arguments for the log at `log`.
    pub fn args(&self, log: &Path) -> Vec<std::ffi::OsString> {
        vec![
            CAPTURE_COMMAND.into(),
            "--max-bytes".into(),
            self.limit.to_string().into(),
            log.as_os_str().to_owned(),
        ]
    }
}

/// The file a full output file is moved to.
pub fn previous(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// The writer: copies `input` to `log` until end of input, moving a full
/// file to [`previous`] first (once its last line is whole). A write error (a full disk) drops output
/// but keeps reading, so the agent never blocks on, or dies of, its output.
pub fn capture(log: &Path, limit: u64, mut input: impl Read) -> std::io::Result<()> {
    let mut file = open_append(log)?;
    let mut size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut chunk = &buf[..n];
        let newline = chunk.iter().position(|b| *b == b'\n');
        // Files start with whole lines: a full file takes the rest of its
        // line first (a line longer than `LINE_SLACK` is cut).
        let full = size + n as u64 > limit;
        if size > 0 && full && (newline.is_some() || size > limit + LINE_SLACK) {
            if let Some(nl) = newline {
                if file.write_all(&chunk[..=nl]).is_ok() {
                    chunk = &chunk[nl + 1..];
                }
            }
            if let Ok(f) = std::fs::rename(log, previous(log)).and_then(|()| open_append(log)) {
                file = f;
                size = 0;
            }
        }
        if file.write_all(chunk).is_ok() {
            size += chunk.len() as u64;
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// The last `lines` lines of the captured output (both files, oldest first,
/// at most the last MiB of it), without a trailing empty line.
pub fn last_lines(log: &Path, lines: usize) -> std::io::Result<Vec<String>> {
    let mut bytes = tail_of(log, TAIL_BYTES)?;
    let missing = TAIL_BYTES.saturating_sub(bytes.len() as u64);
    if missing > 0 {
        let mut older = tail_of(&previous(log), missing)?;
        older.append(&mut bytes);
        bytes = older;
    }
    // Cut at the bound: the first line may be the end of a longer one.
    let cut = bytes.len() as u64 >= TAIL_BYTES;
    let text = String::from_utf8_lossy(&bytes);
    let mut all: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(&text)
        .split('\n')
        .collect();
    if cut && all.len() > 1 {
        all.remove(0);
    }
    if all.len() == 1 && all[0].is_empty() {
        return Ok(Vec::new());
    }
    let skip = all.len().saturating_sub(lines);
    Ok(all[skip..].iter().map(|l| (*l).to_owned()).collect())
}

/// The last `max` bytes of a file (nothing if it does not exist).
fn tail_of(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max);
    file.seek(SeekFrom::Start(start))?;
    let mut out = Vec::with_capacity(usize::try_from(len - start).unwrap_or(0));
    file.read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ao-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_writer_keeps_at_most_two_files_of_its_bound() {
        let d = dir("bound");
        let log = d.join("a.log");
        let input: Vec<u8> = (0..10_000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        // One byte at a time is the worst case for the bound.
        struct Slow<'a>(&'a [u8]);
        impl Read for Slow<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(7);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        capture(&log, 4096, Slow(&input)).unwrap();
        let now = std::fs::metadata(&log).unwrap().len();
        let before = std::fs::metadata(previous(&log)).unwrap().len();
        // Over by at most the rest of a line.
        assert!(now <= 4096 + 32 && before <= 4096 + 32, "{now} {before}");
        let last = last_lines(&log, 3).unwrap();
        assert_eq!(last, ["line 9997", "line 9998", "line 9999"]);
        // The newest lines are complete across the two files.
        let many = last_lines(&log, 300).unwrap();
        let expected: Vec<String> = (9700..10_000).map(|i| format!("line {i}")).collect();
        assert_eq!(many, expected);
        // Every file starts with a whole line.
        let older = std::fs::read_to_string(previous(&log)).unwrap();
        assert!(older.starts_with("line "), "{}", &older[..20]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn no_output_is_no_lines() {
        let d = dir("empty");
        assert!(last_lines(&d.join("none.log"), 10).unwrap().is_empty());
        std::fs::write(d.join("e.log"), "").unwrap();
        assert!(last_lines(&d.join("e.log"), 10).unwrap().is_empty());
        std::fs::write(d.join("p.log"), "partial").unwrap();
        assert_eq!(last_lines(&d.join("p.log"), 10).unwrap(), ["partial"]);
        let _ = std::fs::remove_dir_all(&d);
    }
}
