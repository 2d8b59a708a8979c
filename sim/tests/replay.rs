//! `ao-sim replay`: a journal reproduces (exit 0), a tampered decision
//! diverges (exit 1), a malformed line names file and line (exit 2).

#![allow(clippy::unwrap_used)]

use ao_core::domain::*;
use ao_core::journal::{effects_digest, JournalEntry};
use ao_core::lcm::{step, ActivitySignal, Event, Input};
use ao_core::time::Timestamp;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ao-sim");

fn journal() -> Vec<JournalEntry> {
    let mut rec = SessionRecord::seeded(
        SessionId::from("s1"),
        ProjectId::from("app"),
        IssueId::from("1"),
        SessionKind::Worker,
        Timestamp(0),
    );
    rec.metadata.spawned_at = Some(Timestamp(0));
    let mut entries = vec![
        JournalEntry::Config {
            overrides: Default::default(),
        },
        JournalEntry::Seed {
            record: rec.clone(),
        },
    ];
    for (i, state) in [
        ActivityState::Active,
        ActivityState::WaitingInput,
        ActivityState::Idle,
    ]
    .into_iter()
    .enumerate()
    {
        let input = Input {
            session: rec.id.clone(),
            at: Timestamp(1_000 * (i as u64 + 1)),
            event: Event::Activity(ActivitySignal {
                state,
                confidence: Confidence::Valid,
                source: ActivitySource::Hook,
            }),
        };
        let d = step(&rec, &input, &ao_core::config::Config::default()).unwrap();
        if let Some(p) = d.patch() {
            rec.apply(p).unwrap();
        }
        entries.push(JournalEntry::Input {
            input,
            effects: effects_digest(&d.effects),
        });
    }
    entries
}

fn write(name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("ao-replay-{}-{name}.jsonl", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn run(path: &std::path::Path) -> std::process::Output {
    Command::new(BIN).arg("replay").arg(path).output().unwrap()
}

#[test]
fn a_journal_reproduces_and_a_tampered_one_diverges() {
    let lines: Vec<String> = journal()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let ok = write("ok", &lines);
    let out = run(&ok);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("idle") && text.contains("every decision matched"),
        "{text}"
    );

    let mut entries = journal();
    if let Some(JournalEntry::Input { effects, .. }) = entries.last_mut() {
        *effects = Fingerprint(effects.0 ^ 1);
    }
    let tampered: Vec<String> = entries
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let bad = write("tampered", &tampered);
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("entry 5"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut broken = lines.clone();
    broken[1] = "{\"kind\": \"seed\"".into();
    let path = write("malformed", &broken);
    let out = run(&path);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:2:", path.display())), "{err}");
    for p in [ok, bad, path] {
        let _ = std::fs::remove_file(p);
    }
}

/// A rotated journal is read across its segments in number order (not name
/// order: segment 1000000 comes after 999999), then the active file; given
/// the data dir or the active file alike.
#[test]
fn a_rotated_journal_replays_across_its_segments() {
    let dir = std::env::temp_dir().join(format!("ao-replay-segments-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let lines: Vec<String> = journal()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let parts = [
        ("journal.999999.jsonl", &lines[..2]),
        ("journal.1000000.jsonl", &lines[2..4]),
        ("journal.jsonl", &lines[4..]),
    ];
    for (name, part) in parts {
        std::fs::write(dir.join(name), part.join("\n") + "\n").unwrap();
    }
    std::fs::write(dir.join("journal.000001.jsonl.tmp"), "not a segment\n").unwrap();
    for target in [dir.clone(), dir.join("journal.jsonl")] {
        let out = run(&target);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("reproduced: 5 entries"), "{text}");
    }
    let read = ao_sim::replay::read(&dir).unwrap();
    assert_eq!(read.entries, journal());
    assert_eq!(
        read.origin(3).unwrap(),
        format!("{}:1", dir.join("journal.1000000.jsonl").display())
    );

    // A divergence names the segment and line it is at.
    let mut tampered = journal();
    if let Some(JournalEntry::Input { effects, .. }) = tampered.get_mut(2) {
        *effects = Fingerprint(effects.0 ^ 1);
    }
    let line = serde_json::to_string(&tampered[2]).unwrap();
    std::fs::write(
        dir.join("journal.1000000.jsonl"),
        format!("{line}\n{}\n", lines[3]),
    )
    .unwrap();
    let out = run(&dir);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("journal.1000000.jsonl:1"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
