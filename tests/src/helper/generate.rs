//! Deterministic skills of a given size for benchmarks.

use std::path::Path;

/// xorshift64*: the same bytes on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

const WORDS: &[&str] = &[
    "skill", "agent", "review", "the", "code", "when", "user", "asks", "run", "script", "check",
    "output", "and", "report", "findings", "with", "line", "numbers", "use", "tool", "read",
    "file", "before", "editing", "a",
];

/// A skill named `name` of `files` files adding up to about `total` bytes:
/// four in five text (markdown-like, compressible), one in five random bytes.
pub fn skill(dir: &Path, name: &str, files: usize, total: usize) {
    let mut rng = Rng(0x5eed);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        format!("---\nname: {name}\ndescription: A generated skill for benchmarks.\nmetadata:\n  version: \"1.0.0\"\n---\n# Bench\n"),
    )
    .unwrap();
    let per_file = total / files;
    for i in 1..files {
        let sub = dir.join(format!("part{:02}", i % 20));
        std::fs::create_dir_all(&sub).unwrap();
        let mut data = Vec::with_capacity(per_file);
        if i.is_multiple_of(5) {
            while data.len() < per_file {
                data.extend_from_slice(&rng.next_u64().to_le_bytes());
            }
        } else {
            while data.len() < per_file {
                data.extend_from_slice(
                    WORDS[(rng.next_u64() % WORDS.len() as u64) as usize].as_bytes(),
                );
                data.push(if rng.next_u64().is_multiple_of(12) {
                    b'\n'
                } else {
                    b' '
                });
            }
        }
        data.truncate(per_file);
        std::fs::write(sub.join(format!("file{i:04}.md")), data).unwrap();
    }
}

/// A skill named `name` of `files` text files adding up to about `total`
/// bytes of real prose and code: each file the lines of one of the benign
/// public skills' files under `testdata/benign` (English instructions,
/// shell, Python), drawn in a deterministic random order (so a file holds
/// together only what one real file held: a rule that wants two things in
/// one file finds what it finds in the original). The text a scan meets
/// in real skills, where common words ("write", "go", "all") start many
/// patterns.
pub fn prose(dir: &Path, name: &str, files: usize, total: usize) {
    let mut sources: Vec<Vec<String>> = Vec::new();
    let mut stack = vec![super::tools::testdata().join("benign")];
    while let Some(at) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&at).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                let lines: Vec<String> = text
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect();
                if !lines.is_empty() {
                    sources.push(lines);
                }
            }
        }
    }
    assert!(!sources.is_empty(), "no text under testdata/benign");
    let mut rng = Rng(0x9e37);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        format!("---\nname: {name}\ndescription: Generated prose for benchmarks.\n---\n# Prose\n"),
    )
    .unwrap();
    let per_file = total / files;
    for i in 1..files {
        let sub = dir.join(format!("part{:02}", i % 20));
        std::fs::create_dir_all(&sub).unwrap();
        let lines = &sources[(rng.next_u64() % sources.len() as u64) as usize];
        let mut data = String::with_capacity(per_file + 200);
        while data.len() < per_file {
            data.push_str(&lines[(rng.next_u64() % lines.len() as u64) as usize]);
            data.push('\n');
        }
        std::fs::write(sub.join(format!("file{i:04}.md")), data).unwrap();
    }
}
