//! Finding the line of a key in block-style YAML text, so a problem found in
//! a parsed value can still point at the line the author has to edit.
//!
//! The YAML parser gives positions for syntax errors but values carry none;
//! this looks the key up by indentation, which is how skill authors write
//! frontmatter and SkillCards. When a key cannot be found the problem simply
//! has no line.

/// 1-based line of the key at `path` (e.g. `["metadata", "version"]`).
pub fn line_of(text: &str, path: &[&str]) -> Option<u32> {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0usize;
    let mut parent_indent: Option<usize> = None;
    let mut found = None;
    for key in path {
        found = None;
        for (i, line) in lines.iter().enumerate().skip(start) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            if let Some(parent) = parent_indent
                && indent <= parent
            {
                break; // left the parent's block
            }
            if is_key(trimmed, key) {
                found = Some((i, indent));
                break;
            }
        }
        let (line, indent) = found?;
        start = line + 1;
        parent_indent = Some(indent);
    }
    found.map(|(line, _)| line as u32 + 1)
}

fn is_key(trimmed: &str, key: &str) -> bool {
    let trimmed = trimmed.strip_prefix("- ").unwrap_or(trimmed);
    for quoted in [key.to_string(), format!("\"{key}\""), format!("'{key}'")] {
        if let Some(rest) = trimmed.strip_prefix(&quoted)
            && (rest.starts_with(':'))
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: a\nmetadata:\n  # comment\n  version: 1\n  name: inner\ndescription: d\nspec:\n  examples:\n    - input: x\n      output: y\n";

    #[test]
    fn finds_top_level_and_nested_keys() {
        assert_eq!(line_of(TEXT, &["name"]), Some(1));
        assert_eq!(line_of(TEXT, &["metadata"]), Some(2));
        assert_eq!(line_of(TEXT, &["metadata", "version"]), Some(4));
        assert_eq!(line_of(TEXT, &["metadata", "name"]), Some(5));
        assert_eq!(line_of(TEXT, &["description"]), Some(6));
        assert_eq!(line_of(TEXT, &["spec", "examples", "output"]), Some(10));
    }

    #[test]
    fn does_not_leave_the_parent_block() {
        assert_eq!(line_of(TEXT, &["metadata", "description"]), None);
        assert_eq!(line_of(TEXT, &["missing"]), None);
    }
}
