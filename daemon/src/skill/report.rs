//! Collecting every problem of one file, each located by its key path.

use skilld_proto::skill::{Problem, Severity};

use super::locate::line_of;

/// Problems found in one file (`SKILL.md` or `skill.yaml`).
pub struct FileReport<'a> {
    file: &'static str,
    /// The YAML text keys are looked up in.
    yaml: &'a str,
    /// Line of the file where `yaml` starts, minus one.
    offset: u32,
    pub problems: Vec<Problem>,
}

impl<'a> FileReport<'a> {
    pub fn new(file: &'static str, yaml: &'a str, offset: u32) -> FileReport<'a> {
        FileReport {
            file,
            yaml,
            offset,
            problems: Vec::new(),
        }
    }

    /// The file's line of the key at `path`.
    pub fn line(&self, path: &[&str]) -> Option<u32> {
        line_of(self.yaml, path).map(|l| l + self.offset)
    }

    pub fn push(
        &mut self,
        severity: Severity,
        path: &[&str],
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let line = if path.is_empty() {
            None
        } else {
            self.line(path)
        };
        self.problems.push(Problem {
            severity,
            file: self.file.to_string(),
            line,
            field: path.join("."),
            message: message.into(),
            hint: hint.into(),
        });
    }

    pub fn error(&mut self, path: &[&str], message: impl Into<String>, hint: impl Into<String>) {
        self.push(Severity::Error, path, message, hint);
    }

    /// A problem at an explicit line (syntax errors).
    pub fn error_at(
        &mut self,
        line: Option<u32>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.problems.push(Problem {
            severity: Severity::Error,
            file: self.file.to_string(),
            line,
            field: String::new(),
            message: message.into(),
            hint: hint.into(),
        });
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// Name of a YAML value's type, for messages.
pub fn type_name(value: &serde_norway::Value) -> &'static str {
    match value {
        serde_norway::Value::Null => "null",
        serde_norway::Value::Bool(_) => "a boolean",
        serde_norway::Value::Number(_) => "a number",
        serde_norway::Value::String(_) => "a string",
        serde_norway::Value::Sequence(_) => "a list",
        serde_norway::Value::Mapping(_) => "a mapping",
        serde_norway::Value::Tagged(_) => "a tagged value",
    }
}

/// A YAML parser message with its "line N" positions moved by `offset`, so
/// they count lines of the whole file rather than of the frontmatter.
pub fn shift_lines(message: &str, offset: u32) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("line ") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<u32>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn shift_lines_moves_every_position() {
        assert_eq!(
            super::shift_lines(
                "bad at line 3 column 1, while parsing at line 2 column 14",
                1
            ),
            "bad at line 4 column 1, while parsing at line 3 column 14"
        );
        assert_eq!(super::shift_lines("no position", 5), "no position");
    }
}
